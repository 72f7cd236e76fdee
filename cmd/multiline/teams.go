package main

import (
	"context"
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/bot"
	"github.com/multiline/multiline/bot/auth"
	"github.com/multiline/multiline/bot/cards"
	"github.com/multiline/multiline/bot/connector"
	"github.com/multiline/multiline/bridge"
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
	b, err := bot.New(bot.Config{
		Validator: validator, Dev: cfg.Dev, Connector: conn,
		Bridge: botBridge{a.svc}, Cards: cards.New(cards.Config{AppID: cfg.AppID}),
		Log: a.log, Now: a.now,
	})
	if err != nil {
		return nil, err
	}
	a.routes = append(a.routes, func(e *echo.Echo) { e.POST("/api/messages", b.Messages) })
	return b, nil
}
