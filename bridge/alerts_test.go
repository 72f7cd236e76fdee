package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/lexicon"
	"github.com/multiline/multiline/storage"
)

// alertDouble is the Teams activity feed as the bridge sees it: it records the
// alerts it takes; fail, when set, is its answer instead.
type alertDouble struct {
	mu   sync.Mutex
	got  []bridge.ComplianceAlert
	fail func(bridge.ComplianceAlert) error
	runs int
}

func (a *alertDouble) Alert(_ context.Context, x bridge.ComplianceAlert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.runs++
	if a.fail != nil {
		if err := a.fail(x); err != nil {
			return err
		}
	}
	a.got = append(a.got, x)
	return nil
}

func (a *alertDouble) alerts() []bridge.ComplianceAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.got)
}

// alertWorld is a fixture with the lexicon rules of lexicon_test.go, a thread
// between Alice and the consumer c1 ("Chen Wei"), and three reviewers: two
// configured (one written twice, in another case) and one the tab saw holding
// the role.
type alertWorld struct {
	*fixture
	alerts *alertDouble
	alice  bridge.EmployeeID
	thread bridge.ThreadID
}

var alertReviewers = []string{"oid-otto", "oid-rita", "oid-rolf"}

func newAlertWorld(t *testing.T) *alertWorld {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	w := &alertWorld{fixture: f, alerts: &alertDouble{}}
	f.svc.AttachReviews(f.db)
	f.svc.AttachAlerts(w.alerts, []string{"OID-Otto", " oid-rita ", "oid-otto", ""})
	if err := f.svc.NoteReviewer(ctx, "oid-rolf", "Rolf", true); err != nil {
		t.Fatal(err)
	}
	// Seen without the role: remembered by nobody, alerted never.
	if err := f.svc.NoteReviewer(ctx, "oid-ann", "Ann", false); err != nil {
		t.Fatal(err)
	}
	w.alice = f.employee("Alice")
	for _, r := range lexiconRules {
		if err := f.svc.AddLexiconRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.Receive(ctx, []bridge.Inbound{{Kind: bridge.InboundMessage, WeChatMsgID: "m1", Account: "kf1",
		Consumer: "c1", ConsumerName: "Chen Wei", At: f.now(), Body: bridge.Content{Text: "Hi"}}}); err != nil {
		t.Fatal(err)
	}
	f.drain()
	w.thread = f.onlyThread(w.alice).ID
	return w
}

// pendingAlerts are the JobReviewAlert jobs waiting, by reviewer, decoded.
func (w *alertWorld) pendingAlerts() map[string]map[string]any {
	w.t.Helper()
	jobs, err := w.db.PendingJobs(context.Background(), "")
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, j := range jobs {
		if j.Kind != bridge.JobReviewAlert {
			continue
		}
		var p map[string]any
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			w.t.Fatal(err)
		}
		r, _ := p["reviewer"].(string)
		if _, twice := out[r]; twice {
			w.t.Errorf("two alerts for %s", r)
		}
		if j.Lane != "review:"+r {
			w.t.Errorf("alert for %s on lane %q", r, j.Lane)
		}
		out[r] = p
	}
	return out
}

