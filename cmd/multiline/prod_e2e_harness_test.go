package main

// The production-mode end-to-end harness: the real binary, `multiline serve`
// without --dev, configured only through the environment the design documents,
// against local fakes of everything it talks to.
//
//   - Microsoft Entra ID (instance discovery, OpenID configuration, the v2.0 token
//     endpoint) and Microsoft Graph, over TLS, reached through an HTTPS CONNECT
//     proxy (HTTPS_PROXY) whose only trusted root is a test CA (SSL_CERT_FILE);
//     see internal/prodfakes. No production default changes.
//   - The Bot Framework channel issuer that signs inbound activities
//     (BOT_OPENID_METADATA_URL) and the tenant's Entra issuer that signs the tab's
//     SSO tokens (TAB_OPENID_METADATA_URL), over plain HTTP on 127.0.0.1, which
//     Go never proxies.
//   - WeChat: wechat/fakewechat behind wechatWire, a recording middleware with a
//     few test knobs (drop a send's connection, age a pulled message's send_time,
//     answer kf/account/list with other accounts).
//   - The Bot Connector: bot/fakeconnector behind connectorWire, which checks
//     that every request carries a token the Entra fake issued for the Bot
//     Framework, and can answer 400 forever to requests carrying a marker.
//
// Every process the run starts (servers and CLI commands) writes into a
// prodRun log, which the last subtest scans for secrets.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/bot/fakeconnector"
	"github.com/multiline/multiline/internal/prodfakes"
	"github.com/multiline/multiline/wechat"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// Generous timeouts: the run must hold on a loaded 2-core machine.
const (
	prodSoon  = 30 * time.Second // something that should happen at once
	prodStart = 45 * time.Second // a process becoming ready
)

// prodRun is what all worlds of one test share: the cloud (Entra, Graph, the
// proxy, the two token issuers, the CA) and the log of every process.
type prodRun struct {
	t      testing.TB
	dir    string
	caFile string
	certs  string // an empty SSL_CERT_DIR: the CA is the only root
	ca     *prodfakes.CA
	entra  *prodfakes.Entra
	graph  *prodfakes.Graph
	proxy  *prodfakes.Proxy
	bf     *prodfakes.Issuer // Bot Framework channel tokens
	tab    *prodfakes.Issuer // the tenant's Entra: tab SSO tokens

	appID, tenant, password string

	mu      sync.Mutex
	logs    []prodLog
	secrets map[string]string // secret -> what it is
	procs   []*prodProc
	worlds  []*prodWorld
}

type prodLog struct {
	name string
	buf  *syncBuffer
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randGUID() string {
	h := randHex(16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// randAESKey is an EncodingAESKey: 43 characters of base64 (32 bytes).
func randAESKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return strings.TrimSuffix(base64.StdEncoding.EncodeToString(b), "=")
}

func newProdRun(t testing.TB) *prodRun {
	t.Helper()
	r := &prodRun{t: t, dir: t.TempDir(), secrets: map[string]string{},
		appID: randGUID(), tenant: randGUID(),
		// Shaped like an Entra client secret.
		password: randHex(3) + "8Q~" + randHex(14) + "_" + randHex(4)}
	r.secret(r.password, "MicrosoftAppPassword")
	var err error
	if r.ca, err = prodfakes.NewCA(); err != nil {
		t.Fatal(err)
	}
	if r.caFile, err = r.ca.WriteFile(r.dir); err != nil {
		t.Fatal(err)
	}
	r.certs = filepath.Join(r.dir, "no-system-certs")
	if err := os.Mkdir(r.certs, 0o700); err != nil {
		t.Fatal(err)
	}
	if r.entra, err = prodfakes.NewEntra(r.ca, prodfakes.EntraConfig{TenantID: r.tenant, ClientID: r.appID, ClientSecret: r.password}); err != nil {
		t.Fatal(err)
	}
	if r.graph, err = prodfakes.NewGraph(r.ca, r.entra); err != nil {
		t.Fatal(err)
	}
	if r.proxy, err = prodfakes.NewProxy(map[string]string{
		prodfakes.EntraHost + ":443": r.entra.Addr(),
		prodfakes.GraphHost + ":443": r.graph.Addr(),
	}); err != nil {
		t.Fatal(err)
	}
	if r.bf, err = prodfakes.NewBotFrameworkIssuer(); err != nil {
		t.Fatal(err)
	}
	if r.tab, err = prodfakes.NewTenantIssuer(r.tenant); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.mu.Lock()
		procs := slices.Clone(r.procs)
		r.mu.Unlock()
		for _, p := range procs {
			p.kill()
		}
		r.proxy.Close()
		r.graph.Close()
		r.entra.Close()
		r.bf.Close()
		r.tab.Close()
		if t.Failed() {
			r.dumpNotable()
		}
	})
	return r
}

