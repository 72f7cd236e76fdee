package teamsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/lexicon"
	"github.com/multiline/multiline/storage/memstore"
)

// The fuzz targets of the tab's API bodies: what a signed-in employee, admin
// or reviewer (or a script holding their token) posts. They drive the real
// routes over the real bridge (on the in-memory store, one fresh world per
// input). Every answer is a 2xx or a 4xx with a JSON error, never a 5xx, and a
// 4xx stores nothing. `make test-fuzz` runs each for a few seconds; the seeds
// here and in testdata/fuzz run with every `go test`.

// tabWorld is the tab over the bridge: Ann (an admin) is in thread t with a
// consumer's message, Bob is a colleague, and one lexicon rule exists.
type tabWorld struct {
	svc    *bridge.Service
	store  *memstore.Store
	media  *countingMedia
	e      *echo.Echo
	ann    bridge.EmployeeID
	bob    bridge.EmployeeID
	thread bridge.ThreadID
}

// countingMedia is the store's media, counting what is put.
type countingMedia struct {
	*memstore.Store
	mu  sync.Mutex
	put [][]byte
}

func (m *countingMedia) PutMedia(ctx context.Context, company, contentType, fileName string, data []byte) (string, error) {
	m.mu.Lock()
	m.put = append(m.put, bytes.Clone(data))
	m.mu.Unlock()
	return m.Store.PutMedia(ctx, company, contentType, fileName, data)
}

