package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/multiline/multiline/bot/fakeconnector"
	"github.com/multiline/multiline/storage/pgtest"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// The crash tests run the real binary, kill it with SIGKILL while messages are in
// flight, start it again, and check against the fake WeChat server's record that
// every message reached its consumer exactly once and in order.

const (
	crashConsumers = 16
	crashRounds    = 5
	crashReplies   = 3 // employee replies per consumer message (the streak limit)
)

var binOnce sync.Once
var binPath string
var binErr error

func buildBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "multiline-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "multiline")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// replica is one `multiline serve` process.
type replica struct {
	t    *testing.T
	addr string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	env  []string
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startReplica(t *testing.T, addr string, env []string) *replica {
	t.Helper()
	r := &replica{t: t, addr: addr, env: env}
	r.start()
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.kill() // the test ended early
		}
		if t.Failed() {
			var notable []string
			for _, line := range strings.Split(r.log.String(), "\n") {
				if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
					notable = append(notable, line)
				}
			}
			t.Logf("replica %s warnings and errors (last 8000 bytes):\n%s", r.addr, tail(strings.Join(notable, "\n"), 8000))
		}
	})
	return r
}

func (r *replica) start() {
	r.t.Helper()
	r.log = &bytes.Buffer{}
	r.cmd = exec.Command(buildBinary(r.t), "serve", "--dev")
	r.cmd.Env = append(os.Environ(), append(r.env, "MULTILINE_ADDR="+r.addr)...)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + r.addr + "/readyz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("replica %s did not start:\n%s", r.addr, r.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (r *replica) kill() {
	r.cmd.Process.Signal(syscall.SIGKILL)
	r.cmd.Wait()
}

func (r *replica) stop() {
	r.cmd.Process.Signal(syscall.SIGTERM)
	r.cmd.Wait()
}

// crashWorld is the outside world of the binary: WeChat and the Bot Connector.
type crashWorld struct {
	t    *testing.T
	fake *fakewechat.Server
	wx   *httptest.Server
	conn *fakeconnector.Fake
	bf   *httptest.Server
}

func newCrashWorld(t *testing.T, callback string) *crashWorld {
	cfg, err := LoadConfig(func(string) string { return "" }, true)
	if err != nil {
		t.Fatal(err)
	}
	fake, err := fakewechat.New(fakewechat.Config{CorpID: cfg.WeComCorpID, KfSecret: cfg.WeComKFSecret,
		CallbackToken: cfg.WeComCallbackToken, EncodingAESKey: cfg.WeComAESKey, CallbackURL: callback,
		OpenKfID: fakewechat.DefaultOpenKfID})
	if err != nil {
		t.Fatal(err)
	}
	w := &crashWorld{t: t, fake: fake, wx: httptest.NewServer(fake), conn: fakeconnector.New(fakeconnector.Options{NoLimits: true})}
	w.bf = httptest.NewServer(w.conn)
	t.Cleanup(func() { w.wx.Close(); w.bf.Close() })
	return w
}

