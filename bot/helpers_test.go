package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/multiline/multiline/bot/cards"
	"github.com/multiline/multiline/bot/connector"
	"github.com/multiline/multiline/bot/fakeconnector"
	"github.com/multiline/multiline/bridge"
)

type env struct {
	bot   *Bot
	fake  *fakeconnector.Fake
	srv   *httptest.Server
	core  *memBridge
	media *memMedia
	now   *manualClock
	logs  *syncBuffer // everything the bot logged
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// envOptions vary the test bot: a bearer token the fake connector demands (and
// the bot's credential hands out), a bridge that offers ContentChecker, a media
// limit.
type envOptions struct {
	clock    bool
	token    string
	checker  bool
	maxMedia int64
	// inProcess serves the fake connector in the process, for any service URL,
	// without a socket: the fuzz targets build an env for every input.
	inProcess bool
}

// inProcessURL is the service URL of an inProcess env.
const inProcessURL = "https://smba.trafficmanager.net/amer/"

// handlerTransport answers every request with h, in the process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	in := r
	if r.Body == nil {
		in = r.Clone(r.Context())
		in.Body = http.NoBody // a server's request always has one
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// staticCredential hands out one token.
type staticCredential struct{ token string }

func (c staticCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: c.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// manualClock is used where time decides behaviour (coalescing); the rate limiter
// then runs on it too, so tests using it send few requests.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newEnv(t testing.TB, clock bool) *env {
	t.Helper()
	return newEnvWith(t, envOptions{clock: clock})
}

func newEnvWith(t testing.TB, o envOptions) *env {
	t.Helper()
	var clock *manualClock
	fo := fakeconnector.Options{Token: o.token}
	if o.clock {
		// Teams' limits run on the same clock as the bot's.
		clock = &manualClock{t: time.Now()}
		fo.Now = clock.Now
	}
	fake := fakeconnector.New(fo)
	en := &env{fake: fake, core: newMemBridge(), media: &memMedia{}, logs: &syncBuffer{}, now: clock}
	copts := connector.Options{}
	if o.inProcess {
		copts.HTTPClient = &http.Client{Transport: handlerTransport{fake}}
	} else {
		en.srv = httptest.NewServer(fake)
		t.Cleanup(en.srv.Close)
	}
	if o.token != "" {
		copts.Credential = staticCredential{o.token}
	}
	var core Bridge = en.core
	if o.checker {
		core = checkingBridge{en.core}
	}
	cfg := Config{Dev: true, Connector: connector.New(copts), Bridge: core,
		Cards: cards.New(cards.Config{AppID: "app"}), Backoff: 5 * time.Millisecond,
		Media: en.media, MaxMedia: o.maxMedia,
		Log: slog.New(slog.NewTextHandler(en.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if o.clock {
		cfg.Now = en.now.Now
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	en.bot = b
	return en
}

// employee adds an installed employee with a conversation in the fake.
func (en *env) employee(id string) bridge.Employee {
	conv := "a:conv-" + id
	e := bridge.Employee{ID: bridge.EmployeeID(id), Company: "c1", TenantID: "tenant", TeamsUserID: "29:" + id, Name: id, Enabled: true,
		Conversation: bridge.ConversationRef{ServiceURL: en.serviceURL(), ConversationID: conv, BotID: "28:app", TenantID: "tenant", UserID: "29:" + id}}
	en.fake.AddConversation(conv, "tenant", "29:"+id)
	en.core.addEmployee(e)
	return e
}

// serviceURL is where the env's fake connector is reached.
func (en *env) serviceURL() string {
	if en.srv == nil {
		return inProcessURL
	}
	return en.srv.URL + "/"
}

func thread(id, name string, st bridge.Status) bridge.ThreadSummary {
	return bridge.ThreadSummary{ID: bridge.ThreadID(id), ConsumerName: name, Status: st, QueueLimit: 5, SendsLeft: 4, LastAt: time.Now()}
}

func consumerMsg(t bridge.ThreadSummary, n int, text string) bridge.MessageView {
	return bridge.MessageView{ID: bridge.MessageID(string(t.ID) + "-" + string(rune('0'+n))), Thread: t.ID, From: bridge.FromConsumer, Text: text, Status: bridge.StatusReceived}
}

// cardTexts returns all "text" values of the Adaptive Card in an activity body.
func cardTexts(t testing.TB, body []byte) string {
	t.Helper()
	var a struct {
		Text        string `json:"text"`
		Attachments []struct {
			Content json.RawMessage `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString(a.Text)
	for _, at := range a.Attachments {
		sb.Write(at.Content)
	}
	return sb.String()
}

// deliver runs d the way the job runner does with a delivery job: a deferral by
// the bot's own limiter is waited out here (the runner reschedules the job and
// frees the worker) and the delivery runs again. It returns how many times it was
// deferred, and the outcome of the last run.
func (en *env) deliver(ctx context.Context, d bridge.Delivery) (deferrals int, err error) {
	for {
		err = en.bot.Deliver(ctx, d)
		ra, ok := errors.AsType[*bridge.RetryAfterError](err)
		if !ok || !errors.Is(err, errPaced) {
			return deferrals, err
		}
		deferrals++
		if err := sleep(ctx, ra.Wait); err != nil {
			return deferrals, err
		}
	}
}