func newTabWorld(t testing.TB, change ...func(*Config)) *tabWorld {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{t: time.Date(2026, 6, 2, 10, 15, 0, 0, time.UTC)}
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := memstore.New()
	svc := bridge.NewService(store, bridge.Options{Now: clock.Now, AutoEnable: true, Account: "kf1", Log: discard})
	svc.Attach(quietWeChat{}, quietTeams{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.EnsureCompany(ctx, "Contoso", testTenant, bridge.English))
	ann, err := svc.EmployeeInstalled(ctx, bridge.Installation{TenantID: testTenant, AADObjectID: "oid-ann", TeamsUserID: "29:ann", Name: "Ann Lee"})
	must(err)
	must(svc.Receive(ctx, []bridge.Inbound{{Kind: bridge.InboundMessage, WeChatMsgID: "m1", Account: "kf1", Consumer: "wm1",
		ConsumerName: "Li Wei", At: clock.Now(), Body: bridge.Content{Text: "where is my parcel"}}}))
	bob, err := svc.EmployeeInstalled(ctx, bridge.Installation{TenantID: testTenant, AADObjectID: "oid-bob", TeamsUserID: "29:bob", Name: "Bob Wang"})
	must(err)
	list, err := svc.Threads(ctx, ann.ID)
	must(err)
	if len(list) != 1 {
		t.Fatalf("Ann's threads: %+v", list)
	}
	admin := bridge.WithAdmin(ctx, archive.Party{ID: "oid-ann", Name: "Ann Lee"})
	must(svc.AddLexiconRule(admin, bridge.LexiconRule{Rule: lexicon.Rule{Name: "card", Pattern: `\d{16}`, Direction: lexicon.Both, Action: lexicon.Redact}, Enabled: true}))
	w := &tabWorld{svc: svc, store: store, media: &countingMedia{Store: store}, ann: ann.ID, bob: bob.ID, thread: list[0].ID}
	cfg := Config{Bridge: svc, Media: w.media, AppID: "app", TenantID: testTenant, Admins: []string{"oid-ann"}, Now: clock.Now, Log: discard,
		Auth: tokenAuth{"ann": {TenantID: testTenant, ObjectID: "oid-ann", Name: "Ann Lee"}, "bob": {TenantID: testTenant, ObjectID: "oid-bob", Name: "Bob Wang"}}}
	for _, c := range change {
		c(&cfg)
	}
	app := New(cfg)
	w.e = echo.New()
	app.Routes(w.e)
	return w
}

// do serves one request as the holder of token, in the process.
func (w *tabWorld) do(method, path, token, contentType string, body []byte) *httptest.ResponseRecorder {
	return serveRaw(w.e, method, path, "Bearer "+token, contentType, body)
}

// serveRaw serves one request with this Authorization header and body, in
// the process.
func serveRaw(h http.Handler, method, path, authorization, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// state is what the world holds, as JSON: the archive (every message, notice,
// participant and settings change is an event), the pending jobs, the
// company's settings, the lexicon, the employees with their threads and
// unread counts, and the media put.
func (w *tabWorld) state(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	jobs, err1 := w.store.PendingJobs(ctx, "")
	co, err2 := w.svc.CompanySettings(ctx)
	rules, err3 := w.svc.LexiconRules(ctx)
	emps, err4 := w.svc.Employees(ctx)
	if err := firstErr(err1, err2, err3, err4); err != nil {
		t.Fatal(err)
	}
	threads := map[bridge.EmployeeID]any{}
	for _, e := range emps {
		list, err := w.svc.Threads(ctx, e.ID)
		unread, err2 := w.svc.Unread(ctx, e.ID)
		if err := firstErr(err, err2); err != nil {
			t.Fatal(err)
		}
		threads[e.ID] = []any{list, unread}
	}
	w.media.mu.Lock()
	put := len(w.media.put)
	w.media.mu.Unlock()
	b, err := json.Marshal(map[string]any{"archive": w.store.ArchiveEvents(), "jobs": jobs, "company": co, "lexicon": rules,
		"employees": emps, "threads": threads, "media": put})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkAnswer fails on a 5xx, on a 4xx that is not a JSON error or that
// changed what the world holds, and on a 3xx or 1xx; it reports whether the
// request succeeded.
func checkAnswer(t *testing.T, w *tabWorld, before string, rec *httptest.ResponseRecorder) bool {
	t.Helper()
	switch {
	case rec.Code >= 500:
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	case rec.Code >= 400:
		var e apiError
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
			t.Fatalf("status %d without a JSON error: %q", rec.Code, rec.Body)
		}
		if after := w.state(t); after != before {
			t.Fatalf("status %d (%s), yet the world changed:\n%s\n%s", rec.Code, e.Error, before, after)
		}
		return false
	case rec.Code < 200 || rec.Code >= 300:
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return true
}

// contentTypes are what the fuzzer's byte picks as a body's Content-Type.
var contentTypes = []string{"application/json", "application/json; charset=utf-8", "text/plain", "", "multipart/form-data; boundary=x", "APPLICATION/JSON"}

// FuzzThreadBodies: the bodies an employee posts about a thread (a message, a
// read mark, a colleague to add), to Ann's thread, someone else's or none. A
// message accepted (201) is exactly one message more, with the body's text;
// a read mark or a colleague accepted changes only what it says.
func FuzzThreadBodies(f *testing.F) {
	for _, s := range []struct {
		route uint8
		ct    uint8
		body  string
	}{
		{0, 0, `{"text":"It is on its way."}`},
		{0, 1, `{"text":"你好，已经发货了。"}`},
		{0, 0, `{"text":""}`},
		{0, 0, `{"text":"` + strings.Repeat("x", bridge.MaxTextBytes+1) + `"}`},
		{0, 2, `{"text":"wrong type"}`},
		{0, 0, `{"text":1}`},
		{0, 0, `{"text":"card 4111111111111111"}`},
		{0, 0, ``},
		{4, 0, `{"text":"to nobody's thread"}`},
		{1, 0, `{"up_to":"MSG"}`},
		{1, 0, `{"up_to":""}`},
		{2, 0, `{"employee":"BOB"}`},
		{2, 0, `{"employee":"nobody"}`},
		{2, 5, `{"employee":null}`},
		{3, 0, `{}`},
	} {
		f.Add(s.route, s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, route, ct uint8, body []byte) {
		w := newTabWorld(t)
		ctx := context.Background()
		th := string(w.thread)
		if route&4 != 0 {
			th = "nosuchthread"
		}
		// Placeholders the seeds use for ids only the world knows.
		before, _ := w.svc.Thread(ctx, w.ann, w.thread)
		body = bytes.ReplaceAll(body, []byte("BOB"), []byte(w.bob))
		body = bytes.ReplaceAll(body, []byte("MSG"), []byte(before.Messages[len(before.Messages)-1].ID))
		path := "/api/v1/threads/" + th + []string{"/messages", "/read", "/participants", "/leave"}[route%4]
		state := w.state(t)
		rec := w.do(http.MethodPost, path, "ann", contentTypes[int(ct)%len(contentTypes)], body)
		if !checkAnswer(t, w, state, rec) || route%4 != 0 {
			return
		}
		var in struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(body, &in); err != nil && len(bytes.TrimSpace(body)) > 0 {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
		after, err := w.svc.Thread(ctx, w.ann, w.thread)
		if err != nil {
			t.Fatal(err)
		}
		var sent sentJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &sent); err != nil || rec.Code != http.StatusCreated {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var added []bridge.MessageView
		for _, m := range after.Messages {
			if m.From == bridge.FromEmployee {
				added = append(added, m)
			}
		}
		if len(added) != 1 || added[0].ID != sent.ID || added[0].Text != lexiconRedacted(in.Text) {
			t.Fatalf("sent %q; the thread's employee messages are %+v", in.Text, added)
		}
	})
}

// lexiconRedacted is text as the world's one rule (card numbers) leaves it.
func lexiconRedacted(text string) string {
	set, err := lexicon.Compile([]lexicon.Rule{{Name: "card", Pattern: `\d{16}`, Direction: lexicon.Both, Action: lexicon.Redact}})
	if err != nil {
		panic(err)
	}
	return lexicon.Evaluate(set, lexicon.Outbound, text).Result
}

// FuzzUpload: any body and Content-Type posted as an upload to Ann's thread
// is answered 201 or a 4xx JSON error. A refused upload stores no byte of the
// file; an accepted one stores exactly one file, within WeChat's limit for
// its kind, and the message names it.
func FuzzUpload(f *testing.F) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	for _, parts := range [][]part{
		{file("photo.png", "image/png", png)},
		{caption("the invoice"), file("发票.pdf", "application/pdf", []byte("%PDF-1.7 ..."))},
		{file("voice.amr", "", []byte("#!AMR\n...."))},
		{file("clip.mp4", "video/mp4", []byte("\x00\x00\x00\x18ftypmp42"))},
		{file("a.txt", "text/plain", []byte("one")), file("b.txt", "text/plain", []byte("two"))},
		{file("empty.bin", "application/octet-stream", nil)},
		{caption(strings.Repeat("x", bridge.MaxTextBytes+1)), file("a.png", "image/png", png)},
		{{field: "other", data: []byte("ignored")}, file("../../etc/passwd\r\nX: y", "", []byte("root:x:0:0"))},
		{caption("no file")},
	} {
		body, ct := multipartBody(f, parts...)
		f.Add(ct, body.Bytes())
	}
	f.Add("multipart/form-data", []byte("--x\r\n\r\n--x--"))
	f.Add("application/json", []byte(`{"text":"not an upload"}`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		w := newTabWorld(t)
		state := w.state(t)
		rec := w.do(http.MethodPost, "/api/v1/threads/"+string(w.thread)+"/media", "ann", contentType, body)
		if !checkAnswer(t, w, state, rec) {
			return
		}
		w.media.mu.Lock()
		put := w.media.put
		w.media.mu.Unlock()
		var sent sentJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &sent); err != nil || rec.Code != http.StatusCreated || len(put) != 1 || sent.Media == nil {
			t.Fatalf("status %d, %d files stored: %s", rec.Code, len(put), rec.Body)
		}
		if len(put[0]) == 0 || len(put[0]) > kindLimits[sent.Media.Kind] {
			t.Fatalf("a %s of %d bytes stored", sent.Media.Kind, len(put[0]))
		}
	})
}

// FuzzAdminPolicy: any body an admin puts as the policy is answered 200 or a
// 4xx JSON error; a refusal changes nothing. What is accepted is what a GET
// then shows, and putting that back is accepted and changes nothing (the
// settings round-trip through their JSON).
func FuzzAdminPolicy(f *testing.F) {
	def := toPolicyJSON(bridge.DefaultPolicy())
	good, _ := json.Marshal(settingsJSON{Policy: def, Overrides: bridge.Overrides{}, Language: bridge.SimplifiedChinese})
	f.Add(uint8(0), good)
	for _, s := range []string{
		`{"policy":{"sends_per_window":5,"window_hours":48,"reminder_after_hours":24,"employee_limit":3,"queue_limit":5,"reserve":1,"max_participants":4,"consumer_language":"zh-CN","retention_days":365},"overrides":{"consumer_welcome":{"en":"Welcome! {employee} will answer."}}}`,
		`{"policy":{"sends_per_window":0,"window_hours":-1}}`,
		`{"policy":{"window_hours":1e300,"reminder_after_hours":NaN}}`,
		`{"policy":{"sends_per_window":5,"window_hours":48,"reminder_after_hours":24,"employee_limit":3,"queue_limit":5,"reserve":1,"max_participants":4},"language":"fr"}`,
		`{"policy":{"sends_per_window":5,"window_hours":48,"reminder_after_hours":24,"employee_limit":3,"queue_limit":5,"reserve":1,"max_participants":4},"overrides":{"no_such_notice":{"en":"x"}}}`,
		`{"policy":{"sends_per_window":5,"window_hours":48,"reminder_after_hours":24,"employee_limit":3,"queue_limit":5,"reserve":1,"max_participants":4},"overrides":{"consumer_welcome":{"en":"no placeholder"}}}`,
		`{"policy":{"sends_per_window":5,"window_hours":0.000000001,"reminder_after_hours":24,"employee_limit":3,"queue_limit":5,"reserve":1,"max_participants":4}}`,
		`[]`, `null`, ``,
	} {
		f.Add(uint8(0), []byte(s))
	}
	f.Fuzz(func(t *testing.T, ct uint8, body []byte) {
		w := newTabWorld(t)
		state := w.state(t)
		rec := w.do(http.MethodPut, "/api/v1/admin/policy", "ann", contentTypes[int(ct)%len(contentTypes)], body)
		if !checkAnswer(t, w, state, rec) {
			return
		}
		var put, got settingsJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &put); err != nil {
			t.Fatalf("answer %q: %v", rec.Body, err)
		}
		again := w.do(http.MethodGet, "/api/v1/admin/policy", "ann", "", nil)
		if err := json.Unmarshal(again.Body.Bytes(), &got); err != nil || !reflect.DeepEqual(put, got) {
			t.Fatalf("PUT answered\n%+v\nGET shows\n%+v (%v)", put, got, err)
		}
		ctx := context.Background()
		settled, _ := w.svc.CompanySettings(ctx)
		back, _ := json.Marshal(settingsJSON{Policy: got.Policy, Overrides: got.Overrides, Language: got.Language})
		rec = w.do(http.MethodPut, "/api/v1/admin/policy", "ann", "application/json", back)
		if rec.Code != http.StatusOK {
			t.Fatalf("putting back what GET showed: %d %s", rec.Code, rec.Body)
		}
		co, _ := w.svc.CompanySettings(ctx)
		if co.Policy != settled.Policy || !sameOverrides(co.Overrides, settled.Overrides) || co.Language != settled.Language {
			t.Fatalf("putting back what GET showed changed the settings:\n%+v\n%+v", settled, co)
		}
	})
}

// sameOverrides compares overrides as texts: no override and an empty set of
// them are the same.
func sameOverrides(a, b bridge.Overrides) bool {
	for k, texts := range a {
		if !maps.Equal(texts, b[k]) {
			return false
		}
	}
	for k, texts := range b {
		if !maps.Equal(texts, a[k]) {
			return false
		}
	}
	return true
}

// FuzzAdminLexicon: any rule an admin adds, and any text and rule they test,
// is answered 200 or a 4xx JSON error. A refused rule changes nothing; an
// added one is listed as sent and passes lexicon's own checks (RE2, size
// limits); a test never changes anything.
func FuzzAdminLexicon(f *testing.F) {
	for _, s := range []struct {
		test bool
		body string
	}{
		{false, `{"name":"phone","pattern":"1[3-9]\\d{9}","direction":"inbound","action":"redact"}`},
		{false, `{"name":"guarantee","pattern":"(?i)guarantee[ds]?","direction":"outbound","action":"flag","enabled":false}`},
		{false, `{"name":"card","pattern":"\\d{16}","action":"block"}`},
		{false, `{"name":"bad","pattern":"(a","action":"block"}`},
		{false, `{"name":" spaced ","pattern":"x","action":"block"}`},
		{false, `{"name":"big","pattern":"(x{1000}){1000}","action":"block"}`},
		{false, `{"name":"backref","pattern":"(a)\\1","action":"block"}`},
		{false, `{"name":"dir","pattern":"x","direction":"sideways","action":"block"}`},
		{false, `{"name":"empty","pattern":"","action":"flag"}`},
		{true, `{"text":"call me on 13800138000, card 4111111111111111"}`},
		{true, `{"text":"guaranteed returns","rule":{"pattern":"(?i)guarantee","action":"block"}}`},
		{true, `{"text":"x","rule":{"name":"t","pattern":"[","action":"block"}}`},
		{true, `{"text":"` + strings.Repeat("a", 60000) + `"}`},
	} {
		f.Add(s.test, uint8(0), []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, test bool, ct uint8, body []byte) {
		w := newTabWorld(t)
		state := w.state(t)
		path := "/api/v1/admin/lexicon"
		if test {
			path += "/test"
		}
		rec := w.do(http.MethodPost, path, "ann", contentTypes[int(ct)%len(contentTypes)], body)
		if !checkAnswer(t, w, state, rec) {
			return
		}
		if test {
			var out map[string]decisionJSON
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out) != 2 {
				t.Fatalf("test answered %s", rec.Body)
			}
			if after := w.state(t); after != state {
				t.Fatalf("a test changed the world:\n%s\n%s", state, after)
			}
			return
		}
		var in lexiconRuleJSON
		if err := json.Unmarshal(body, &in); err != nil {
			t.Fatalf("accepted %q: %v", body, err)
		}
		rules, err := w.svc.LexiconRules(context.Background())
		if err != nil || len(rules) != 2 || rules[1].Name != in.Name || rules[1].Pattern != in.Pattern {
			t.Fatalf("added %+v; the rules are %+v (%v)", in, rules, err)
		}
		for _, r := range rules {
			if err := r.Validate(); err != nil {
				t.Fatalf("stored rule %+v fails its checks: %v", r, err)
			}
		}
	})
}

