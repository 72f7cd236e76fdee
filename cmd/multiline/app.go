package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/teamsapp"
	"github.com/multiline/multiline/wechat"
	"github.com/multiline/multiline/wechat/devpage"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// wechatTimeout bounds one WeChat API call; a send that times out is retried with
// the same msgid, which WeChat delivers once.
var wechatTimeout = 10 * time.Second

// simPrefix is where local mode mounts the WeChat simulator (its API and /fake/ controls).
const simPrefix = "/wechat-sim"

// application is the wired service: database, bridge, the WeChat and Teams sides,
// and the job runner.
type application struct {
	cfg     Config
	log     *slog.Logger
	db      *storage.DB
	svc     *bridge.Service
	side    *wechat.Side
	tab     *teamsapp.App
	fake    *fakewechat.Server // local mode only
	now     func() time.Time
	routes  []func(*echo.Echo)
	cancel  context.CancelFunc
	running sync.WaitGroup
	// lastClaim is when (a.now, unix µs) this process's runner last started a
	// job, or when the application was built; readiness looks at it.
	lastClaim atomic.Int64
}

func build(ctx context.Context, cfg Config, log *slog.Logger) (*application, error) {
	db, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a := &application{cfg: cfg, log: log, db: db, now: time.Now}
	if err := a.wire(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.lastClaim.Store(a.now().UnixMicro())
	return a, nil
}

func (a *application) wire(ctx context.Context) error {
	cfg := a.cfg
	// The kf account: in local mode the simulator's (WECOM_OPEN_KFID names it, if
	// set); otherwise the company's real one, resolved below.
	account := cfg.WeComOpenKfID
	if cfg.Dev && account == "" {
		account = fakewechat.DefaultOpenKfID
	}
	oa := cfg.WeChatMode == "official-account"
	apiBase, oaBase := cfg.WeComAPIBase, cfg.WeChatAPIBase
	if cfg.Dev && (!oa && apiBase == "" || oa && oaBase == "") {
		fc := fakewechat.Config{
			CorpID: cfg.WeComCorpID, KfSecret: cfg.WeComKFSecret,
			CallbackToken: cfg.WeComCallbackToken, EncodingAESKey: cfg.WeComAESKey,
			CallbackURL: strings.TrimRight(cfg.PublicURL, "/") + "/wechat/callback",
			OpenKfID:    account,
		}
		if oa {
			fc.Mode, fc.AppID, fc.AppSecret = wechat.SourceOfficialAccount, cfg.WeChatAppID, cfg.WeChatAppSecret
			fc.CallbackToken, fc.EncodingAESKey = cfg.WeChatToken, cfg.WeChatAESKey
		}
		fake, err := fakewechat.New(fc)
		if err != nil {
			return err
		}
		a.fake, a.now = fake, fake.Now
		apiBase = strings.TrimRight(cfg.PublicURL, "/") + simPrefix
		oaBase = apiBase
		a.routes = append(a.routes, func(e *echo.Echo) {
			e.Any(simPrefix+"/*", echo.WrapHandler(http.StripPrefix(simPrefix, fake)))
			e.Any("/fake/*", echo.WrapHandler(fake)) // where `multiline simulate` looks by default
			e.Any(devpage.Prefix+"*", echo.WrapHandler(devpage.New(fake)))
		})
	}
	// One client for every WeChat call: it keeps an idle connection for each
	// concurrent caller (wechat.DefaultMaxIdleConnsPerHost, more than the job
	// workers), and bounds dialing, TLS and waiting for the answer.
	opts := wechat.ClientOptions{Tokens: wechat.NewTieredTokenCache(wechat.NewSharedTokenCache(a.db), a.now), Now: a.now,
		HTTPClient: wechat.NewHTTPClient(wechat.HTTPOptions{Timeout: wechatTimeout})}
	side := wechat.SideConfig{Media: a.db, Logger: a.log}
	// A callback's signed timestamp is WeChat's wall clock, even when local mode's
	// simulator has fast-forwarded the service's clock.
	cb := wechat.CallbackConfig{Now: time.Now, Logger: a.log}
	switch cfg.WeChatMode {
	case "official-account":
		opts.BaseURL = oaBase
		side.OA = wechat.NewOAClient(cfg.WeChatAppID, cfg.WeChatAppSecret, opts)
		account = cfg.WeChatAppID
		cb.Mode, cb.Token, cb.EncodingAESKey, cb.ReceiveID = wechat.SourceOfficialAccount, cfg.WeChatToken, cfg.WeChatAESKey, cfg.WeChatAppID
	default:
		opts.BaseURL = apiBase
		side.Kf = wechat.NewKfClient(cfg.WeComCorpID, cfg.WeComKFSecret, opts)
		if !cfg.Dev {
			var err error
			if account, err = wechat.ResolveOpenKfID(ctx, side.Kf, cfg.WeComOpenKfID, a.log); err != nil {
				return fmt.Errorf("configuration: %w", err)
			}
		}
		side.OpenKfID = account
		cb.Mode, cb.Token, cb.EncodingAESKey, cb.ReceiveID = wechat.SourceKf, cfg.WeComCallbackToken, cfg.WeComAESKey, cfg.WeComCorpID
	}
	a.svc = bridge.NewService(a.db, bridge.Options{Company: "default", Now: a.now, Log: a.log, AutoEnable: cfg.Dev, Account: account})
	if err := a.svc.EnsureCompany(ctx, "Local company", cfg.AppTenantID, bridge.English); err != nil {
		return fmt.Errorf("company: %w", err)
	}
	if err := a.svc.ScheduleAnchors(ctx); err != nil {
		return fmt.Errorf("archive anchors: %w", err)
	}
	a.svc.AttachRetention(a.db)
	a.svc.AttachReviews(a.db)
	if err := a.svc.ScheduleRetention(ctx); err != nil {
		return fmt.Errorf("archive retention: %w", err)
	}
	if cfg.ArchiveSMTPURL != "" {
		j, err := newJournal(a.db, cfg.ArchiveSMTPURL, cfg.ArchiveJournalTo, cfg.PublicURL, cfg.WeChatMode, cfg.WeComCorpID)
		if err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
		a.svc.AttachJournal(j)
	}
	side.Bridge, side.Company = a.svc, string(a.svc.Company())
	var err error
	if a.side, err = wechat.NewSide(side); err != nil {
		return err
	}
	cb.Sink = a.side
	callback, err := wechat.NewCallbackHandler(cb)
	if err != nil {
		return fmt.Errorf("wechat callback: %w", err)
	}
	a.routes = append(a.routes, func(e *echo.Echo) {
		e.Match([]string{http.MethodGet, http.MethodPost}, "/wechat/callback", echo.WrapHandler(callback))
	})
	b, err := a.wireTeams(ctx)
	if err != nil {
		return err
	}
	teams, err := a.wireTab(ctx, b)
	if err != nil {
		return err
	}
	a.svc.Attach(a.side, teams)
	return nil
}

// Routes mounts every endpoint of the service.
func (a *application) Routes(e *echo.Echo) {
	for _, r := range a.routes {
		r(e)
	}
}

// Start runs the job runner until Stop.
func (a *application) Start(ctx context.Context) {
	ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	a.running.Add(1)
	go func() {
		defer a.running.Done()
		err := a.db.RunJobs(ctx, a.jobHandlers(), storage.RunOptions{Now: a.now, OnDead: a.svc.JobDied, OnError: func(j bridge.Job, err error) {
			if j.ID == 0 { // the runner's own failure (a claim, a lease)
				a.log.Warn("job runner", "err", err)
				return
			}
			if _, ok := errors.AsType[*bridge.RetryAfterError](err); ok {
				// A wait for Teams' or WeChat's limit is the limiter working, not a
				// failure: thousands of them in a burst would bury the real warnings.
				// /metrics counts them (multiline_job_rate_limit_waits_total).
				a.log.Debug("job waits for a rate limit", append(jobLogAttrs(j), "err", err)...)
				return
			}
			a.log.Warn("job failed", append(jobLogAttrs(j), "attempt", j.Attempts+1, "err", err)...)
		}})
		if err != nil {
			a.log.Error("job runner stopped", "err", err)
		}
	}()
}

// Stop ends the job runner after its handlers in flight finish.
func (a *application) Stop(ctx context.Context) {
	if a.cancel == nil {
		return
	}
	a.cancel()
	done := make(chan struct{})
	go func() { a.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// presenceDropTimeout bounds the drop of this replica's tab presence at exit.
const presenceDropTimeout = 5 * time.Second

// Close drops this replica's tab presence (other replicas then notify the
// employees whose tabs were open here at once) and releases the database.
func (a *application) Close() {
	if a.tab != nil {
		ctx, cancel := context.WithTimeout(context.Background(), presenceDropTimeout)
		if err := a.tab.Close(ctx); err != nil {
			a.log.Warn("tab presence: drop this replica's leases", "err", err)
		}
		cancel()
	}
	a.db.Close()
}
