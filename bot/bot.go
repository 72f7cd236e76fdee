package bot

import (
	"errors"
	"log/slog"
	"time"

	"github.com/multiline/multiline/bot/auth"
	"github.com/multiline/multiline/bot/cards"
	"github.com/multiline/multiline/bot/connector"
	"github.com/multiline/multiline/bridge"
)

// Config assembles a Bot.
type Config struct {
	// Validator checks inbound tokens. It may be nil only with Dev.
	Validator *auth.Validator
	// Dev switches the inbound token check off (local mode with the Agents
	// Playground). A warning is logged at start and on every request.
	Dev       bool
	Connector *connector.Client
	Bridge    Bridge
	Cards     *cards.Builder
	// CoalesceWindow: consumer messages of one thread arriving within it update
	// the previous card instead of posting a new one (default 60 s).
	CoalesceWindow time.Duration
	// Retries of 412/5xx inside one delivery, with exponential Backoff from
	// (defaults 3 and 250 ms).
	Retries int
	Backoff time.Duration
	// LimitMargin is added to Teams' rate-limit windows (default 100 ms).
	LimitMargin time.Duration
	// Rates, when set, holds the rate limits in windows every replica shares
	// (storage.DB on PostgreSQL), so that N replicas together keep to Teams'
	// limits; without it each process keeps them alone, in memory.
	Rates SharedRates
	// MaxBody limits inbound activities (default 256 KiB).
	MaxBody int64
	// Media keeps the files and images employees send in the 1:1 chat
	// (storage.DB implements it). Without it the bot answers such a message that
	// files cannot be sent from the chat.
	Media MediaStore
	// MaxMedia limits one file or image from the chat (default DefaultMaxMedia);
	// a bigger one is refused with a reply, before it is stored.
	MaxMedia int64
	Log      *slog.Logger
	Now      func() time.Time
}

// Bot is the Teams side of MultiLine: it serves /api/messages (Messages) and
// delivers to employees (Deliver, bridge.TeamsSender).
type Bot struct {
	cfg   Config
	conn  *connector.Client
	core  Bridge
	cards *cards.Builder
	media MediaStore
	lim   gate
	log   *slog.Logger
	now   func() time.Time
}

var _ bridge.TeamsSender = (*Bot)(nil)

// New returns a Bot.
func New(cfg Config) (*Bot, error) {
	if cfg.Connector == nil || cfg.Bridge == nil || cfg.Cards == nil {
		return nil, errors.New("bot: Connector, Bridge and Cards are required")
	}
	if cfg.Validator == nil && !cfg.Dev {
		return nil, errors.New("bot: a token Validator is required outside local mode")
	}
	if cfg.CoalesceWindow == 0 {
		cfg.CoalesceWindow = 60 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 250 * time.Millisecond
	}
	if cfg.LimitMargin == 0 {
		cfg.LimitMargin = 100 * time.Millisecond
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 256 << 10
	}
	if cfg.MaxMedia <= 0 {
		cfg.MaxMedia = DefaultMaxMedia
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Dev {
		cfg.Log.Warn("bot: inbound token check is OFF (local mode); never expose this endpoint")
	}
	var lim gate = newLimiter(cfg.LimitMargin, cfg.Now)
	if cfg.Rates != nil {
		lim = &sharedLimiter{rates: cfg.Rates, margin: cfg.LimitMargin, now: cfg.Now}
	}
	return &Bot{cfg: cfg, conn: cfg.Connector, core: cfg.Bridge, cards: cfg.Cards, media: cfg.Media,
		lim: lim, log: cfg.Log, now: cfg.Now}, nil
}
