package teamsapp

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/archive"
)

// Config configures the tab.
type Config struct {
	Bridge Bridge
	Media  MediaStore
	// Directory, when set, lets admins find and add people from Entra ID.
	Directory Directory
	// Jobs, when set, lists the dead jobs on the admin page and lets admins retry
	// or discard them.
	Jobs JobAdmin
	// CanSend, when set, says before an upload is stored whether the WeChat
	// account can send its kind; when nil, Bridge is asked if it implements
	// SendChecker (as *bridge.Service does).
	CanSend SendChecker
	// Review serves compliance reviewers (/api/v1/review/…); when nil, Bridge
	// is used if it implements ReviewDesk (as *bridge.Service does).
	Review ReviewDesk
	// Audit, when set, shows admins the audit log of policy decisions.
	Audit AuditLog
	// Archive, when set, lets admins export the compliance archive from the
	// admin page; ArchiveLabels gives the EML headers' channel, corp and
	// Message-ID domain, as `multiline archive export` does.
	Archive       ArchiveStore
	ArchiveLabels archive.ExportOptions
	// Journal shows admins how SMTP journaling fares; when nil, Bridge is used
	// if it implements JournalMonitor (as *bridge.Service does).
	Journal JournalMonitor
	// Auth validates the Teams SSO token. When nil and AppID and TenantID are set, an
	// EntraAuthenticator is used with OpenIDMetadataURL; when nil otherwise, only
	// the dev sign-in works.
	Auth     Authenticator
	AppID    string
	TenantID string
	// OpenIDMetadataURL is where the tab's SSO keys and issuer come from
	// (TAB_OPENID_METADATA_URL), for sovereign clouds and tests; default
	// Microsoft's public cloud for TenantID. See EntraConfig.MetadataURL.
	OpenIDMetadataURL string
	// Issuers overrides the accepted token issuers (see EntraConfig.Issuers).
	Issuers []string
	// PublicURL is the address people reach the service at (MULTILINE_PUBLIC_URL).
	// Its origin counts as the tab's own, and when it is https the tab sends HSTS.
	PublicURL string
	// Admins are the Entra object ids allowed on the admin API (MULTILINE_ADMINS);
	// the token role RoleAdmin counts too. In Dev, everyone.
	Admins []string
	// ComplianceReviewers are the Entra object ids who may review archived
	// conversations (MULTILINE_COMPLIANCE_REVIEWERS); the token role
	// RoleComplianceReview counts too.
	ComplianceReviewers []string
	// Dev enables the dev sign-in at /tab/dev-login (local mode only).
	Dev bool
	// SigningKey signs media URLs and events tickets. Replicas behind one load
	// balancer must share it; when empty a random per-process key is used.
	SigningKey []byte
	// Presence, when set, shares which employees have the tab open with the
	// other replicas (see Watching); without it, Watching knows this
	// replica's streams only.
	Presence Presence
	// PresenceRenewal is how often this replica renews its presence leases
	// (default PresenceRenewal; a lease lasts three renewals).
	PresenceRenewal time.Duration
	// Changes, when set, wakes live-update connections as soon as an employee's
	// threads change (on any replica); they then poll only as a fallback.
	Changes Changes
	// PollInterval is how often a live-update connection looks for changes
	// (default 2 s, or FallbackPollInterval when Changes is set).
	PollInterval time.Duration
	// Heartbeat is how often an idle live-update connection sends a comment, so
	// proxies keep it open (default 15 s).
	Heartbeat time.Duration
	Log       *slog.Logger
	Now       func() time.Time
}

// FallbackPollInterval is how often a live-update connection looks for changes
// when Config.Changes tells it of them: only what a lost notice hid waits this
// long.
const FallbackPollInterval = 2 * time.Minute

// App is the tab: UI, REST API and live updates.
type App struct {
	cfg    Config
	b      Bridge
	media  MediaStore
	auth   Authenticator
	check  SendChecker // nil: uploads are checked by Send alone
	review ReviewDesk  // nil: no review API (503)
	// journal is Config.Journal or Bridge's (nil: no journaling status, 501).
	journal JournalMonitor
	admins  map[string]bool
	// reviewers are Config.ComplianceReviewers, lowercased like admins.
	reviewers    map[string]bool
	publicOrigin string
	sign         signer // media URLs, events tickets
	devSign      signer // dev sessions: a per-process key, so a restart signs everyone out
	log          *slog.Logger
	now          func() time.Time
	// wall is the wall clock, for dev sessions: in local mode now is the WeChat
	// simulator's clock, which a person fast-forwards by days without wanting
	// to be signed out.
	wall func() time.Time

	// noter remembers who holds RoleComplianceReview (reviewers.go); roles is
	// what it was last told of each object id, in lower case.
	noter   ReviewerNoter
	rolesMu sync.Mutex
	roles   map[string]bool

	presence *presence // open live-update streams, here and on other replicas
}