// TestAlertsOnBlockAndFlag: a block and a flag, in each direction, each
// enqueue one alert per reviewer in the decision's transaction (they are
// pending before any job ran), holding ids and the decision but no text; once
// run, each reviewer is told the rule, the action, the consumer and the
// employee, and a flag's preview is what was delivered while a block's is
// empty.
func TestAlertsOnBlockAndFlag(t *testing.T) {
	tests := []struct {
		name     string
		outbound bool
		text     string
		action   lexicon.Action
		rules    []string
		preview  string
	}{
		{"outbound block", true, "Guaranteed returns of 20%, card 4111 1111 1111 1111", lexicon.Block, []string{"guarantee"}, ""},
		{"outbound flag", true, "No insider tips, sorry", lexicon.Flag, []string{"insider"}, "No insider tips, sorry"},
		{"inbound block", false, "I will kill the deal", lexicon.Block, []string{"threat"}, ""},
		// Redacted and flagged: the alert names the flag rule, and the preview is
		// what Teams and the other side saw, without the card number.
		{"inbound flag with a redaction", false, "insider says 4111 1111 1111 1111", lexicon.Flag, []string{"insider"}, "insider says ***"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newAlertWorld(t)
			ctx := context.Background()
			if tc.outbound {
				if _, err := w.svc.Send(ctx, w.alice, w.thread, bridge.Content{Text: tc.text}); err != nil {
					t.Fatal(err)
				}
			} else {
				w.consumerWrites("c1", "m2", tc.text)
			}
			pending := w.pendingAlerts()
			if got := slices.Sorted(maps.Keys(pending)); !slices.Equal(got, alertReviewers) {
				t.Fatalf("alerts enqueued for %v, want one for each of %v", got, alertReviewers)
			}
			for r, p := range pending {
				raw, _ := json.Marshal(p)
				if strings.Contains(string(raw), "insider") && tc.action == lexicon.Block || strings.Contains(string(raw), "4111") ||
					strings.Contains(string(raw), "kill") || strings.Contains(string(raw), "Guaranteed") {
					t.Errorf("the job for %s holds the message's text: %s", r, raw)
				}
				if p["action"] != string(tc.action) {
					t.Errorf("job for %s: action %v, want %s", r, p["action"], tc.action)
				}
			}
			w.drain()
			got := w.alerts.alerts()
			if len(got) != len(alertReviewers) {
				t.Fatalf("%d alerts delivered, want %d: %+v", len(got), len(alertReviewers), got)
			}
			var to []string
			for _, a := range got {
				to = append(to, a.Reviewer)
				if a.Thread != w.thread || a.Message == "" || !strings.HasPrefix(string(a.Message), string(w.thread)) {
					t.Errorf("alert on %s %s, want a message of %s", a.Thread, a.Message, w.thread)
				}
				if a.Action != tc.action || !slices.Equal(a.Rules, tc.rules) || a.Consumer != "Chen Wei" ||
					!slices.Equal(a.Employees, []string{"Alice"}) || a.Preview != tc.preview {
					t.Errorf("alert to %s: %+v, want %s by %v on Chen Wei and Alice, preview %q", a.Reviewer, a, tc.action, tc.rules, tc.preview)
				}
				wantDir := lexicon.Inbound
				if tc.outbound {
					wantDir = lexicon.Outbound
				}
				if a.Direction != wantDir {
					t.Errorf("alert direction %s, want %s", a.Direction, wantDir)
				}
			}
			if slices.Sort(to); !slices.Equal(to, alertReviewers) {
				t.Errorf("alerts went to %v, want %v", to, alertReviewers)
			}
			// What the alert links to: a flag waits in the review queue, a block
			// is in the record only.
			queue, err := w.svc.Flagged(ctx)
			if err != nil {
				t.Fatal(err)
			}
			queued := slices.ContainsFunc(queue, func(q bridge.FlaggedItem) bool { return q.Decision.MessageID == string(got[0].Message) })
			if queued != (tc.action == lexicon.Flag) {
				t.Errorf("in the review queue: %v, want %v (%+v)", queued, tc.action == lexicon.Flag, queue)
			}
		})
	}
}