// FuzzAdminEmployees: any body an admin sends to enable or disable Bob, or to
// add a person from the directory, is answered 2xx or a 4xx JSON error; a
// refusal changes nothing, and an accepted change does what it says.
func FuzzAdminEmployees(f *testing.F) {
	for _, s := range []struct {
		add  bool
		body string
	}{
		{false, `{"enabled":false}`},
		{false, `{"enabled":true}`},
		{false, `{"enabled":"no"}`},
		{false, `{}`},
		{true, `{"aad_object_id":"00000000-0000-0000-0000-0000000000c4","name":"Carol Li"}`},
		{true, `{"aad_object_id":"oid-bob","name":"Bob again"}`},
		{true, `{"aad_object_id":" ","name":"x"}`},
		{true, `{"name":"no id"}`},
	} {
		f.Add(s.add, uint8(0), []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, add bool, ct uint8, body []byte) {
		w := newTabWorld(t)
		ctx := context.Background()
		state := w.state(t)
		method, path := http.MethodPut, "/api/v1/admin/employees/"+string(w.bob)
		if add {
			method, path = http.MethodPost, "/api/v1/admin/employees"
		}
		rec := w.do(method, path, "ann", contentTypes[int(ct)%len(contentTypes)], body)
		if !checkAnswer(t, w, state, rec) {
			return
		}
		var got employeeJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("answer %s: %v", rec.Body, err)
		}
		e, err := w.svc.Employee(ctx, got.ID)
		if err != nil || e.Enabled != got.Enabled || e.Name != got.Name {
			t.Fatalf("answered %+v, stored %+v (%v)", got, e, err)
		}
		if !add {
			var in struct{ Enabled *bool }
			if json.Unmarshal(body, &in) != nil || in.Enabled == nil || *in.Enabled != e.Enabled || got.ID != w.bob {
				t.Fatalf("sent %s, Bob is now %+v", body, e)
			}
		}
	})
}
