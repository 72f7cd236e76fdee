package main

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/multiline/multiline/journal"
)

// Config is the service's configuration, read from the environment under the names
// the Azure Bot and WeChat consoles use.
type Config struct {
	Dev bool // local mode: simulator, no bot token check, dev sign-in

	AppID, AppPassword, AppTenantID, AppType string

	DatabaseURL string
	Addr        string
	PublicURL   string

	WeChatMode string // wecom-kf or official-account

	WeComCorpID, WeComKFSecret, WeComCallbackToken, WeComAESKey, WeComAPIBase string

	WeChatAppID, WeChatAppSecret, WeChatToken, WeChatAESKey, WeChatAPIBase string

	OpenIDMetadataURL string
	// TabOpenIDMetadataURL is where the tab's SSO token keys and issuer come from.
	TabOpenIDMetadataURL string

	// WeComOpenKfID is the company's WeChat Customer Service account; empty means
	// the only account kf/account/list returns.
	WeComOpenKfID string

	// MetricsAddr is where /metrics listens, never the public listener; empty
	// means off. MetricsAddrSet says it was set explicitly: then failing to
	// listen on it stops start-up, while a busy default is only a warning.
	MetricsAddr    string
	MetricsAddrSet bool
	// LogFormat is text or json.
	LogFormat string

	Admins []string // Entra object ids allowed on the admin pages
	// ComplianceReviewers are Entra object ids allowed on the compliance screens.
	ComplianceReviewers []string

	// ArchiveSMTPURL and ArchiveJournalTo turn SMTP journaling of the archive
	// on: each anchored day's conversations are mailed to the journaling mailbox.
	ArchiveSMTPURL, ArchiveJournalTo string
}

// Setting describes one environment variable; the table drives loading, the error
// messages and the README's configuration table.
type Setting struct {
	Name     string
	Default  string
	Required string // when it is required, in words; empty if never
	Secret   bool
	About    string
}

// settings lists every environment variable the service reads.
var settings = []Setting{
	{Name: "MicrosoftAppId", Required: "outside local mode", About: "the bot's Entra app (client) id, a GUID"},
	{Name: "MicrosoftAppPassword", Required: "for SingleTenant/MultiTenant", Secret: true, About: "the bot app's client secret"},
	{Name: "MicrosoftAppTenantId", Required: "for SingleTenant/UserAssignedMSI", About: "the bot's own Entra tenant, a GUID"},
	{Name: "MicrosoftAppType", Default: "SingleTenant", About: "SingleTenant, UserAssignedMSI or MultiTenant (legacy bots)"},
	{Name: "MULTILINE_DATABASE_URL", Default: "sqlite:./data/multiline.db", About: "sqlite:PATH or postgres://…"},
	{Name: "MULTILINE_ADDR", Default: "127.0.0.1:3978 (local mode), :3978 otherwise", About: "listen address"},
	{Name: "MULTILINE_PUBLIC_URL", Required: "outside local mode", About: "https URL where Teams and WeChat reach the service"},
	{Name: "MULTILINE_METRICS_ADDR", Default: DefaultMetricsAddr, About: "listen address of Prometheus /metrics, never the public listener (must differ from MULTILINE_ADDR); off turns it off; a busy default port is a warning, an address you set that cannot be bound stops start-up"},
	{Name: "MULTILINE_LOG_FORMAT", Default: "text", About: "text (key=value) or json (one JSON object a line); lines carry request_id, and job, kind, lane, thread, employee where they apply"},
	{Name: "WECHAT_MODE", Default: "wecom-kf", About: "wecom-kf (WeCom WeChat Customer Service) or official-account"},
	{Name: "WECOM_CORP_ID", Required: "wecom-kf", About: "WeCom corp id (callback receive id)"},
	{Name: "WECOM_KF_SECRET", Required: "wecom-kf", Secret: true, About: "secret of the WeChat Customer Service app"},
	{Name: "WECOM_CALLBACK_TOKEN", Required: "wecom-kf", Secret: true, About: "callback Token"},
	{Name: "WECOM_ENCODING_AES_KEY", Required: "wecom-kf", Secret: true, About: "callback EncodingAESKey, 43 characters"},
	{Name: "WECOM_OPEN_KFID", Default: "the only account of kf/account/list", About: "the WeChat Customer Service account (open_kfid) that links and sends use"},
	{Name: "WECOM_API_BASE", Default: "https://qyapi.weixin.qq.com (the built-in simulator in local mode)", About: "WeCom API base URL"},
	{Name: "WECHAT_APP_ID", Required: "official-account", About: "Official Account AppID (callback receive id)"},
	{Name: "WECHAT_APP_SECRET", Required: "official-account", Secret: true, About: "Official Account AppSecret"},
	{Name: "WECHAT_TOKEN", Required: "official-account", Secret: true, About: "callback Token"},
	{Name: "WECHAT_ENCODING_AES_KEY", Secret: true, About: "EncodingAESKey for safe mode; empty means plaintext mode"},
	{Name: "WECHAT_API_BASE", Default: "https://api.weixin.qq.com (the built-in simulator in local mode)", About: "Official Account API base URL"},
	{Name: "MULTILINE_COMPLIANCE_REVIEWERS", About: "comma-separated Entra object ids of the compliance reviewers; the tab token's Compliance.Review role counts too"},
	{Name: "MULTILINE_ADMINS", About: "comma-separated Entra object ids of the admins (the tab's admin page); everyone in local mode"},
	{Name: "MULTILINE_ARCHIVE_SMTP_URL", Secret: true, About: "smtp://user:pass@host:port (STARTTLS when offered) or smtps://… (TLS): journal each UTC day's conversations as EML to MULTILINE_ARCHIVE_JOURNAL_TO; empty: no journaling"},
	{Name: "MULTILINE_ARCHIVE_JOURNAL_TO", Required: "with MULTILINE_ARCHIVE_SMTP_URL", About: "the archive's journaling mailbox"},
	{Name: "BOT_OPENID_METADATA_URL", Default: "https://login.botframework.com/v1/.well-known/openidconfiguration", About: "where inbound bot token keys come from"},
	{Name: "TAB_OPENID_METADATA_URL", Default: "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration", About: "where the tab's SSO token keys and issuer come from (sovereign clouds, tests)"},
}

