package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bot"
	"github.com/multiline/multiline/bot/auth"
	"github.com/multiline/multiline/bot/cards"
	"github.com/multiline/multiline/bot/connector"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/graph"
	"github.com/multiline/multiline/manifest"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/jobs"
	"github.com/multiline/multiline/teamsapp"
)

// botBridge lets the bot use the bridge service; only the card records differ in type.
type botBridge struct{ *bridge.Service }

func (b botBridge) SaveCard(ctx context.Context, c bot.Card) error {
	return b.Service.SaveCard(ctx, bridge.CardRecord(c))
}

func (b botBridge) LastCard(ctx context.Context, e bridge.EmployeeID, t bridge.ThreadID) (bot.Card, bool, error) {
	c, ok, err := b.Service.LastCard(ctx, e, t)
	return bot.Card(c), ok, err
}

func (b botBridge) CardForMessage(ctx context.Context, e bridge.EmployeeID, m bridge.MessageID) (bot.Card, bool, error) {
	c, ok, err := b.Service.CardForMessage(ctx, e, m)
	return bot.Card(c), ok, err
}

// wireTeams builds the bot: inbound token checks (off only in local mode), the
// connector with the bot's own tenant token (none in local mode, as the Agents
// Playground expects), and the /api/messages route.
func (a *application) wireTeams(ctx context.Context) (*bot.Bot, error) {
	cfg := a.cfg
	var validator *auth.Validator
	conn := connector.New(connector.Options{})
	if !cfg.Dev {
		var err error
		validator, err = auth.New(auth.Config{AppID: cfg.AppID, AppType: auth.AppType(cfg.AppType), TenantID: cfg.AppTenantID, MetadataURL: cfg.OpenIDMetadataURL})
		if err != nil {
			return nil, fmt.Errorf("bot token validation: %w", err)
		}
		cred, tenant, err := connector.NewCredential(connector.Settings{AppID: cfg.AppID, Password: cfg.AppPassword, TenantID: cfg.AppTenantID, AppType: cfg.AppType})
		if err != nil {
			return nil, fmt.Errorf("bot credential: %w", err)
		}
		conn = connector.New(connector.Options{Credential: cred, TenantID: tenant})
	}
	bc := bot.Config{
		Validator: validator, Dev: cfg.Dev, Connector: conn,
		Bridge: botBridge{a.svc}, Cards: cards.New(cards.Config{AppID: manifest.DefaultAppID(cfg.AppID)}), Media: a.db,
		Log: a.log, Now: a.now,
	}
	if a.db.SharesRates() { // PostgreSQL: replicas keep Teams' limits together
		bc.Rates = a.db
	}
	b, err := bot.New(bc)
	if err != nil {
		return nil, err
	}
	a.routes = append(a.routes, func(e *echo.Echo) { e.POST("/api/messages", b.Messages) })
	return b, nil
}

// wireTab builds the MultiLine tab and, outside local mode, Microsoft Graph (app
// installs for enabled employees, directory search for admins, activity feed
// notifications). It returns the sender that deliveries go through.
func (a *application) wireTab(ctx context.Context, b *bot.Bot) (bridge.TeamsSender, error) {
	cfg := a.cfg
	key, err := a.db.SharedKey(ctx, tabSigningKey)
	if err != nil {
		return nil, fmt.Errorf("tab signing key: %w", err)
	}
	var g *graphSide
	if !cfg.Dev && cfg.AppPassword != "" { // Graph needs the app's secret (app-only permissions)
		gc, err := graph.New(graph.Config{TenantID: cfg.AppTenantID, ClientID: cfg.AppID, ClientSecret: cfg.AppPassword, TeamsAppID: manifest.DefaultAppID(cfg.AppID)})
		if err != nil {
			return nil, fmt.Errorf("microsoft graph: %w", err)
		}
		g = &graphSide{client: gc, log: a.log}
		a.svc.AttachInstaller(g)
		a.svc.AttachAlerts(g, cfg.ComplianceReviewers)
	}
	tc := teamsapp.Config{
		Bridge: a.svc, Media: a.db, Jobs: tabJobs{a.db}, Changes: a.db, Presence: a.db, Audit: a.db, AppID: cfg.AppID, TenantID: cfg.AppTenantID,
		Archive: a.db, ArchiveLabels: archive.ForDeployment(cfg.WeChatMode, cfg.WeComCorpID),
		OpenIDMetadataURL: cfg.TabOpenIDMetadataURL, PublicURL: cfg.PublicURL,
		Admins: cfg.Admins, ComplianceReviewers: cfg.ComplianceReviewers,
		Dev: cfg.Dev, SigningKey: key, Log: a.log, Now: a.now,
	}
	if g != nil {
		tc.Directory = g
	}
	tab := teamsapp.New(tc)
	a.tab = tab
	a.routes = append(a.routes, tab.Routes)
	sender := mediaSigner{next: b, sign: func(v bridge.MessageView) bridge.MessageView { return tab.SignForCard(v, cfg.PublicURL) }}
	if g == nil {
		return sender, nil
	}
	return notifyingSender{bot: sender, graph: g, tabOpen: tab.Watching, log: a.log}, nil
}

// tabSigningKey names the key of the tab's signed URLs (media links, live-update
// tickets) in the database. Every replica must sign with one key, in every
// mode: it is made once, at random, by the first replica that starts, and kept
// (storage.SharedKey), so a link made by one replica works on every other and
// after a restart. It is not derived from MicrosoftAppPassword: a managed
// identity has none, and rotating the secret (Entra makes secrets expire)
// would void every card's media link.
const tabSigningKey = "tab-signing"

// mediaSigner gives deliveries absolute, signed media links, which Teams can fetch
// to show an image in a card.
type mediaSigner struct {
	next bridge.TeamsSender
	sign func(bridge.MessageView) bridge.MessageView
}

func (m mediaSigner) Deliver(ctx context.Context, d bridge.Delivery) error {
	d.Message = m.sign(d.Message)
	return m.next.Deliver(ctx, d)
}

// tabJobs gives the tab's admin page the operators' view of the job queue.
type tabJobs struct{ db *storage.DB }

func (j tabJobs) Jobs(ctx context.Context, dead bool) ([]bridge.Job, error) {
	return j.db.Jobs(ctx, storage.JobFilter{Dead: dead})
}

func (j tabJobs) RetryJob(ctx context.Context, id int64) error {
	return tabJobErr(j.db.RetryJob(ctx, id))
}

func (j tabJobs) DiscardJob(ctx context.Context, id int64) error {
	return tabJobErr(j.db.DiscardJob(ctx, id))
}

// tabJobErr tells the tab that an operator asked to act on a job that is alive.
func tabJobErr(err error) error {
	if errors.Is(err, jobs.ErrJobAlive) {
		return fmt.Errorf("%w: %w", teamsapp.ErrJobNotDead, err)
	}
	return err
}
