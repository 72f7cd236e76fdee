package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
)

// A graceful stop loses no commit (issue 10, item 4). The real binary posts a
// consumer's message to Teams as a card; a slow Bot Connector holds its answer,
// and SIGTERM arrives while the handler waits for it. The stop cancels the
// handlers' context (a send to WeChat in flight at the same moment is abandoned:
// that is how the test knows the stop has reached the handlers), and only then
// does Teams answer. The delivery must record its card and complete its job
// anyway, the process must exit 0, and after a restart on the same database the
// card must not be posted again, while the abandoned send is delivered once.
//
// Every wait below is for an event, with a deadline only as a failure guard.
func TestGracefulStopLosesNoCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	const question, later = "graceful question", "second question"
	addr := freeAddr(t)
	w := newCrashWorld(t, "http://"+addr+"/wechat/callback")
	teams := newHoldingConnector(w.conn, func(r *http.Request, body []byte) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/activities") && bytes.Contains(body, []byte(question))
	})
	teamsSrv := httptest.NewServer(teams)
	defer teamsSrv.Close()
	wx := newHoldingWeChat(w.fake)
	wxSrv := httptest.NewServer(wx)
	defer wxSrv.Close()

	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "graceful.db")
	r := startReplica(t, addr, []string{"MULTILINE_DATABASE_URL=" + dbURL, "WECOM_API_BASE=" + wxSrv.URL})
	at := func() string { return addr }
	const emp, conv = 0, "a:emp00"
	w.conn.AddConversation(conv, "tenant-1", "29:emp00")
	w.post(at, w.activity("installationUpdate", emp, map[string]any{"action": "add", "serviceUrl": teamsSrv.URL + "/"}))
	w.consumerSends(consumerName(0), question)

	// The card is with Teams, which holds its answer; the welcome auto message is
	// on its way to WeChat, which holds it too.
	await(t, teams.held, "the card's post to reach Teams")
	await(t, wx.held, "the welcome's send to reach WeChat")
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The runner cancelled the handlers' context: the send's request was dropped.
	await(t, wx.abandoned, "the stop to cancel the handlers (WeChat's request dropped)")
	close(teams.release) // Teams answers the card's post now, after the stop
	r.cmd.Wait()
	log := r.log.String()
	if code := r.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("graceful stop: exit %d\n%s", code, tail(log, 4000))
	}
	if strings.Contains(log, "save card") {
		t.Fatalf("the card's record was not saved:\n%s", tail(log, 4000))
	}
	if !strings.Contains(log, "waiting for Teams to answer") {
		t.Fatalf("the stop did not reach the delivery while Teams held its answer:\n%s", tail(log, 4000))
	}

	// Between the two runs: the delivery's job is done; the abandoned send waits.
	cardJobs, sendJobs := queued(t, dbURL)
	if len(cardJobs) != 0 {
		t.Fatalf("the posted card's delivery is still queued and would run again: %+v", cardJobs)
	}
	if len(sendJobs) != 1 || sendJobs[0].Attempts != 0 {
		t.Fatalf("want the abandoned welcome send queued again, not counted as an attempt; got %+v", sendJobs)
	}

	wx.passThrough()
	r.start()
	waitWelcome(t, w)
	// A second message takes the same Teams lane, behind anything left from the
	// first run: once it shows, that lane has nothing older left.
	w.consumerSends(consumerName(0), later)
	w.waitCard(emp, later)
	posts := 0
	for _, q := range w.conn.Requests() {
		if q.Op == "send" && q.Conversation == conv && bytes.Contains(q.Body, []byte(question)) {
			posts++
		}
	}
	if posts != 1 {
		t.Fatalf("the card was posted %d times, want once", posts)
	}
	welcomes := 0
	for _, m := range w.fake.Inbox(consumerName(0)) {
		if strings.HasPrefix(m.Text, "Thank you! You can now start messaging") {
			welcomes++
		}
	}
	if welcomes != 1 {
		t.Fatalf("the consumer got the welcome %d times, want once", welcomes)
	}
	r.stop()
	if code := r.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("second stop: exit %d", code)
	}
}

// queued lists the live and dead jobs left in the database: deliveries of
// consumer messages, and sends to WeChat.
func queued(t *testing.T, dbURL string) (cards, sends []bridge.Job) {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	js, err := db.Jobs(ctx, storage.JobFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		switch {
		case j.Kind == bridge.JobDeliver && bytes.Contains(j.Payload, []byte(bridge.DeliverConsumerMessage)):
			cards = append(cards, j)
		case j.Kind == bridge.JobSend:
			sends = append(sends, j)
		}
	}
	return cards, sends
}

func waitWelcome(t *testing.T, w *crashWorld) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		for _, m := range w.fake.Inbox(consumerName(0)) {
			if strings.HasPrefix(m.Text, "Thank you! You can now start messaging") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the welcome never reached the consumer after the restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// await waits for ch to be closed; the deadline only guards against a hang.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(60 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// holdingConnector is a slow Bot Connector: the first request that match selects
// is served (the card exists in Teams from then on), but its answer is held
// until release is closed.
type holdingConnector struct {
	next    http.Handler
	match   func(*http.Request, []byte) bool
	once    sync.Once
	held    chan struct{}
	release chan struct{}
}

func newHoldingConnector(next http.Handler, match func(*http.Request, []byte) bool) *holdingConnector {
	return &holdingConnector{next: next, match: match, held: make(chan struct{}), release: make(chan struct{})}
}

func (h *holdingConnector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	hold := false
	if h.match(r, body) {
		h.once.Do(func() { hold = true })
	}
	if !hold {
		h.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, r)
	close(h.held)
	<-h.release
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// holdingWeChat passes WeChat's API through, except kf/send_msg, which it holds
// (without delivering) until the caller drops the request, and then reports
// that: the binary gives up a call only when its context is cancelled. After
// passThrough every request goes through.
type holdingWeChat struct {
	next      http.Handler
	mu        sync.Mutex
	through   bool
	heldOnce  sync.Once
	dropOnce  sync.Once
	held      chan struct{}
	abandoned chan struct{}
}

func newHoldingWeChat(next http.Handler) *holdingWeChat {
	return &holdingWeChat{next: next, held: make(chan struct{}), abandoned: make(chan struct{})}
}

func (h *holdingWeChat) passThrough() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.through = true
}

func (h *holdingWeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	through := h.through
	h.mu.Unlock()
	if through || r.URL.Path != "/cgi-bin/kf/send_msg" {
		h.next.ServeHTTP(w, r)
		return
	}
	// Read the whole body first: the server notices a dropped connection (and
	// cancels r's context) only once the request has been read.
	io.Copy(io.Discard, r.Body)
	h.heldOnce.Do(func() { close(h.held) })
	<-r.Context().Done()
	h.dropOnce.Do(func() { close(h.abandoned) })
}