// metricsAddrProblem says what is wrong with metrics as the /metrics listen
// address beside the public listener public, or "".
func metricsAddrProblem(metrics, public string) string {
	host, port, err := net.SplitHostPort(metrics)
	if err != nil {
		return "must be host:port, :port or off"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "must be host:port, :port or off (the port is a number)"
	}
	phost, pport, err := net.SplitHostPort(public)
	if err != nil || port != pport || port == "0" {
		return ""
	}
	wildcard := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" || h == "[::]" }
	if host == phost || wildcard(host) || wildcard(phost) {
		return "must differ from MULTILINE_ADDR: /metrics is never served on the public listener"
	}
	return ""
}

// ConfigError names the one setting that stops start-up.
type ConfigError struct {
	Name, Problem string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("configuration: %s %s", e.Name, e.Problem) }

// openKfIDRE is the shape of a WeCom kf account id.
var openKfIDRE = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)

// splitList parses a comma-separated setting, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ValidAESKey reports whether k is a WeChat EncodingAESKey: 43 characters that
// decode, with "=" added, to 32 bytes.
func ValidAESKey(k string) bool {
	if len(k) != 43 {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(k + "=")
	return err == nil && len(b) == 32
}

// LoadConfig reads the configuration from getenv. The first missing or malformed
// setting is returned as a *ConfigError; secrets never appear in messages.
func LoadConfig(getenv func(string) string, dev bool) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Dev:                dev,
		AppID:              get("MicrosoftAppId", ""),
		AppPassword:        get("MicrosoftAppPassword", ""),
		AppTenantID:        get("MicrosoftAppTenantId", ""),
		AppType:            get("MicrosoftAppType", "SingleTenant"),
		DatabaseURL:        get("MULTILINE_DATABASE_URL", "sqlite:./data/multiline.db"),
		Addr:               get("MULTILINE_ADDR", ":3978"),
		PublicURL:          get("MULTILINE_PUBLIC_URL", ""),
		WeChatMode:         get("WECHAT_MODE", "wecom-kf"),
		WeComCorpID:        get("WECOM_CORP_ID", ""),
		WeComKFSecret:      get("WECOM_KF_SECRET", ""),
		WeComCallbackToken: get("WECOM_CALLBACK_TOKEN", ""),
		WeComAESKey:        get("WECOM_ENCODING_AES_KEY", ""),
		WeComAPIBase:       get("WECOM_API_BASE", ""),
		WeChatAppID:        get("WECHAT_APP_ID", ""),
		WeChatAppSecret:    get("WECHAT_APP_SECRET", ""),
		WeChatToken:        get("WECHAT_TOKEN", ""),
		WeChatAESKey:       get("WECHAT_ENCODING_AES_KEY", ""),
		WeChatAPIBase:      get("WECHAT_API_BASE", ""),
		OpenIDMetadataURL:  get("BOT_OPENID_METADATA_URL", "https://login.botframework.com/v1/.well-known/openidconfiguration"),

		TabOpenIDMetadataURL: get("TAB_OPENID_METADATA_URL", ""),
		WeComOpenKfID:        get("WECOM_OPEN_KFID", ""),
		MetricsAddr:          get("MULTILINE_METRICS_ADDR", DefaultMetricsAddr),
		MetricsAddrSet:       strings.TrimSpace(getenv("MULTILINE_METRICS_ADDR")) != "",
		LogFormat:            strings.ToLower(get("MULTILINE_LOG_FORMAT", "text")),
		Admins:               splitList(get("MULTILINE_ADMINS", "")),
		ComplianceReviewers:  splitList(get("MULTILINE_COMPLIANCE_REVIEWERS", "")),
		ArchiveSMTPURL:       get("MULTILINE_ARCHIVE_SMTP_URL", ""),
		ArchiveJournalTo:     get("MULTILINE_ARCHIVE_JOURNAL_TO", ""),
	}
	if dev {
		c.Addr = get("MULTILINE_ADDR", "127.0.0.1:3978")
		c.PublicURL = get("MULTILINE_PUBLIC_URL", "http://"+c.Addr)
		// The simulator's identities are fixed and not secret.
		c.WeComCorpID = get("WECOM_CORP_ID", devCorpID)
		c.WeComKFSecret = get("WECOM_KF_SECRET", devKFSecret)
		c.WeComCallbackToken = get("WECOM_CALLBACK_TOKEN", devCallbackToken)
		c.WeComAESKey = get("WECOM_ENCODING_AES_KEY", devAESKey)
		c.WeChatAppID = get("WECHAT_APP_ID", devAppID)
		c.WeChatAppSecret = get("WECHAT_APP_SECRET", devKFSecret)
		c.WeChatToken = get("WECHAT_TOKEN", devCallbackToken)
		c.WeChatAESKey = get("WECHAT_ENCODING_AES_KEY", devAESKey)
	} else {
		if c.WeComAPIBase == "" {
			c.WeComAPIBase = "https://qyapi.weixin.qq.com"
		}
		if c.WeChatAPIBase == "" {
			c.WeChatAPIBase = "https://api.weixin.qq.com"
		}
	}
	if strings.EqualFold(c.MetricsAddr, "off") {
		c.MetricsAddr = ""
	}
	return c, c.validate()
}

