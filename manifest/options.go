package manifest

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Options are the per-deployment values of the app package. Only AppID,
// BotID, Version and Domain are required; the rest have product defaults
// (see WithDefaults).
type Options struct {
	// AppID is the Teams app id (manifest "id"), a GUID. It must stay the
	// same across versions, otherwise Teams treats an upload as a new app.
	AppID string
	// BotID is the Microsoft App ID of the Azure Bot (MicrosoftAppId), a GUID.
	// It is also the Entra app used for SSO and Graph.
	BotID string
	// Version is the app version, MAJOR.MINOR.PATCH without leading zeros.
	// Teams only accepts an update whose version is higher.
	Version string
	// Domain is the public host name of the service (no scheme, port or path),
	// e.g. "multiline.example.com". The tab is served at https://<Domain>/tab/.
	Domain string

	// ShortName is the app name shown in Teams (≤ 30 characters).
	ShortName string
	// FullName is the long app name (≤ 100 characters).
	FullName string
	// ShortDescription is shown where space is limited (≤ 80 characters).
	ShortDescription string
	// FullDescription is shown on the app's details page (≤ 4000 characters).
	FullDescription string

	// DeveloperName is the publisher shown to users (≤ 32 characters).
	DeveloperName string
	// WebsiteURL, PrivacyURL and TermsURL are the publisher's https pages.
	WebsiteURL string
	// PrivacyURL is the privacy statement page.
	PrivacyURL string
	// TermsURL is the terms of use page.
	TermsURL string

	// SSOResource is the Application ID URI of the Entra app exposing the
	// access_as_user scope; it defaults to api://<Domain>/<BotID>, the form
	// Teams requires for tab SSO.
	SSOResource string
}

// Product defaults used when an Options field is left empty.
const (
	DefaultShortName        = "MultiLine"
	DefaultFullName         = "MultiLine for WeChat"
	DefaultShortDescription = "Chat with your WeChat contacts from Microsoft Teams."
	DefaultFullDescription  = "MultiLine lets employees answer consumers who write to the company on WeChat without leaving Microsoft Teams. " +
		"Open the MultiLine tab to see your WeChat threads, reply, queue messages while a chat is inactive, add colleagues or leave a conversation. " +
		"The MultiLine bot notifies you of new WeChat messages in a 1:1 chat where you can answer directly."
	DefaultDeveloperName = "MultiLine"
)

// FieldError reports one invalid option. Field is the option's name as the
// command line spells it, so the message tells an admin what to fix.
type FieldError struct {
	Field   string
	Value   string
	Problem string
}

// Error implements error as a single line.
func (e *FieldError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.Field, e.Value, e.Problem)
}

// ErrInvalidOptions is matched by every FieldError, so callers can tell a
// configuration problem from an internal failure with errors.Is.
var ErrInvalidOptions = errors.New("invalid manifest options")

