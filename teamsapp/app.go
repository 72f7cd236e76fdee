package teamsapp

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/bridge"
)

// Config configures the tab.
type Config struct {
	Bridge Bridge
	Media  MediaStore
	// Directory, when set, lets admins find and add people from Entra ID.
	Directory Directory
	// Auth validates the Teams SSO token. When nil and AppID and TenantID are set, an
	// EntraAuthenticator with Microsoft's metadata is used; when nil otherwise, only
	// the dev sign-in works.
	Auth     Authenticator
	AppID    string
	TenantID string
	// Admins are the Entra object ids allowed on the admin API. In Dev, everyone.
	Admins []string
	// Dev enables the dev sign-in at /tab/dev-login (local mode only).
	Dev bool
	// SigningKey signs media URLs and events tickets. Replicas behind one load
	// balancer must share it; when empty a random per-process key is used.
	SigningKey []byte
	// PollInterval is how often a live-update connection looks for changes (default 2 s).
	PollInterval time.Duration
	// Heartbeat is how often an idle live-update connection sends a comment, so
	// proxies keep it open (default 15 s).
	Heartbeat time.Duration
	Log       *slog.Logger
	Now       func() time.Time
}

// App is the tab: UI, REST API and live updates.
type App struct {
	cfg     Config
	b       Bridge
	media   MediaStore
	auth    Authenticator
	admins  map[string]bool
	sign    signer // media URLs, events tickets
	devSign signer // dev sessions: a per-process key, so a restart signs everyone out
	log     *slog.Logger
	now     func() time.Time

	watchMu  sync.Mutex
	watchers map[bridge.EmployeeID]int // open live-update streams per employee
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
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	a := &App{cfg: cfg, b: cfg.Bridge, media: cfg.Media, auth: cfg.Auth, admins: map[string]bool{},
		log: cfg.Log, now: cfg.Now}
	if a.auth == nil && cfg.AppID != "" && cfg.TenantID != "" {
		if ea, err := NewEntraAuthenticator(EntraConfig{TenantID: cfg.TenantID, AppID: cfg.AppID, Now: cfg.Now}); err == nil {
			a.auth = ea
		}
	}
	for _, id := range cfg.Admins {
		a.admins[id] = true
	}
	key := cfg.SigningKey
	if len(key) == 0 {
		key = randomKey()
	}
	a.sign = signer{key: key}
	a.devSign = signer{key: randomKey()}
	return a
}

func randomKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails on supported platforms
	return k
}

// Routes mounts the tab on e: /tab/ (UI) and /api/v1/ (API).
func (a *App) Routes(e *echo.Echo) {
	e.GET("/tab", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/tab/") })
	e.GET("/tab/dev-login", a.devLoginPage)
	e.POST("/tab/dev-login", a.devLogin)
	e.POST("/tab/dev-logout", a.devLogout)
	e.GET("/tab/*", a.static)

	// Media and events authorize with signatures of their own: <img> and EventSource
	// cannot send an Authorization header.
	e.GET("/api/v1/media/:ref", a.getMedia)
	e.GET("/api/v1/events", a.events)

	e.GET("/api/v1/config", a.getConfig)

	api := e.Group("/api/v1", a.authenticate)
	emp := api.Group("", a.requireEmployee)
	emp.GET("/me", a.getMe)
	emp.POST("/events/ticket", a.eventsTicket)
	emp.GET("/threads", a.listThreads)
	emp.GET("/threads/:id", a.getThread)
	emp.POST("/threads/:id/messages", a.postMessage)
	emp.POST("/threads/:id/media", a.postMedia)
	emp.POST("/threads/:id/leave", a.leave)
	emp.POST("/threads/:id/participants", a.addParticipant)
	emp.DELETE("/threads/:id/participants/:employee", a.removeParticipant)
	emp.POST("/opt-in", a.optIn)
	emp.GET("/colleagues", a.colleagues)

	adm := api.Group("/admin", a.requireAdmin)
	adm.GET("/policy", a.getPolicy)
	adm.PUT("/policy", a.putPolicy)
	adm.GET("/employees", a.adminEmployees)
	adm.PUT("/employees/:id", a.adminSetEmployee)
	adm.POST("/employees", a.adminAddEmployee)
	adm.GET("/directory", a.adminDirectory)
}
