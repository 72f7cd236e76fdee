package manifest

import (
	"crypto/sha1"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/google/uuid"
)

// appIDNamespace derives a default Teams app id from the bot id. It is a
// fixed random UUID: changing it would make every rebuilt package a new app.
var appIDNamespace = uuid.MustParse("6b1f3e0c-5a7d-4c2b-9f61-2d8e4a0b7c15")

// DefaultAppID is the Teams app id used when none is given: a name-based
// UUID (v5) of the bot id, so each rebuild for the same bot upgrades the
// same app instead of creating a second one.
func DefaultAppID(botID string) string {
	return uuid.NewHash(sha1.New(), appIDNamespace, []byte(strings.ToLower(strings.TrimSpace(botID))), 5).String()
}

// RunBuild implements `multiline manifest build`: it parses args, takes
// defaults from env (MicrosoftAppId for --bot-id, the host of
// MULTILINE_PUBLIC_URL for --domain), writes the package to --out and
// reports what it wrote on stdout. A bad value yields one error line that
// names the flag.
func RunBuild(args []string, env func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("manifest build", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o Options
	var out string
	fs.StringVar(&o.AppID, "app-id", "", "Teams app id (GUID); default derived from --bot-id so it is stable")
	fs.StringVar(&o.BotID, "bot-id", env("MicrosoftAppId"), "Microsoft App ID of the Azure Bot (default $MicrosoftAppId)")
	fs.StringVar(&o.Domain, "domain", "", "public host name (default host of $MULTILINE_PUBLIC_URL)")
	fs.StringVar(&o.Version, "version", "1.0.0", "app version MAJOR.MINOR.PATCH; raise it for every upload")
	fs.StringVar(&out, "out", "appPackage.zip", "output file")
	fs.StringVar(&o.ShortName, "name", "", "app name shown in Teams (default "+DefaultShortName+")")
	fs.StringVar(&o.DeveloperName, "developer", "", "publisher name (default "+DefaultDeveloperName+")")
	fs.StringVar(&o.WebsiteURL, "website-url", "", "publisher web site (default https://<domain>/)")
	fs.StringVar(&o.PrivacyURL, "privacy-url", "", "privacy statement (default https://<domain>/privacy)")
	fs.StringVar(&o.TermsURL, "terms-url", "", "terms of use (default https://<domain>/terms)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(fs, stdout)
			return nil
		}
		return fmt.Errorf("manifest build: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("manifest build: unexpected argument %q", fs.Arg(0))
	}
	if o.Domain == "" {
		d, err := domainFromPublicURL(env("MULTILINE_PUBLIC_URL"))
		if err != nil {
			return fmt.Errorf("manifest build: %w", err)
		}
		o.Domain = d
	}
	if o.AppID == "" && guidRE.MatchString(strings.TrimSpace(o.BotID)) {
		o.AppID = DefaultAppID(o.BotID)
	}
	if out == "" {
		return fmt.Errorf("manifest build: --out must name a file")
	}
	pkg, err := Build(o)
	if err != nil {
		return fmt.Errorf("manifest build: %w", err)
	}
	if err := os.WriteFile(out, pkg, 0o644); err != nil {
		return fmt.Errorf("manifest build: write package: %w", err)
	}
	o = o.WithDefaults()
	fmt.Fprintf(stdout, "wrote %s (%d bytes): Teams app id %s, version %s, bot %s, domain %s\n",
		out, len(pkg), o.AppID, o.Version, o.BotID, o.Domain)
	return nil
}

// domainFromPublicURL takes the host of MULTILINE_PUBLIC_URL. A URL with a
// port or a path is refused rather than silently trimmed: Teams would load
// the tab from https://<host>/tab/ and miss the service.
func domainFromPublicURL(raw string) (string, error) {
	if raw == "" {
		return "", &FieldError{"domain", "", "is required: pass --domain or set MULTILINE_PUBLIC_URL"}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", &FieldError{"MULTILINE_PUBLIC_URL", raw, "must be an absolute https URL such as https://multiline.example.com"}
	}
	if u.Scheme != "https" {
		return "", &FieldError{"MULTILINE_PUBLIC_URL", raw, "must use https: Teams only loads https tabs and bot endpoints"}
	}
	if u.Port() != "" && u.Port() != "443" {
		return "", &FieldError{"MULTILINE_PUBLIC_URL", raw, "must not carry a port: Teams uses port 443"}
	}
	if u.Path != "" && u.Path != "/" {
		return "", &FieldError{"MULTILINE_PUBLIC_URL", raw, "must be the root of its domain (no path): the manifest points at https://<domain>/tab/"}
	}
	return u.Hostname(), nil
}

func usage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintln(w, "usage: multiline manifest build [flags]")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