// Is makes errors.Is(err, ErrInvalidOptions) true for a *FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidOptions }

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$`)
	semverRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	labelRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// WithDefaults returns o with empty optional fields set to the product
// defaults. The domain is lower-cased because Teams compares it that way.
func (o Options) WithDefaults() Options {
	o.Domain = strings.ToLower(strings.TrimSpace(o.Domain))
	o.AppID = strings.ToLower(strings.TrimSpace(o.AppID))
	o.BotID = strings.ToLower(strings.TrimSpace(o.BotID))
	def := func(s *string, v string) {
		if strings.TrimSpace(*s) == "" {
			*s = v
		}
	}
	def(&o.ShortName, DefaultShortName)
	def(&o.FullName, DefaultFullName)
	def(&o.ShortDescription, DefaultShortDescription)
	def(&o.FullDescription, DefaultFullDescription)
	def(&o.DeveloperName, DefaultDeveloperName)
	if o.Domain != "" {
		def(&o.WebsiteURL, "https://"+o.Domain+"/")
		def(&o.PrivacyURL, "https://"+o.Domain+"/privacy")
		def(&o.TermsURL, "https://"+o.Domain+"/terms")
		if o.BotID != "" {
			def(&o.SSOResource, "api://"+o.Domain+"/"+o.BotID)
		}
	}
	return o
}

// Validate checks o after defaults are applied and returns the first
// problem as a *FieldError. Limits are those of the v1.30 schema, so a
// package that passes here also passes Microsoft's validator.
func (o Options) Validate() error {
	o = o.WithDefaults()
	// The bot id comes first: the default app id is derived from it.
	if !guidRE.MatchString(o.BotID) {
		return &FieldError{"bot-id", o.BotID, "must be a GUID: the Microsoft App ID (client id) of the Azure Bot's Entra app registration"}
	}
	if !guidRE.MatchString(o.AppID) {
		return &FieldError{"app-id", o.AppID, "must be a GUID such as 3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21 (the Teams app id; keep it the same for every version)"}
	}
	if !semverRE.MatchString(o.Version) {
		return &FieldError{"version", o.Version, "must be MAJOR.MINOR.PATCH with numbers only, e.g. 1.0.0 (Teams rejects pre-release suffixes and leading zeros)"}
	}
	if err := validateDomain(o.Domain); err != nil {
		return err
	}
	texts := []struct {
		field, value string
		max          int
	}{
		{"name", o.ShortName, 30},
		{"full-name", o.FullName, 100},
		{"short-description", o.ShortDescription, 80},
		{"full-description", o.FullDescription, 4000},
		{"developer", o.DeveloperName, 32},
	}
	for _, t := range texts {
		if n := utf8.RuneCountInString(t.value); n > t.max {
			return &FieldError{t.field, t.value, fmt.Sprintf("is %d characters; Teams allows at most %d", n, t.max)}
		}
	}
	for _, u := range []struct{ field, value string }{
		{"website-url", o.WebsiteURL}, {"privacy-url", o.PrivacyURL}, {"terms-url", o.TermsURL},
	} {
		if !strings.HasPrefix(u.value, "https://") || len(u.value) <= len("https://") || len(u.value) > 2048 {
			return &FieldError{u.field, u.value, "must be an https:// URL"}
		}
	}
	if !strings.HasPrefix(o.SSOResource, "api://") || !strings.HasSuffix(o.SSOResource, "/"+o.BotID) {
		return &FieldError{"sso-resource", o.SSOResource, "must be the Application ID URI api://<domain>/<bot-id> of the bot's Entra app"}
	}
	return nil
}

// validateDomain accepts a public DNS host name only: Teams loads tabs over
// https on port 443 from validDomains, which hold bare host names.
func validateDomain(d string) error {
	const field = "domain"
	switch {
	case d == "":
		return &FieldError{field, d, "is required: the public host name of the service, e.g. multiline.example.com (from MULTILINE_PUBLIC_URL)"}
	case strings.Contains(d, "://"):
		return &FieldError{field, d, "must be a host name without scheme, e.g. multiline.example.com"}
	case strings.ContainsAny(d, "/?#"):
		return &FieldError{field, d, "must be a host name without path; the service must be served at the root of its domain"}
	case strings.Contains(d, ":"):
		return &FieldError{field, d, "must not carry a port: Teams loads the tab and bot endpoints over https on port 443"}
	case net.ParseIP(d) != nil:
		return &FieldError{field, d, "must be a DNS name, not an IP address: Teams needs a public https domain with a valid certificate"}
	case d == "localhost" || !strings.Contains(d, "."):
		return &FieldError{field, d, "must be a public domain name (use a tunnel such as dev tunnels for local tests)"}
	case len(d) > 253:
		return &FieldError{field, d, "is longer than 253 characters"}
	}
	for _, label := range strings.Split(d, ".") {
		if !labelRE.MatchString(label) {
			return &FieldError{field, d, fmt.Sprintf("has an invalid label %q: use letters, digits and hyphens", label)}
		}
	}
	return nil
}
