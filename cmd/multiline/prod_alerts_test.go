package main

import (
	"archive/zip"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/internal/prodfakes"
)

// TestProductionComplianceAlerts: the real binary in production mode alerts
// the compliance reviewers of each lexicon block and flag in their Teams
// activity feed, through the fake Graph (internal/prodfakes) of a tenant that
// uploaded the app package the binary builds and granted TeamsActivity.Send.
// Reviewers: one in MULTILINE_COMPLIANCE_REVIEWERS, one the tab saw with the
// Compliance.Review role in a token (whose first alerts Graph throttles), and
// one configured for whom the app is not installed (Graph's 403: tried once
// per alert, logged, dropped; no dead job). Each alert names the rule, the
// action, the consumer and the employee, a block's preview says nothing of
// its text, and the deep link opens the tab's review page on the message. A
// redaction alerts nobody. /metrics shows the throttling.
func TestProductionComplianceAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	buildBinary(t)
	run := newProdRun(t)
	listed, byRole, noApp := randGUID(), randGUID(), randGUID()
	maddr := freeAddr(t)
	w := run.world(t, prodOptions{name: "alerts", noStart: true, env: map[string]string{
		"MULTILINE_COMPLIANCE_REVIEWERS": listed + ", " + strings.ToUpper(noApp),
		"MULTILINE_METRICS_ADDR":         maddr,
	}})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service log (last 6000 bytes):\n%s", tail(w.proc.log.String(), 6000))
		}
	})

	// The tenant: the app package uploaded, the permission granted, the reviewers
	// in the directory, the app installed for two of them.
	manifestJSON := w.consentActivityFeed()
	var m struct{ ID string }
	if err := json.Unmarshal(manifestJSON, &m); err != nil || m.ID == "" {
		t.Fatalf("manifest.json: %v %s", err, manifestJSON)
	}
	run.graph.AddUser(listed, true)
	run.graph.AddUser(byRole, true)
	run.graph.AddUser(noApp, false)
	// As many 429s as the Graph client tries in one call: the job itself then
	// waits the Retry-After.
	run.graph.Throttle(byRole, 3, time.Second)
	w.start()

	ann := w.install("ann", "Ann Lee", true)
	admin := run.tab.SSOToken(run.appID, prodfakes.SSOUser{ObjectID: w.admin, Name: "Ada Admin"})
	rolf := run.tab.SSOToken(run.appID, prodfakes.SSOUser{ObjectID: byRole, Name: "Rolf Review", Roles: []string{"Compliance.Review"}})
	w.apiJSON(rolf, "GET", "/api/v1/review/flagged", nil, 200, nil) // the tab sees Rolf's role
	for _, r := range []map[string]any{
		{"name": "guarantee", "pattern": `(?i)guaranteed returns?`, "direction": "outbound", "action": "block"},
		{"name": "card-number", "pattern": `\b\d{4}( ?\d{4}){3}\b`, "direction": "both", "action": "redact"},
		{"name": "insider", "pattern": `(?i)\binsider\b`, "direction": "both", "action": "flag"},
	} {
		w.apiJSON(admin, "POST", "/api/v1/admin/lexicon", r, 200, nil)
	}

	mark := randHex(4)
	consumer := "wmAlert" + randHex(6)
	w.consumerSends(consumer, "Hello, what can you offer? "+mark)
	w.waitChat(ann, prodSoon, "what can you offer? "+mark)
	th := w.threadWith(ann, "what can you offer? "+mark)

	// The redaction first: alerts of a reviewer go out in order, so once the
	// last one has arrived, one for the redaction would have too.
	w.say(ann, "Your card 4111 1111 1111 1111 is linked "+mark)
	w.waitInbox(consumer, prodSoon, "Your card *** is linked "+mark)
	blocked := "We have guaranteed returns of 12% " + mark
	w.say(ann, blocked)
	w.waitChat(ann, prodSoon, "Blocked by policy: guarantee")
	flagged := "No insider tips, sorry " + mark
	w.say(ann, flagged)
	w.waitInbox(consumer, prodSoon, flagged)
	inbound := "I heard insider news " + mark
	w.consumerSends(consumer, inbound)
	w.waitChat(ann, prodSoon, inbound)

	ids := map[string]string{}
	for _, msg := range w.thread(ann, th.ID).Messages {
		for _, text := range []string{blocked, flagged, inbound} {
			if msg.Text == text {
				ids[text] = msg.ID
			}
		}
	}
	if len(ids) != 3 {
		t.Fatalf("message ids %v in\n%s", ids, w.showThread(ann, th.ID))
	}

	alertsTo := func(user string) []prodfakes.ActivityNotification {
		var out []prodfakes.ActivityNotification
		for _, n := range run.graph.Notifications() {
			if n.ActivityType == "complianceAlert" && strings.EqualFold(n.User, user) {
				out = append(out, n)
			}
		}
		return out
	}
	refusedFor := func(user string) int {
		n := 0
		for _, r := range run.graph.Requests() {
			if strings.Contains(strings.ToLower(r.Path), strings.ToLower(user)) && r.Status == 403 {
				n++
			}
		}
		return n
	}
	showFeed := func() string {
		var b strings.Builder
		for _, r := range run.graph.Requests() {
			b.WriteString(r.Method + " " + r.Path + " " + strconv.Itoa(r.Status) + "\n")
		}
		return b.String()
	}
	for _, who := range []string{listed, byRole} {
		waitShow(t, prodSoon, "three alerts for "+who, func() bool { return len(alertsTo(who)) >= 3 }, showFeed)
	}
	waitShow(t, prodSoon, "three refused alerts for "+noApp, func() bool { return refusedFor(noApp) >= 3 }, showFeed)

	type want struct {
		text, action, rule, preview string
	}
	wants := []want{
		{blocked, "blocked", "guarantee", "Not sent to the consumer. Open the review page to read it."},
		{flagged, "flagged", "insider", flagged},
		{inbound, "flagged", "insider", inbound},
	}
	for _, who := range []string{listed, byRole} {
		got := alertsTo(who)
		if len(got) != len(wants) {
			t.Fatalf("%s got %d alerts, want %d (none for the redaction): %+v", who, len(got), len(wants), got)
		}
		chains := map[int64]bool{}
		for i, n := range got {
			wt := wants[i]
			if n.Params["rule"] != wt.rule || n.Params["action"] != wt.action || n.Params["employee"] != "Ann Lee" ||
				!strings.HasPrefix(n.Params["contact"], "WeChat user ") || n.Preview != wt.preview {
				t.Errorf("alert %d to %s: %+v, want %+v", i, who, n, wt)
			}
			chains[n.ChainID] = true
			sub := reviewLinkTarget(t, n.WebURL, m.ID)
			if want := "review?message=" + url.QueryEscape(ids[wt.text]) + "&thread=" + url.QueryEscape(th.ID); sub != want {
				t.Errorf("alert %d to %s opens %q, want %q", i, who, sub, want)
			}
			if strings.Contains(n.Preview, "guaranteed") || strings.Contains(n.Preview, "4111") {
				t.Errorf("alert %d to %s shows what a rule stopped: %q", i, who, n.Preview)
			}
		}
		if len(chains) != len(wants) {
			t.Errorf("alerts to %s share chains (a later one would hide an earlier one): %+v", who, got)
		}
	}
	if n := refusedFor(noApp); n != 3 {
		t.Errorf("the reviewer without the app: %d refused requests, want 3 (one per alert, no retry)", n)
	}
	if n := strings.Count(w.proc.log.String(), "compliance alert not delivered: an admin must act"); n != 3 {
		t.Errorf("%d log lines for the refused alerts, want 3", n)
	}
	if out := w.mustCLI("admin", "jobs", "--dead"); strings.Contains(out, "teams.review_alert") {
		t.Errorf("dead alert jobs:\n%s", out)
	}
	s, err := scrapeMetrics("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.sum("multiline_job_rate_limit_waits_total", map[string]string{"kind": "teams.review_alert"}); v < 1 {
		t.Errorf("alert jobs that waited for Graph's Retry-After on /metrics: %v, want at least 1", v)
	}
	if v, _ := s.sum("multiline_http_client_responses_total", map[string]string{"service": "graph", "status": "429"}); v < 3 {
		t.Errorf("Graph 429s on /metrics: %v, want at least 3", v)
	}
	if _, ok := s.sum("multiline_jobs_dead_total", map[string]string{"kind": "teams.review_alert"}); !ok {
		t.Errorf("no multiline_jobs_dead_total series for teams.review_alert on /metrics")
	}
}

// reviewLinkTarget checks that link is a Teams deep link to the MultiLine tab of
// the app appID and returns the subEntityId of its context, as Teams decodes it.
func reviewLinkTarget(t *testing.T, link, appID string) string {
	t.Helper()
	prefix := "https://teams.microsoft.com/l/entity/" + appID + "/multiline?context="
	rest, ok := strings.CutPrefix(link, prefix)
	if !ok {
		t.Fatalf("link %q is not to the tab of app %s", link, appID)
	}
	raw, err := url.PathUnescape(rest) // decodeURIComponent
	if err != nil {
		t.Fatal(err)
	}
	var ctx struct {
		SubEntityID string `json:"subEntityId"`
	}
	if err := json.Unmarshal([]byte(raw), &ctx); err != nil {
		t.Fatalf("context %q: %v", raw, err)
	}
	return ctx.SubEntityID
}

func readZipFile(t testing.TB, path, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	i := slices.IndexFunc(zr.File, func(f *zip.File) bool { return f.Name == name })
	if i < 0 {
		t.Fatalf("%s has no %s", path, name)
	}
	rc, err := zr.File[i].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