// TestNoAlerts: a redaction alone, a clean message, and messages the policy
// refuses or the service finds invalid enqueue no alert, whatever rule their
// text would break.
func TestNoAlerts(t *testing.T) {
	w := newAlertWorld(t)
	ctx := context.Background()
	bob := w.employee("Bob") // not in the thread
	w.consumerWrites("c1", "m2", "my card is 4111111111111111")
	if _, err := w.svc.Send(ctx, w.alice, w.thread, bridge.Content{Text: "Your card 4111 1111 1111 1111 is linked"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Send(ctx, w.alice, w.thread, bridge.Content{Text: "See you tomorrow"}); err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		name string
		who  bridge.EmployeeID
		th   bridge.ThreadID
		text string
		want error
	}{
		{"too long", w.alice, w.thread, "guaranteed returns " + strings.Repeat("x", bridge.MaxTextBytes), bridge.ErrMessageTooLong},
		{"not a participant", bob, w.thread, "insider tip: guaranteed returns", bridge.ErrNotParticipant},
		{"no such thread", w.alice, "nosuchthread", "insider tip", nil},
	}
	for _, r := range refused {
		_, err := w.svc.Send(ctx, r.who, r.th, bridge.Content{Text: r.text})
		if err == nil || (r.want != nil && !errors.Is(err, r.want)) {
			t.Errorf("%s: err = %v, want %v", r.name, err, r.want)
		}
	}
	if p := w.pendingAlerts(); len(p) != 0 {
		t.Fatalf("alerts enqueued: %v", p)
	}
	w.drain()
	if got := w.alerts.alerts(); len(got) != 0 {
		t.Fatalf("alerts delivered: %+v", got)
	}
}

// TestAlertReviewers: whom alerts go to is the configured ids (trimmed, in
// lower case, once each) then the remembered ones; a reviewer seen again
// without the role is forgotten, and the configured ones stay whatever a token
// says.
func TestAlertReviewers(t *testing.T) {
	w := newAlertWorld(t)
	ctx := context.Background()
	got, err := w.svc.ComplianceReviewers(ctx)
	if err != nil || !slices.Equal(got, []string{"oid-otto", "oid-rita", "oid-rolf"}) {
		t.Fatalf("reviewers %v %v", got, err)
	}
	for _, id := range []string{"OID-ROLF", "oid-otto"} {
		if err := w.svc.NoteReviewer(ctx, id, "", false); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.svc.NoteReviewer(ctx, "OID-Sam", "Sam", true); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.svc.ComplianceReviewers(ctx); !slices.Equal(got, []string{"oid-otto", "oid-rita", "oid-sam"}) {
		t.Fatalf("reviewers after the role moved from Rolf to Sam: %v", got)
	}
	if err := w.svc.NoteReviewer(ctx, "  ", "nobody", true); err == nil {
		t.Error("a reviewer without an object id was accepted")
	}
}

// TestAlertFailures: a reviewer Teams will not notify (ErrNeedsAdmin: the app
// is not installed for them) is tried once and the alert dropped, the others
// are still told; a transient failure is retried until it goes through; and
// without an Alerter nothing is enqueued.
func TestAlertFailures(t *testing.T) {
	w := newAlertWorld(t)
	ctx := context.Background()
	tries := map[string]int{}
	w.alerts.fail = func(a bridge.ComplianceAlert) error {
		tries[a.Reviewer]++
		switch {
		case a.Reviewer == "oid-rita":
			return fmt.Errorf("%w: graph: HTTP 404 (NotFound: the app is not installed)", bridge.ErrNeedsAdmin)
		case a.Reviewer == "oid-otto" && tries[a.Reviewer] == 1:
			return errors.New("graph: HTTP 502")
		}
		return nil
	}
	if _, err := w.svc.Send(ctx, w.alice, w.thread, bridge.Content{Text: "Guaranteed returns!"}); err != nil {
		t.Fatal(err)
	}
	// The retry waits its backoff on the store's clock.
	for range 3 {
		w.drain()
		w.advance(10 * time.Minute)
	}
	w.drain()
	var to []string
	for _, a := range w.alerts.alerts() {
		to = append(to, a.Reviewer)
	}
	if slices.Sort(to); !slices.Equal(to, []string{"oid-otto", "oid-rolf"}) {
		t.Errorf("alerts went to %v", to)
	}
	if tries["oid-rita"] != 1 || tries["oid-otto"] != 2 {
		t.Errorf("tries %v: want Rita once (not retried), Otto twice", tries)
	}
	dead, err := w.db.Jobs(ctx, storage.JobFilter{Dead: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 0 {
		t.Errorf("dead jobs: %+v", dead)
	}

	quiet := newFixture(t)
	quiet.svc.AttachAlerts(nil, []string{"oid-otto"})
	quiet.employee("Alice")
	for _, r := range lexiconRules {
		if err := quiet.svc.AddLexiconRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	quiet.consumerWrites("c1", "m1", "insider news")
	jobs, err := quiet.db.PendingJobs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Kind == bridge.JobReviewAlert {
			t.Fatalf("an alert was enqueued with no Alerter attached: %+v", j)
		}
	}
}

// TestAlertDiesAfterItsLimits: an alert Teams keeps failing is retried with
// backoff until the job kind's limits, then ends dead, for an operator.
func TestAlertDiesAfterItsLimits(t *testing.T) {
	w := newAlertWorld(t)
	ctx := context.Background()
	w.alerts.fail = func(a bridge.ComplianceAlert) error {
		if a.Reviewer == "oid-rita" {
			return errors.New("graph: HTTP 502")
		}
		return nil
	}
	w.consumerWrites("c1", "m2", "insider news")
	limits := bridge.LimitsFor(bridge.JobReviewAlert)
	for range limits.MaxAttempts {
		w.drain()
		w.advance(limits.MaxAge / time.Duration(limits.MaxAttempts-1))
	}
	w.drain()
	dead, err := w.db.Jobs(ctx, storage.JobFilter{Dead: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Kind != bridge.JobReviewAlert || !strings.Contains(dead[0].LastError, "502") {
		t.Fatalf("dead jobs %+v, want Rita's alert", dead)
	}
	if got := w.alerts.alerts(); len(got) != 2 {
		t.Errorf("%d alerts delivered, want the other two reviewers'", len(got))
	}
}