// DefaultMetricsAddr is where /metrics listens unless MULTILINE_METRICS_ADDR says
// otherwise: loopback only, for a Prometheus agent on the host or a sidecar.
const DefaultMetricsAddr = "127.0.0.1:9464"

// Local mode's simulated WeCom identity (not secrets: the simulator runs in-process).
const (
	devCorpID        = "wwmultilinedev00001"
	devKFSecret      = "dev-kf-secret"
	devCallbackToken = "multilinedev"
	devAESKey        = "bXVsdGlsaW5lLWRldi1zaW11bGF0b3Ita2V5LTAwMDA"
	devAppID         = "wxmultilinedev0001"
)

func (c Config) validate() error {
	bad := func(name, problem string) error { return &ConfigError{Name: name, Problem: problem} }
	missing := func(name string) error { return bad(name, "is required but not set") }

	switch c.AppType {
	case "SingleTenant", "MultiTenant", "UserAssignedMSI":
	default:
		return bad("MicrosoftAppType", "must be SingleTenant, MultiTenant or UserAssignedMSI")
	}
	if !c.Dev || c.AppID != "" {
		if c.AppID == "" {
			return missing("MicrosoftAppId")
		}
		if !guidRE.MatchString(c.AppID) {
			return bad("MicrosoftAppId", "must be a GUID (the bot's app id)")
		}
	}
	if !c.Dev {
		if c.AppType != "UserAssignedMSI" && c.AppPassword == "" {
			return missing("MicrosoftAppPassword")
		}
		if c.AppType != "MultiTenant" && c.AppTenantID == "" {
			return missing("MicrosoftAppTenantId")
		}
	}
	for name, ids := range map[string][]string{"MULTILINE_ADMINS": c.Admins, "MULTILINE_COMPLIANCE_REVIEWERS": c.ComplianceReviewers} {
		for _, a := range ids {
			if !guidRE.MatchString(a) {
				return bad(name, "must list Entra object ids (GUIDs), separated by commas")
			}
		}
	}
	if c.AppTenantID != "" && !guidRE.MatchString(c.AppTenantID) {
		return bad("MicrosoftAppTenantId", "must be a GUID (the bot's Entra tenant id)")
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return bad("MULTILINE_DATABASE_URL", "must start with sqlite: or postgres://")
	}
	if c.ArchiveSMTPURL != "" || c.ArchiveJournalTo != "" {
		if c.ArchiveSMTPURL == "" {
			return missing("MULTILINE_ARCHIVE_SMTP_URL")
		}
		if c.ArchiveJournalTo == "" {
			return missing("MULTILINE_ARCHIVE_JOURNAL_TO")
		}
		if _, err := journal.NewMailer(c.ArchiveSMTPURL, c.ArchiveJournalTo, "journal@multiline.invalid"); err != nil {
			if strings.Contains(err.Error(), "JOURNAL_TO") {
				return bad("MULTILINE_ARCHIVE_JOURNAL_TO", "must be the journaling mailbox's address")
			}
			return bad("MULTILINE_ARCHIVE_SMTP_URL", "must be smtp://[user:pass@]host:port or smtps://[user:pass@]host:port")
		}
	}
	if !strings.Contains(c.Addr, ":") {
		return bad("MULTILINE_ADDR", "must be host:port or :port")
	}
	if c.MetricsAddr != "" {
		if problem := metricsAddrProblem(c.MetricsAddr, c.Addr); problem != "" {
			return bad("MULTILINE_METRICS_ADDR", problem)
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return bad("MULTILINE_LOG_FORMAT", "must be text or json")
	}
	if c.PublicURL == "" {
		return missing("MULTILINE_PUBLIC_URL")
	}
	if u, err := url.Parse(c.PublicURL); err != nil || u.Host == "" || (u.Scheme != "https" && !c.Dev) {
		return bad("MULTILINE_PUBLIC_URL", "must be an absolute https URL")
	}
	if c.WeComOpenKfID != "" && !openKfIDRE.MatchString(c.WeComOpenKfID) {
		return bad("WECOM_OPEN_KFID", "must be an open_kfid such as wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw")
	}
	for name, v := range map[string]string{"WECOM_API_BASE": c.WeComAPIBase, "WECHAT_API_BASE": c.WeChatAPIBase,
		"BOT_OPENID_METADATA_URL": c.OpenIDMetadataURL, "TAB_OPENID_METADATA_URL": c.TabOpenIDMetadataURL} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return bad(name, "must be an absolute http(s) URL")
		}
	}
	switch c.WeChatMode {
	case "wecom-kf":
		for _, kv := range [][2]string{{"WECOM_CORP_ID", c.WeComCorpID}, {"WECOM_KF_SECRET", c.WeComKFSecret}, {"WECOM_CALLBACK_TOKEN", c.WeComCallbackToken}, {"WECOM_ENCODING_AES_KEY", c.WeComAESKey}} {
			if kv[1] == "" {
				return missing(kv[0])
			}
		}
		if !ValidAESKey(c.WeComAESKey) {
			return bad("WECOM_ENCODING_AES_KEY", "must be 43 characters of base64 (32 bytes)")
		}
	case "official-account":
		for _, kv := range [][2]string{{"WECHAT_APP_ID", c.WeChatAppID}, {"WECHAT_APP_SECRET", c.WeChatAppSecret}, {"WECHAT_TOKEN", c.WeChatToken}} {
			if kv[1] == "" {
				return missing(kv[0])
			}
		}
		if c.WeChatAESKey != "" && !ValidAESKey(c.WeChatAESKey) {
			return bad("WECHAT_ENCODING_AES_KEY", "must be 43 characters of base64 (32 bytes), or empty for plaintext mode")
		}
	default:
		return bad("WECHAT_MODE", "must be wecom-kf or official-account")
	}
	return nil
}