// post sends an activity to a replica, retrying while it is down. It returns once
// the replica answered 2xx.
func (w *crashWorld) post(addrs func() string, body map[string]any) {
	w.t.Helper()
	b, _ := json.Marshal(body)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Post("http://"+addrs()+"/api/messages", "application/json", bytes.NewReader(b))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("activity not accepted: %v %v", resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *crashWorld) activity(typ string, i int, extra map[string]any) map[string]any {
	user, conv := fmt.Sprintf("29:emp%02d", i), fmt.Sprintf("a:emp%02d", i)
	a := map[string]any{
		"type": typ, "id": fmt.Sprintf("%s-%d-%d", typ, i, time.Now().UnixNano()), "serviceUrl": w.bf.URL + "/", "channelId": "msteams",
		"from":         map[string]any{"id": user, "name": fmt.Sprintf("Employee %02d", i), "aadObjectId": fmt.Sprintf("aad-%02d", i)},
		"recipient":    map[string]any{"id": "28:bot"},
		"conversation": map[string]any{"id": conv, "conversationType": "personal", "tenantId": "tenant-1"},
		"channelData":  map[string]any{"tenant": map[string]any{"id": "tenant-1"}},
	}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func consumerName(i int) string { return fmt.Sprintf("wmConsumer%02d", i) }
func replyText(c, round, n int) string {
	return fmt.Sprintf("reply c%02d r%d n%d", c, round, n)
}

// cardShows reports whether any bot activity in the employee's chat contains text.
func (w *crashWorld) cardShows(i int, text string) bool {
	for _, a := range w.conn.Activities(fmt.Sprintf("a:emp%02d", i)) {
		if bytes.Contains(a.Body, []byte(text)) {
			return true
		}
	}
	return false
}

// drive runs the conversation: every consumer writes, waits until their employee
// sees it, and the employee answers three times. crash is called after round 1.
func (w *crashWorld) drive(addr func() string, crash func(round int)) {
	t := w.t
	for i := range crashConsumers {
		w.conn.AddConversation(fmt.Sprintf("a:emp%02d", i), "tenant-1", fmt.Sprintf("29:emp%02d", i))
		w.post(addr, w.activity("installationUpdate", i, map[string]any{"action": "add"}))
	}
	// Every employee gets exactly one consumer (round robin), so plain text in their
	// bot chat goes to that thread.
	owner := map[int]int{}
	for round := range crashRounds {
		for c := range crashConsumers {
			// The consumer reads the previous answers before writing again: replies
			// still in flight would count in the new window, as WeChat counts them.
			w.waitReplies(c, round*crashReplies)
			text := fmt.Sprintf("question c%02d r%d", c, round)
			w.consumerSends(consumerName(c), text)
			if round == 0 {
				// Wait until some employee shows it, to learn who owns the thread.
				deadline := time.Now().Add(60 * time.Second)
				for {
					found := -1
					for e := range crashConsumers {
						if w.cardShows(e, text) {
							found = e
						}
					}
					if found >= 0 {
						owner[c] = found
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("consumer %d's first message never reached Teams", c)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}
		for c := range crashConsumers {
			e := owner[c]
			w.waitCard(e, fmt.Sprintf("question c%02d r%d", c, round))
			for n := range crashReplies {
				w.post(addr, w.activity("message", e, map[string]any{"text": replyText(c, round, n)}))
			}
		}
		if crash != nil {
			crash(round)
		}
	}
}

// waitReplies waits until consumer c has received n employee replies.
func (w *crashWorld) waitReplies(c, n int) {
	deadline := time.Now().Add(180 * time.Second)
	for {
		got := 0
		for _, m := range w.fake.Inbox(consumerName(c)) {
			if strings.HasPrefix(m.Text, "reply ") {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("consumer %d received %d replies, want %d", c, got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *crashWorld) waitCard(e int, text string) {
	deadline := time.Now().Add(180 * time.Second)
	for !w.cardShows(e, text) {
		if time.Now().After(deadline) {
			w.t.Fatalf("employee %d never saw %q", e, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// consumerSends writes as a consumer. If the service is down the callback fails;
// the message stays in sync_msg and is pulled with the next callback, as in WeChat.
func (w *crashWorld) consumerSends(consumer, text string) {
	if _, err := w.fake.ConsumerSends(context.Background(), consumer, text); err != nil {
		w.t.Logf("callback for %q not acknowledged (%v); it will be pulled later", text, err)
	}
}

// verify waits until every consumer received everything and checks exactly-once
// delivery in order.
func (w *crashWorld) verify() {
	t := w.t
	want := func(c int) []string {
		var out []string
		for r := range crashRounds {
			for n := range crashReplies {
				out = append(out, replyText(c, r, n))
			}
		}
		return out
	}
	deadline := time.Now().Add(180 * time.Second)
	for c := range crashConsumers {
		for {
			var got []string
			for _, m := range w.fake.Inbox(consumerName(c)) {
				if strings.HasPrefix(m.Text, "reply ") {
					got = append(got, m.Text)
				}
			}
			if slices.Equal(got, want(c)) {
				break
			}
			if len(got) > len(want(c)) || time.Now().After(deadline) {
				t.Fatalf("consumer %d received\n%q\nwant\n%q", c, got, want(c))
			}
			time.Sleep(50 * time.Millisecond)
		}
		welcome := 0
		for _, m := range w.fake.Inbox(consumerName(c)) {
			if strings.HasPrefix(m.Text, "Thank you! You can now start messaging") {
				welcome++
			}
		}
		if welcome != 1 {
			t.Fatalf("consumer %d got the initial auto message %d times", c, welcome)
		}
	}
}

// slowSends makes WeChat answer send_msg late, so that a kill finds sends in flight.
func (w *crashWorld) slowSends(n int) {
	for range n {
		w.fake.InjectFault(fakewechat.Fault{Path: "/cgi-bin/kf/send_msg", Delay: 30 * time.Millisecond})
	}
}

func TestCrashRestartSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	addr := freeAddr(t)
	w := newCrashWorld(t, "http://"+addr+"/wechat/callback")
	env := []string{"MULTILINE_DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "crash.db"), "WECOM_API_BASE=" + w.wx.URL}
	r := startReplica(t, addr, env)
	kills := 0
	w.drive(func() string { return addr }, func(round int) {
		if round == 1 || round == 2 {
			w.slowSends(40)
			time.Sleep(150 * time.Millisecond) // some sends done, some in flight, some pending
			r.kill()
			kills++
			r.start()
		}
	})
	w.verify()
	if kills != 2 {
		t.Fatalf("killed %d times", kills)
	}
	// SIGTERM: in-flight requests finish and the process exits cleanly.
	r.stop()
	if code := r.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(r.log.String(), "shutting down") {
		t.Fatalf("graceful stop: exit %d\n%s", code, tail(r.log.String(), 2000))
	}
}

func TestCrashTwoReplicasPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	url := pgtest.Schema(t)
	a, b := freeAddr(t), freeAddr(t)
	w := newCrashWorld(t, "http://"+a+"/wechat/callback")
	env := []string{"MULTILINE_DATABASE_URL=" + url, "WECOM_API_BASE=" + w.wx.URL}
	ra := startReplica(t, a, env)
	rb := startReplica(t, b, env)
	defer rb.stop()
	var mu sync.Mutex
	alive := []string{a, b}
	n := 0
	next := func() string { // a load balancer: round robin over live replicas
		mu.Lock()
		defer mu.Unlock()
		n++
		return alive[n%len(alive)]
	}
	w.drive(next, func(round int) {
		if round == 1 {
			w.slowSends(40)
			time.Sleep(150 * time.Millisecond)
			ra.kill()
			mu.Lock()
			alive = []string{b}
			mu.Unlock()
			w.fake.SetCallbackURL("http://" + b + "/wechat/callback")
		}
	})
	w.verify()
}
