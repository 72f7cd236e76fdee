package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/multiline/multiline/bot/fakeconnector"
	"github.com/multiline/multiline/internal/prodfakes"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// burstWorld is the binary under test and the outside world it talks to, set up
// either the way an operator runs it (production mode) or in local mode.
type burstWorld struct {
	mode     string // "production" or "dev"
	fcfg     fakewechat.Config
	fake     *fakewechat.Server
	conn     *fakeconnector.Fake
	wxRec    *wxRecorder
	wxConns  *burstConns
	teamsRec *teamsRecorder
	bfConns  *burstConns
	svc      string // the service's base URL
	proc     *burstProc
	graph    *prodfakes.Graph // production mode only
	// start starts the service and installs the app for every employee, each of
	// whom has had the welcome card when it returns.
	start func()
}

// burstMode is BURST_MODE: production (the default: `multiline serve` with the
// Bot Framework's token checks, Entra, Graph and TLS through the production
// fakes) or dev (`multiline serve --dev`, the local mode issue 10 first measured).
func burstMode(b *testing.B) string {
	switch m := os.Getenv("BURST_MODE"); m {
	case "", "production":
		return "production"
	case "dev":
		return m
	default:
		b.Fatalf("BURST_MODE: %q is neither production nor dev", m)
		return ""
	}
}

// newBurstWorld sets up the world of mode for one backend; nothing runs yet.
func newBurstWorld(b *testing.B, mode, backend, dbURL string, extraEnv map[string]string) *burstWorld {
	bw := &burstWorld{mode: mode}
	listen := func(which string, h http.Handler) *httptest.Server {
		switch which {
		case "wechat":
			bw.wxRec = newWxRecorder(h)
			srv, conns := burstServer(bw.wxRec)
			bw.wxConns = conns
			return srv
		default:
			bw.teamsRec = &teamsRecorder{next: h, seen: map[string]time.Time{}}
			srv, conns := burstServer(bw.teamsRec)
			bw.bfConns = conns
			return srv
		}
	}
	metrics := burstFreeAddr(b)
	if mode == "production" {
		run := newProdRun(b)
		env := map[string]string{"MULTILINE_METRICS_ADDR": metrics, "GOTRACEBACK": "all"}
		for k, v := range extraEnv {
			env[k] = v
		}
		w := run.world(b, prodOptions{name: "burst " + backend, dbURL: dbURL, noStart: true, env: env, listen: listen})
		// Nobody is told of the backlog until its last message (runBurst sets the
		// callback back then).
		w.fake.SetCallbackURL("")
		bw.fcfg = fakewechat.Config{CorpID: w.corpID, KfSecret: w.kfSecret, CallbackToken: w.kfToken,
			EncodingAESKey: w.kfAESKey, OpenKfID: w.openKfID}
		bw.fake, bw.conn, bw.svc, bw.graph = w.fake, w.conn, "http://"+w.addr, run.graph
		bw.start = func() {
			// A tenant set up as the README asks: Graph may post to the
			// activity feed of every employee, who has the app installed.
			w.consentActivityFeed()
			w.start()
			bw.proc = &burstProc{cmd: w.proc.cmd, done: w.proc.done, logf: w.proc.log.String}
			for i := range burstEmployees {
				e := w.install(fmt.Sprintf("burst%02d", i), fmt.Sprintf("Employee %02d", i), true)
				run.graph.AddUser(e.oid, true)
			}
		}
		return bw
	}

	cfg, err := LoadConfig(func(string) string { return "" }, true)
	if err != nil {
		b.Fatal(err)
	}
	bw.fcfg = fakewechat.Config{CorpID: cfg.WeComCorpID, KfSecret: cfg.WeComKFSecret,
		CallbackToken: cfg.WeComCallbackToken, EncodingAESKey: cfg.WeComAESKey, OpenKfID: fakewechat.DefaultOpenKfID}
	if bw.fake, err = fakewechat.New(bw.fcfg); err != nil {
		b.Fatal(err)
	}
	wx := listen("wechat", bw.fake)
	bw.conn = fakeconnector.New(fakeconnector.Options{}) // Teams' limits on
	bf := listen("connector", bw.conn)
	b.Cleanup(func() { wx.Close(); bf.Close() })
	addr := burstFreeAddr(b)
	bw.svc = "http://" + addr
	bw.start = func() {
		logDir := os.Getenv("BURST_LOG_DIR")
		if logDir == "" {
			logDir = b.TempDir()
		} else if err := os.MkdirAll(logDir, 0o755); err != nil {
			b.Fatal(err)
		}
		logPath := filepath.Join(logDir, fmt.Sprintf("burst-%s-%s.log", backend, time.Now().Format("20060102-150405")))
		env := []string{"MULTILINE_ADDR=" + addr, "MULTILINE_DATABASE_URL=" + dbURL, "WECOM_API_BASE=" + wx.URL,
			"MULTILINE_METRICS_ADDR=" + metrics, "GOTRACEBACK=all"}
		for k, v := range extraEnv {
			env = append(env, k+"="+v)
		}
		bw.proc = startBurstProc(b, buildBinary(b), logPath, env)
		client := &http.Client{Timeout: 10 * time.Second}
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp, err := client.Get(bw.svc + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				b.Fatalf("the service did not become ready:\n%s", burstTail(bw.proc.log(), 4000))
			}
			time.Sleep(50 * time.Millisecond)
		}
		for i := range burstEmployees {
			bw.conn.AddConversation(fmt.Sprintf("a:burst%02d", i), "tenant-1", fmt.Sprintf("29:burst%02d", i))
			body, _ := json.Marshal(burstActivity(bf.URL, "installationUpdate", i, map[string]any{"action": "add"}))
			resp, err := client.Post(bw.svc+"/api/messages", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatalf("install %d: %v", i, err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				b.Fatalf("install %d: %d", i, resp.StatusCode)
			}
		}
		deadline = time.Now().Add(60 * time.Second)
		for i := 0; i < burstEmployees; {
			if len(bw.conn.Activities(fmt.Sprintf("a:burst%02d", i))) > 0 {
				i++
				continue
			}
			if time.Now().After(deadline) {
				b.Fatalf("employee %d never got the welcome card:\n%s", i, burstTail(bw.proc.log(), 4000))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return bw
}

// graphSummary says what reached Graph from t on: activity-feed notifications
// Graph accepted, and its other answers by status.
func (bw *burstWorld) graphSummary(t time.Time) string {
	if bw.graph == nil {
		return ""
	}
	byStatus := map[int]int{}
	for _, r := range bw.graph.Requests() {
		if !r.At.Before(t) {
			byStatus[r.Status]++
		}
	}
	n := 0
	for _, a := range bw.graph.Notifications() {
		if !a.At.Before(t) {
			n++
		}
	}
	return fmt.Sprintf("%d activity-feed notifications accepted by Graph; Graph answers by status: %v", n, byStatus)
}