// secret registers a value that must never appear in any log.
func (r *prodRun) secret(v, what string) {
	if v == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[v] = what
}

// log registers a process's output for the secret scan.
func (r *prodRun) log(name string) *syncBuffer {
	b := &syncBuffer{}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, prodLog{name: name, buf: b})
	return b
}

func (r *prodRun) dumpNotable() {
	r.mu.Lock()
	logs := slices.Clone(r.logs)
	r.mu.Unlock()
	for _, l := range logs {
		var notable []string
		for _, line := range strings.Split(l.buf.String(), "\n") {
			if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") || strings.HasPrefix(line, "configuration:") {
				notable = append(notable, line)
			}
		}
		if len(notable) > 0 {
			r.t.Logf("%s: warnings and errors (last 6000 bytes):\n%s", l.name, tail(strings.Join(notable, "\n"), 6000))
		}
	}
}

// childEnv is the test's environment without anything the service reads or any
// proxy or certificate setting, plus env.
func childEnv(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		u := strings.ToUpper(k)
		switch {
		case u == "HTTP_PROXY", u == "HTTPS_PROXY", u == "NO_PROXY", u == "ALL_PROXY", u == "SSL_CERT_FILE", u == "SSL_CERT_DIR",
			strings.HasPrefix(u, "MULTILINE_"), strings.HasPrefix(u, "WECOM_"), strings.HasPrefix(u, "WECHAT_"),
			strings.HasPrefix(u, "MICROSOFTAPP"), strings.HasPrefix(u, "BOT_"), strings.HasPrefix(u, "TAB_"):
			continue
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out
}

// prodProc is one `multiline serve` process.
type prodProc struct {
	name string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
	once sync.Once
}

// startProc starts the binary with args and env. It does not wait for readiness.
func (r *prodRun) startProc(t testing.TB, name string, env map[string]string, args ...string) *prodProc {
	t.Helper()
	p := &prodProc{name: name, log: r.log(name), done: make(chan struct{})}
	p.cmd = exec.Command(buildBinary(t), args...)
	p.cmd.Env = childEnv(env)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	r.mu.Lock()
	r.procs = append(r.procs, p)
	r.mu.Unlock()
	return p
}

func (p *prodProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill ends the process (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (p *prodProc) kill() {
	p.once.Do(func() {
		if p.exited() {
			return
		}
		p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// waitReady polls /readyz until it answers 200.
func (p *prodProc) waitReady(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(prodStart)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if p.exited() {
			t.Fatalf("%s exited at start-up:\n%s", p.name, tail(p.log.String(), 4000))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %s:\n%s", p.name, prodStart, tail(p.log.String(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// prodOptions choose a world.
type prodOptions struct {
	name string
	// mode is WECHAT_MODE: wecom-kf (default) or official-account.
	mode string
	// dbURL is MULTILINE_DATABASE_URL; default a SQLite file in a temp dir.
	dbURL string
	// unsetOpenKfID leaves WECOM_OPEN_KFID unset (the only account of
	// kf/account/list is used).
	unsetOpenKfID bool
	// accounts, when not nil, is what kf/account/list answers instead of the
	// fake's one account.
	accounts []string
	// noStart builds the world without starting the service.
	noStart bool
	env     map[string]string
	// listen, when set, serves the world's fake WeChat ("wechat") and Bot
	// Connector ("connector"), so that a benchmark can record and count what
	// reaches them; by default each is a plain httptest server.
	listen func(which string, h http.Handler) *httptest.Server
}

// prodWorld is one deployment: a service process with its own database,
// WeChat and Bot Connector, in the shared cloud.
type prodWorld struct {
	t    testing.TB
	run  *prodRun
	opts prodOptions
	addr string
	env  map[string]string
	db   string // SQLite path, when on SQLite

	corpID, kfSecret, kfToken, kfAESKey, openKfID string
	oaAppID, oaSecret, oaToken, oaAESKey          string
	admin                                         string // the Entra object id in MULTILINE_ADMINS

	fake    *fakewechat.Server
	wx      *wechatWire
	wxSrv   *httptest.Server
	conn    *fakeconnector.Fake
	cw      *connectorWire
	connSrv *httptest.Server
	proc    *prodProc

	staff *prodStaff
}

// prodStaff are a world's employees.
type prodStaff struct {
	mu   sync.Mutex
	list []*prodEmployee
}

func (s *prodStaff) add(e *prodEmployee) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, e)
}

func (s *prodStaff) all() []*prodEmployee {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.list)
}

// in returns the world for use in subtest t (failures are t's).
func (w *prodWorld) in(t testing.TB) *prodWorld {
	c := *w
	c.t = t
	return &c
}

func (r *prodRun) world(t testing.TB, o prodOptions) *prodWorld {
	t.Helper()
	if o.mode == "" {
		o.mode = "wecom-kf"
	}
	if o.name == "" {
		o.name = o.mode
	}
	w := &prodWorld{t: t, run: r, opts: o, addr: freeAddr(t),
		corpID: "ww" + randHex(8), kfSecret: randHex(20), kfToken: "kfT" + randHex(10), kfAESKey: randAESKey(),
		openKfID: "wk" + randHex(15),
		oaAppID:  "wx" + randHex(8), oaSecret: randHex(16), oaToken: "oaT" + randHex(10), oaAESKey: randAESKey(),
		admin: randGUID(), staff: &prodStaff{}}
	for v, what := range map[string]string{w.kfSecret: "WECOM_KF_SECRET", w.kfToken: "WECOM_CALLBACK_TOKEN", w.kfAESKey: "WECOM_ENCODING_AES_KEY",
		w.oaSecret: "WECHAT_APP_SECRET", w.oaToken: "WECHAT_TOKEN", w.oaAESKey: "WECHAT_ENCODING_AES_KEY"} {
		r.secret(v, what)
	}
	fc := fakewechat.Config{CorpID: w.corpID, KfSecret: w.kfSecret, CallbackToken: w.kfToken, EncodingAESKey: w.kfAESKey,
		OpenKfID: w.openKfID, CallbackURL: "http://" + w.addr + "/wechat/callback"}
	if o.mode == "official-account" {
		fc = fakewechat.Config{Mode: wechat.SourceOfficialAccount, AppID: w.oaAppID, AppSecret: w.oaSecret,
			CallbackToken: w.oaToken, EncodingAESKey: w.oaAESKey, CallbackURL: "http://" + w.addr + "/wechat/callback"}
	}
	var err error
	if w.fake, err = fakewechat.New(fc); err != nil {
		t.Fatal(err)
	}
	w.wx = &wechatWire{fake: w.fake, accounts: o.accounts, ages: map[string]time.Duration{}}
	listen := o.listen
	if listen == nil {
		listen = func(_ string, h http.Handler) *httptest.Server { return httptest.NewServer(h) }
	}
	w.wxSrv = listen("wechat", w.wx)
	w.conn = fakeconnector.New(fakeconnector.Options{})
	w.cw = &connectorWire{fake: w.conn, entra: r.entra}
	w.connSrv = listen("connector", w.cw)
	t.Cleanup(func() {
		if w.proc != nil {
			w.proc.kill()
		}
		w.wxSrv.Close()
		w.connSrv.Close()
	})

	if o.dbURL == "" {
		w.db = filepath.Join(t.TempDir(), "multiline.db")
		o.dbURL = "sqlite:" + w.db
		w.opts.dbURL = o.dbURL
	}
	w.env = map[string]string{
		"MicrosoftAppId":          r.appID,
		"MicrosoftAppPassword":    r.password,
		"MicrosoftAppTenantId":    r.tenant,
		"MicrosoftAppType":        "SingleTenant",
		"MULTILINE_DATABASE_URL":  o.dbURL,
		"MULTILINE_ADDR":          w.addr,
		"MULTILINE_PUBLIC_URL":    "https://multiline.example.test",
		"MULTILINE_ADMINS":        w.admin,
		"WECHAT_MODE":             o.mode,
		"BOT_OPENID_METADATA_URL": r.bf.MetadataURL(),
		"TAB_OPENID_METADATA_URL": r.tab.MetadataURL(),
		"HTTPS_PROXY":             r.proxy.URL().String(),
		"SSL_CERT_FILE":           r.caFile,
		"SSL_CERT_DIR":            r.certs,
	}
	if o.mode == "official-account" {
		w.env["WECHAT_APP_ID"] = w.oaAppID
		w.env["WECHAT_APP_SECRET"] = w.oaSecret
		w.env["WECHAT_TOKEN"] = w.oaToken
		w.env["WECHAT_ENCODING_AES_KEY"] = w.oaAESKey
		w.env["WECHAT_API_BASE"] = w.wxSrv.URL
	} else {
		w.env["WECOM_CORP_ID"] = w.corpID
		w.env["WECOM_KF_SECRET"] = w.kfSecret
		w.env["WECOM_CALLBACK_TOKEN"] = w.kfToken
		w.env["WECOM_ENCODING_AES_KEY"] = w.kfAESKey
		w.env["WECOM_API_BASE"] = w.wxSrv.URL
		if !o.unsetOpenKfID {
			w.env["WECOM_OPEN_KFID"] = w.openKfID
		}
	}
	for k, v := range o.env {
		w.env[k] = v
	}
	r.mu.Lock()
	r.worlds = append(r.worlds, w)
	r.mu.Unlock()
	if !o.noStart {
		w.start()
	}
	return w
}

// start runs `multiline serve` (production mode) and waits until it is ready.
func (w *prodWorld) start() {
	w.t.Helper()
	w.proc = w.run.startProc(w.t, "serve "+w.opts.name, w.env, "serve")
	w.proc.waitReady(w.t, w.addr)
}

// consentActivityFeed is the tenant's admin uploading the app package (Graph
// then knows its activity types) and granting TeamsActivity.Send, as the
// README's set-up asks. It returns the package's manifest.json.
func (w *prodWorld) consentActivityFeed() []byte {
	w.t.Helper()
	pkg := filepath.Join(w.t.TempDir(), "appPackage.zip")
	w.mustCLI("manifest", "build", "--out", pkg)
	manifestJSON := readZipFile(w.t, pkg, "manifest.json")
	if err := w.run.graph.DeclareActivityTypes(manifestJSON); err != nil {
		w.t.Fatal(err)
	}
	w.run.graph.Grant(prodfakes.PermissionSendActivity)
	return manifestJSON
}

// cli runs `multiline args…` against the world's database and returns its output.
func (w *prodWorld) cli(args ...string) (string, error) {
	w.t.Helper()
	log := w.run.log("multiline " + strings.Join(args, " "))
	cmd := exec.Command(buildBinary(w.t), args...)
	cmd.Env = childEnv(w.env)
	cmd.Stdout, cmd.Stderr = log, log
	ctx, cancel := context.WithTimeout(context.Background(), prodStart)
	defer cancel()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return "", err
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return log.String(), err
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return log.String(), fmt.Errorf("multiline %s: timed out", strings.Join(args, " "))
	}
}

// mustCLI is cli that fails the test on an error.
func (w *prodWorld) mustCLI(args ...string) string {
	w.t.Helper()
	out, err := w.cli(args...)
	if err != nil {
		w.t.Fatalf("multiline %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	waitShow(t, timeout, what, cond, nil)
}

// waitShow is waitFor that, on a timeout, shows what show returns.
func waitShow(t testing.TB, timeout time.Duration, what string, cond func() bool, show func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			if show != nil {
				t.Fatalf("timed out after %s waiting for %s; there is:\n%s", timeout, what, show())
			}
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---- Teams side ----

// prodEmployee is a Teams user with the app installed.
type prodEmployee struct {
	key, name, teamsID, conv, oid string
	id                            string // the service's employee id
	upn                           string // what their SSO token names them (preferred_username)
}

func (w *prodWorld) serviceURL() string { return w.connSrv.URL + "/" }

// activity is what Teams posts for e.
func (w *prodWorld) activity(e *prodEmployee, typ string, extra map[string]any) map[string]any {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	from := map[string]any{"id": e.teamsID, "aadObjectId": e.oid}
	if typ != "installationUpdate" {
		from["name"] = e.name // Teams names the sender on messages and invokes only
	}
	a := map[string]any{
		"type": typ, "id": "f:" + randHex(8), "timestamp": now, "localTimestamp": now,
		"serviceUrl": w.serviceURL(), "channelId": "msteams",
		"from":         from,
		"recipient":    map[string]any{"id": "28:" + w.run.appID, "name": "MultiLine"},
		"conversation": map[string]any{"id": e.conv, "conversationType": "personal", "tenantId": w.run.tenant},
		"channelData":  map[string]any{"tenant": map[string]any{"id": w.run.tenant}},
		"locale":       "en-US",
	}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

// postActivity posts a signed activity as the Bot Connector does.
func (w *prodWorld) postActivity(a map[string]any) (int, []byte) {
	w.t.Helper()
	b, _ := json.Marshal(a)
	return w.do("POST", "/api/messages", "Bearer "+w.run.bf.ChannelToken(w.run.appID, a["serviceUrl"].(string)), "application/json", bytes.NewReader(b), nil)
}

// do is one HTTP request to the service.
func (w *prodWorld) do(method, path, authz, contentType string, body io.Reader, header http.Header) (int, []byte) {
	w.t.Helper()
	req, err := http.NewRequest(method, "http://"+w.addr+path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	c := &http.Client{Timeout: prodSoon, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// say is the employee writing text in the bot's 1:1 chat.
func (w *prodWorld) say(e *prodEmployee, text string) {
	w.t.Helper()
	if st, b := w.postActivity(w.activity(e, "message", map[string]any{"text": text, "textFormat": "plain"})); st/100 != 2 {
		w.t.Fatalf("%s says %q: %d %s", e.name, text, st, b)
	}
}

// employeeIDs lists the ids `multiline admin employees` prints.
func (w *prodWorld) employeeIDs() []string {
	w.t.Helper()
	var ids []string
	for i, line := range strings.Split(w.mustCLI("admin", "employees"), "\n") {
		if f := strings.Fields(line); i > 0 && len(f) > 0 && f[0] != "ID" {
			ids = append(ids, f[0])
		}
	}
	return ids
}

// install is a Teams user installing the app: the bot welcomes them, an admin
// enables them with `multiline admin enable`, and they ask the bot for help
// (Teams names them on that message, which is how the service learns their name).
func (w *prodWorld) install(key, name string, enable bool) *prodEmployee {
	w.t.Helper()
	e := &prodEmployee{key: key, name: name, teamsID: "29:1" + randHex(20), conv: "a:1" + randHex(24), oid: randGUID(),
		upn: key + "@contoso.example"}
	w.conn.AddConversation(e.conv, w.run.tenant, e.teamsID)
	before := w.employeeIDs()
	if st, b := w.postActivity(w.activity(e, "installationUpdate", map[string]any{"action": "add"})); st/100 != 2 {
		w.t.Fatalf("install %s: %d %s", name, st, b)
	}
	waitFor(w.t, prodSoon, name+"'s welcome card", func() bool { return len(w.conn.Activities(e.conv)) > 0 })
	for _, id := range w.employeeIDs() {
		if !slices.Contains(before, id) {
			e.id = id
		}
	}
	if e.id == "" {
		w.t.Fatalf("installing %s made no new employee", name)
	}
	if enable {
		w.mustCLI("admin", "enable", e.id)
	}
	n := len(w.conn.Activities(e.conv))
	w.say(e, "help")
	waitFor(w.t, prodSoon, name+"'s help card", func() bool { return len(w.conn.Activities(e.conv)) > n })
	w.staff.add(e)
	return e
}

// texts returns every string in a JSON document, joined by newlines: what a
// person could read in a card, unescaped.
func texts(raw []byte) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, y := range x {
				walk(y)
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k])
			}
		}
	}
	walk(v)
	return strings.Join(out, "\n")
}

// chat is everything the bot has shown e in Teams (current card contents).
func (w *prodWorld) chat(e *prodEmployee) string {
	var all []string
	for _, a := range w.conn.Activities(e.conv) {
		if !a.Deleted {
			all = append(all, texts(a.Body))
		}
	}
	return strings.Join(all, "\n")
}

func (w *prodWorld) waitChat(e *prodEmployee, timeout time.Duration, text string) {
	w.t.Helper()
	waitShow(w.t, timeout, fmt.Sprintf("%q in %s's Teams chat", text, e.name), func() bool { return strings.Contains(w.chat(e), text) },
		func() string { return tail(w.chat(e), 3000) })
}

// whoSees waits until some employee's chat shows text and returns them.
func (w *prodWorld) whoSees(text string) *prodEmployee {
	w.t.Helper()
	var who *prodEmployee
	waitFor(w.t, prodSoon, fmt.Sprintf("%q in some employee's Teams chat", text), func() bool {
		for _, e := range w.staff.all() {
			if strings.Contains(w.chat(e), text) {
				who = e
				return true
			}
		}
		return false
	})
	return who
}

// ---- the tab ----

// sso is the SSO token Teams gives the tab for e.
func (w *prodWorld) sso(e *prodEmployee) string {
	return w.run.tab.SSOToken(w.run.appID, prodfakes.SSOUser{ObjectID: e.oid, Name: e.name, UPN: e.upn})
}

// api calls the tab's API with a bearer token; body is JSON-encoded unless it is
// an io.Reader.
func (w *prodWorld) api(token, method, path string, body any) (int, []byte) {
	w.t.Helper()
	var r io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case io.Reader:
		r, ct = b, "application/json"
	default:
		j, _ := json.Marshal(b)
		r, ct = bytes.NewReader(j), "application/json"
	}
	authz := ""
	if token != "" {
		authz = "Bearer " + token
	}
	return w.do(method, path, authz, ct, r, nil)
}

// apiJSON calls the API, expects want, and decodes the answer into out.
func (w *prodWorld) apiJSON(token, method, path string, body any, want int, out any) {
	w.t.Helper()
	st, b := w.api(token, method, path, body)
	if st != want {
		w.t.Fatalf("%s %s: %d, want %d: %s", method, path, st, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			w.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// tabThread is a thread as the tab's API shows it.
type tabThread struct {
	ID           string       `json:"id"`
	ConsumerName string       `json:"consumer_name"`
	Status       string       `json:"status"`
	Participants []string     `json:"participants"`
	LastMessage  string       `json:"last_message"`
	Queued       int          `json:"queued"`
	OptInLink    string       `json:"opt_in_link"`
	Messages     []tabMessage `json:"messages"`
}

type tabMessage struct {
	ID     string `json:"id"`
	From   string `json:"from"`
	Text   string `json:"text"`
	Notice string `json:"notice"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	Media  *struct {
		Kind     string `json:"kind"`
		FileName string `json:"file_name"`
	} `json:"media"`
}

func (w *prodWorld) threads(e *prodEmployee) []tabThread {
	w.t.Helper()
	var ts []tabThread
	w.apiJSON(w.sso(e), "GET", "/api/v1/threads", nil, 200, &ts)
	return ts
}

func (w *prodWorld) thread(e *prodEmployee, id string) tabThread {
	w.t.Helper()
	var t tabThread
	w.apiJSON(w.sso(e), "GET", "/api/v1/threads/"+id, nil, 200, &t)
	return t
}

// threadWith finds e's thread holding a message with text.
func (w *prodWorld) threadWith(e *prodEmployee, text string) tabThread {
	w.t.Helper()
	var found tabThread
	waitFor(w.t, prodSoon, fmt.Sprintf("a thread of %s's in the tab holding %q", e.name, text), func() bool {
		for _, s := range w.threads(e) {
			t := w.thread(e, s.ID)
			for _, m := range t.Messages {
				if strings.Contains(m.Text, text) {
					found = t
					return true
				}
			}
		}
		return false
	})
	return found
}

// ---- WeChat side ----

// consumerSends is a consumer writing; WeChat tells the service with a callback.
func (w *prodWorld) consumerSends(consumer, text string) {
	w.t.Helper()
	if _, err := w.fake.ConsumerSends(context.Background(), consumer, text); err != nil {
		w.t.Errorf("consumer %s writes %q: the callback was not acknowledged: %v", consumer, text, err)
	}
}

// arrive is a consumer opening the chat through a link.
func (w *prodWorld) arrive(consumer, link string) {
	w.t.Helper()
	if err := w.fake.Arrive(context.Background(), consumer, link, "", ""); err != nil {
		w.t.Fatalf("consumer %s arrives through %q: %v", consumer, link, err)
	}
}

// inbox is what a consumer received, as text lines ("[kind] text").
func (w *prodWorld) inbox(consumer string) []fakewechat.Delivered { return w.fake.Inbox(consumer) }

// showInbox is a consumer's inbox, one message a line.
func (w *prodWorld) showInbox(consumer string) string {
	var lines []string
	for _, m := range w.inbox(consumer) {
		lines = append(lines, fmt.Sprintf("[%s %s %s] %s", m.Kind, m.Via, m.FileName, m.Text))
	}
	return strings.Join(lines, "\n")
}

// showThread is a thread as the tab shows it, one message a line.
func (w *prodWorld) showThread(e *prodEmployee, id string) string {
	t := w.thread(e, id)
	lines := []string{fmt.Sprintf("thread %s status=%s participants=%v queued=%d", t.ID, t.Status, t.Participants, t.Queued)}
	for _, m := range t.Messages {
		lines = append(lines, fmt.Sprintf("[%s %s notice=%s reason=%q] %s", m.From, m.Status, m.Notice, m.Reason, m.Text))
	}
	return strings.Join(lines, "\n")
}

func (w *prodWorld) inboxHas(consumer, text string) bool {
	for _, m := range w.inbox(consumer) {
		if strings.Contains(m.Text, text) {
			return true
		}
	}
	return false
}

func (w *prodWorld) waitInbox(consumer string, timeout time.Duration, text string) {
	w.t.Helper()
	waitShow(w.t, timeout, fmt.Sprintf("%q in consumer %s's WeChat", text, consumer), func() bool { return w.inboxHas(consumer, text) },
		func() string { return w.showInbox(consumer) })
}

// wxCall is one WeChat API call the service made.
type wxCall struct {
	Path     string
	OpenKfID string
	Req      []byte
	Resp     []byte
}

// wechatWire records the service's WeChat API calls and the access tokens the
// fake issued, and has the test's knobs. Everything else is the fake's.
type wechatWire struct {
	fake *fakewechat.Server

	mu       sync.Mutex
	calls    []wxCall
	tokens   []string
	accounts []string                 // kf/account/list override; nil: the fake's own
	drops    []string                 // drop the connection of the next send_msg carrying each marker
	dropped  []string                 // markers whose send was dropped
	ages     map[string]time.Duration // age the send_time of pulled messages carrying the marker
}

// dropSend makes the next kf/send_msg whose body holds marker take effect, and
// then closes its connection without an answer.
func (x *wechatWire) dropSend(marker string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.drops = append(x.drops, marker)
}

// age makes sync_msg report messages holding marker as sent age ago (by the wall
// clock), as after an outage.
func (x *wechatWire) age(marker string, age time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.ages[marker] = age
}

// setAccounts makes kf/account/list answer accounts (nil: the fake's own).
func (x *wechatWire) setAccounts(accounts []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.accounts = accounts
}

// Dropped returns the markers whose send's connection was dropped.
func (x *wechatWire) Dropped() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.dropped)
}

func (x *wechatWire) Calls() []wxCall {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.calls)
}

func (x *wechatWire) Tokens() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.tokens)
}

func (x *wechatWire) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in struct {
		OpenKfID string `json:"open_kfid"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		json.Unmarshal(body, &in)
	}
	x.mu.Lock()
	accounts := x.accounts
	x.mu.Unlock()

	var status int
	var header http.Header
	var out []byte
	if r.URL.Path == "/cgi-bin/kf/account/list" && accounts != nil {
		status, header, out = x.accountList(r, accounts)
	} else {
		rec := httptest.NewRecorder()
		x.fake.ServeHTTP(rec, r)
		status, header, out = rec.Code, rec.Header(), rec.Body.Bytes()
	}

	drop := false
	x.mu.Lock()
	switch r.URL.Path {
	case "/cgi-bin/gettoken", "/cgi-bin/token":
		var t struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(out, &t) == nil && t.AccessToken != "" {
			x.tokens = append(x.tokens, t.AccessToken)
		}
	case "/cgi-bin/kf/sync_msg":
		if len(x.ages) > 0 {
			out = x.agedLocked(out)
		}
	case "/cgi-bin/kf/send_msg":
		for i, m := range x.drops {
			if bytes.Contains(body, []byte(m)) {
				x.drops = slices.Delete(x.drops, i, i+1)
				x.dropped = append(x.dropped, m)
				drop = true
				break
			}
		}
	}
	x.calls = append(x.calls, wxCall{Path: r.URL.Path, OpenKfID: in.OpenKfID, Req: body, Resp: out})
	x.mu.Unlock()

	if drop {
		// The send took effect; the answer never comes: the connection drops.
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	w.Write(out)
}

// accountList answers kf/account/list with accounts, after the fake has accepted
// the token (any authed kf API refuses bad tokens first).
func (x *wechatWire) accountList(r *http.Request, accounts []string) (int, http.Header, []byte) {
	probe := httptest.NewRequest("POST", "/cgi-bin/kf/service_state/get?access_token="+r.URL.Query().Get("access_token"), strings.NewReader("{}"))
	probe.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	x.fake.ServeHTTP(rec, probe)
	var st struct {
		ErrCode int `json:"errcode"`
	}
	json.Unmarshal(rec.Body.Bytes(), &st)
	switch st.ErrCode {
	case 40014, 41001, 42001:
		return rec.Code, rec.Header(), rec.Body.Bytes()
	}
	list := []map[string]any{}
	for i, a := range accounts {
		list = append(list, map[string]any{"open_kfid": a, "name": fmt.Sprintf("客服 %d", i+1), "avatar": "https://wework.qpic.cn/fake/avatar", "manage_privilege": true})
	}
	b, _ := json.Marshal(map[string]any{"errcode": 0, "errmsg": "ok", "account_list": list})
	return 200, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, b
}

// agedLocked moves back the send_time of pulled messages holding an aged marker.
func (x *wechatWire) agedLocked(out []byte) []byte {
	var resp map[string]any
	if json.Unmarshal(out, &resp) != nil {
		return out
	}
	list, _ := resp["msg_list"].([]any)
	changed := false
	for _, item := range list {
		m, _ := item.(map[string]any)
		text, _ := m["text"].(map[string]any)
		content, _ := text["content"].(string)
		if _, ok := m["send_time"].(float64); !ok || content == "" {
			continue
		}
		for marker, age := range x.ages {
			if strings.Contains(content, marker) {
				// age old by the wall clock, whatever the fake's clock says
				m["send_time"] = time.Now().Add(-age).Unix()
				changed = true
			}
		}
	}
	if !changed {
		return out
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return out
	}
	return b
}

// connectorWire stands before the fake Bot Connector: every request must carry a
// Bot Framework token the Entra fake issued (else 401, as the Bot Connector
// answers), and requests whose body holds a poison marker get 400 forever.
type connectorWire struct {
	fake  *fakeconnector.Fake
	entra *prodfakes.Entra

	mu         sync.Mutex
	poison     []string
	poisoned   int
	unauthed   []string // "METHOD path" of refused requests
	authorized int
}

func (c *connectorWire) poisonWith(marker string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.poison = append(c.poison, marker)
}

func (c *connectorWire) counts() (authorized, poisoned int, unauthed []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authorized, c.poisoned, slices.Clone(c.unauthed)
}

func (c *connectorWire) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	teamsError := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	}
	c.mu.Lock()
	if !strings.EqualFold(scheme, "Bearer") || !c.entra.Valid(tok, prodfakes.BotFrameworkScope) {
		c.unauthed = append(c.unauthed, r.Method+" "+r.URL.Path)
		c.mu.Unlock()
		teamsError(http.StatusUnauthorized, "Unauthorized", "Authorization has been denied for this request.")
		return
	}
	c.authorized++
	for _, m := range c.poison {
		if bytes.Contains(body, []byte(m)) {
			c.poisoned++
			c.mu.Unlock()
			teamsError(http.StatusBadRequest, "BadArgument", "Activity is invalid: unknown property in the card.")
			return
		}
	}
	c.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	c.fake.ServeHTTP(w, r)
}