// New returns the tab for cfg.
func New(cfg Config) *App {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
		if cfg.Changes != nil {
			cfg.PollInterval = FallbackPollInterval
		}
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	a := &App{cfg: cfg, b: cfg.Bridge, media: cfg.Media, auth: cfg.Auth, check: cfg.CanSend,
		admins: idSet(cfg.Admins), reviewers: idSet(cfg.ComplianceReviewers), publicOrigin: originOf(cfg.PublicURL),
		log: cfg.Log, now: cfg.Now, wall: time.Now}
	if a.check == nil {
		a.check, _ = cfg.Bridge.(SendChecker)
	}
	a.noter, _ = cfg.Bridge.(ReviewerNoter)
	a.roles = map[string]bool{}
	if a.review = cfg.Review; a.review == nil {
		a.review, _ = cfg.Bridge.(ReviewDesk)
	}
	if a.journal = cfg.Journal; a.journal == nil {
		a.journal, _ = cfg.Bridge.(JournalMonitor)
	}
	if a.auth == nil && cfg.AppID != "" && cfg.TenantID != "" {
		ea, err := NewEntraAuthenticator(EntraConfig{TenantID: cfg.TenantID, AppID: cfg.AppID, Now: cfg.Now,
			MetadataURL: cfg.OpenIDMetadataURL, Issuers: cfg.Issuers, Log: cfg.Log})
		if err != nil {
			cfg.Log.Error("tab: SSO sign-in is off", "err", err)
		} else {
			a.auth = ea
		}
	}
	key := cfg.SigningKey
	if len(key) == 0 {
		key = randomKey()
	}
	a.presence = newPresence(cfg.Presence, cfg.PresenceRenewal, func() time.Time { return a.wall() }, cfg.Log)
	a.sign = signer{key: key}
	a.devSign = signer{key: randomKey()}
	return a
}

// idSet is a list of Entra object ids as a set; GUIDs compare case-insensitively.
func idSet(ids []string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		if id = strings.ToLower(strings.TrimSpace(id)); id != "" {
			m[id] = true
		}
	}
	return m
}

func randomKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails on supported platforms
	return k
}

// Routes mounts the tab on e: /tab/ (UI) and /api/v1/ (API). Every route has a
// body limit: JSON and forms are small, an upload may carry one file.
func (a *App) Routes(e *echo.Echo) {
	small := limitBody(maxJSONBody)
	e.GET("/tab", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/tab/") }, small)
	e.GET("/tab/dev-login", a.devLoginPage, small)
	e.POST("/tab/dev-login", a.devLogin, small)
	e.POST("/tab/dev-logout", a.devLogout, small)
	e.GET("/tab/*", a.static, small)

	// Media and events authorize with signatures of their own: <img> and EventSource
	// cannot send an Authorization header.
	e.GET("/api/v1/media/:ref", a.getMedia, small)
	e.GET("/api/v1/events", a.events, small)

	e.GET("/api/v1/config", a.getConfig, small)

	api := e.Group("/api/v1")
	known := api.Group("", small, a.authenticate, a.requireKnownOrReviewer)
	known.GET("/me", a.getMe)
	emp := api.Group("", small, a.authenticate, a.requireEmployee)
	emp.POST("/events/ticket", a.eventsTicket)
	emp.GET("/threads", a.listThreads)
	emp.GET("/threads/:id", a.getThread)
	emp.POST("/threads/:id/messages", a.postMessage)
	emp.POST("/threads/:id/read", a.markRead)
	emp.POST("/threads/:id/leave", a.leave)
	emp.POST("/threads/:id/participants", a.addParticipant)
	emp.DELETE("/threads/:id/participants/:employee", a.removeParticipant)
	emp.POST("/opt-in", a.optIn)
	emp.GET("/colleagues", a.colleagues)
	// Uploads stream up to the media limit (see postMedia).
	upload := api.Group("", limitBody(maxUploadBody), a.authenticate, a.requireEmployee)
	upload.POST("/threads/:id/media", a.postMedia)

	adm := api.Group("/admin", small, a.authenticate, a.requireAdmin)
	adm.GET("/policy", a.getPolicy)
	adm.PUT("/policy", a.putPolicy)
	adm.GET("/employees", a.adminEmployees)
	adm.PUT("/employees/:id", a.adminSetEmployee)
	adm.POST("/employees", a.adminAddEmployee)
	adm.GET("/directory", a.adminDirectory)
	adm.GET("/jobs", a.adminJobs)
	adm.POST("/jobs/:id/retry", a.adminRetryJob)
	adm.POST("/jobs/:id/discard", a.adminDiscardJob)
	adm.GET("/lexicon", a.adminLexicon)
	adm.POST("/lexicon", a.adminAddLexicon)
	adm.POST("/lexicon/test", a.adminTestLexicon)
	adm.DELETE("/lexicon/:name", a.adminRemoveLexicon)
	adm.GET("/audit", a.adminAudit)
	adm.GET("/archive/export", a.adminExport)
	adm.GET("/archive/journal", a.adminJournal)

	a.reviewRoutes(api, small)
}
