package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/bot/cards"
	"github.com/multiline/multiline/bot/fakeconnector"
	"github.com/multiline/multiline/bridge"
)

// A burst of notices to several employees at once (one lane each, as the job
// runner keeps them): every one arrives exactly once, in order per conversation,
// and the limiter keeps Teams from ever answering 429. Deliveries over the limit
// are deferred (handed back to the runner) rather than waited for, and a
// deferred delivery sends nothing.
func TestBurstNoLossNoDuplicateNo429(t *testing.T) {
	en := newEnv(t, false)
	const employees, each = 6, 16
	var wg sync.WaitGroup
	errs := make(chan error, employees*each)
	deferrals := make([]int, employees)
	for i := range employees {
		e := en.employee(fmt.Sprintf("emp%d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range each {
				d, err := en.deliver(context.Background(), bridge.Delivery{Employee: e, Kind: bridge.DeliverNotice, Text: fmt.Sprintf("notice %s #%d", e.ID, n), Lang: bridge.English})
				deferrals[i] += d
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := en.fake.Throttled(); n != 0 {
		t.Errorf("fake connector throttled %d requests", n)
	}
	for i, d := range deferrals {
		// 16 in a row exceed 7 per second: the 8th at least had to wait.
		if d == 0 {
			t.Errorf("employee %d: no delivery was deferred", i)
		}
	}
	if n := len(en.fake.Requests()); n != employees*each {
		t.Errorf("%d requests reached Teams for %d deliveries: a deferral sent something", n, employees*each)
	}
	for i := range employees {
		acts := en.fake.Activities(fmt.Sprintf("a:conv-emp%d", i))
		if len(acts) != each {
			t.Fatalf("employee %d got %d activities, want %d", i, len(acts), each)
		}
		for n, a := range acts {
			if want := fmt.Sprintf("notice emp%d #%d", i, n); !strings.Contains(string(a.Body), want+`"`) {
				t.Errorf("activity %d of employee %d is not %q", n, i, want)
			}
		}
	}
}

func TestConsumerMessagesCoalesce(t *testing.T) {
	en := newEnv(t, true)
	e := en.employee("ann")
	th := thread("t1", "Li Wei", bridge.StatusActive)
	ctx := context.Background()
	deliver := func(n int, text string) {
		t.Helper()
		m := consumerMsg(th, n, text)
		th.Messages = append(th.Messages, m)
		if err := en.bot.Deliver(ctx, bridge.Delivery{Employee: e, Kind: bridge.DeliverConsumerMessage, Thread: th, Message: m, Lang: bridge.English}); err != nil {
			t.Fatal(err)
		}
	}
	deliver(1, "first")
	en.now.Add(10 * time.Second)
	deliver(2, "second")
	acts := en.fake.Activities("a:conv-ann")
	if len(acts) != 1 || acts[0].Updates != 1 {
		t.Fatalf("want one card updated once, got %+v", acts)
	}
	if body := cardTexts(t, acts[0].Body); !strings.Contains(body, "first") || !strings.Contains(body, "second") {
		t.Errorf("coalesced card lacks a message: %s", body)
	}
	// A retried job does not post twice.
	if err := en.bot.Deliver(ctx, bridge.Delivery{Employee: e, Kind: bridge.DeliverConsumerMessage, Thread: th, Message: th.Messages[1], Lang: bridge.English}); err != nil {
		t.Fatal(err)
	}
	if acts := en.fake.Activities("a:conv-ann"); len(acts) != 1 {
		t.Fatalf("retry posted again: %d activities", len(acts))
	}
	en.now.Add(2 * time.Minute)
	deliver(3, "third")
	acts = en.fake.Activities("a:conv-ann")
	if len(acts) != 2 {
		t.Fatalf("after the window a new card is due; got %d activities", len(acts))
	}
	if body := cardTexts(t, acts[1].Body); strings.Contains(body, "first") || !strings.Contains(body, "third") {
		t.Errorf("new card: %s", body)
	}
}

func TestStatusUpdatesTheCard(t *testing.T) {
	en := newEnv(t, false)
	e := en.employee("ann")
	th := thread("t1", "Li Wei", bridge.StatusInactive)
	en.core.addThread(th, e.ID)
	en.core.SetFocus(context.Background(), e.ID, th.ID)
	// The employee writes in the chat; the reply is queued and confirmed on a card.
	rec := en.post(t, msgActivity(en, e, "see you tomorrow"))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	acts := en.fake.Activities("a:conv-ann")
	if len(acts) != 1 || !strings.Contains(cardTexts(t, acts[0].Body), "Queued 1 of 5") {
		t.Fatalf("confirmation: %+v", acts)
	}
	th, _ = en.core.Thread(context.Background(), e.ID, th.ID)
	m := th.Messages[0]
	m.Status = bridge.StatusSent
	if err := en.bot.Deliver(context.Background(), bridge.Delivery{Employee: e, Kind: bridge.DeliverStatus, Thread: th, Message: m, Lang: bridge.English}); err != nil {
		t.Fatal(err)
	}
	acts = en.fake.Activities("a:conv-ann")
	if len(acts) != 1 || acts[0].Updates != 1 || !strings.Contains(cardTexts(t, acts[0].Body), "Delivered") {
		t.Fatalf("status not shown in place: %+v", acts)
	}
	// A status for a message without a card changes nothing.
	m.ID = "other"
	if err := en.bot.Deliver(context.Background(), bridge.Delivery{Employee: e, Kind: bridge.DeliverStatus, Thread: th, Message: m}); err != nil {
		t.Fatal(err)
	}
	if n := len(en.fake.Requests()); n != 2 {
		t.Errorf("requests %d, want 2", n)
	}
}

// The bridge's deliveries carry the thread without its messages; a rebuilt card
// must still show the messages it showed before.
func TestDeliveryWithoutHistoryKeepsTheCardsMessages(t *testing.T) {
	en := newEnv(t, true)
	e := en.employee("ann")
	th := thread("t1", "Li Wei", bridge.StatusActive)
	first, second := consumerMsg(th, 1, "first"), consumerMsg(th, 2, "second")
	ctx := context.Background()
	bare := th // as bridge.Service sends it: no Messages
	th.Messages = []bridge.MessageView{first}
	en.core.addThread(th, e.ID)
	for _, m := range []bridge.MessageView{first, second} {
		if m == second {
			th.Messages = append(th.Messages, second)
			en.core.addThread(th, e.ID)
		}
		if err := en.bot.Deliver(ctx, bridge.Delivery{Employee: e, Kind: bridge.DeliverConsumerMessage, Thread: bare, Message: m, Lang: bridge.English}); err != nil {
			t.Fatal(err)
		}
	}
	acts := en.fake.Activities("a:conv-ann")
	if len(acts) != 1 {
		t.Fatalf("want one coalesced card, got %d", len(acts))
	}
	if body := cardTexts(t, acts[0].Body); !strings.Contains(body, "first") || !strings.Contains(body, "second") || strings.Contains(body, "earlier") {
		t.Errorf("coalesced card: %s", body)
	}
	// The employee answers on the card; the delivered status rebuilds it.
	rec := en.post(t, invokeActivity(en, e, acts[0].ID, cards.VerbSend, map[string]any{"thread": "t1", cards.ReplyInputID: "hello Li"}))
	if rec.Code != 200 {
		t.Fatalf("invoke status %d", rec.Code)
	}
	full, err := en.core.Thread(ctx, e.ID, th.ID)
	if err != nil {
		t.Fatal(err)
	}
	mv := full.Messages[len(full.Messages)-1]
	if err := en.bot.Deliver(ctx, bridge.Delivery{Employee: e, Kind: bridge.DeliverStatus, Thread: bare, Message: mv, Lang: bridge.English}); err != nil {
		t.Fatal(err)
	}
	acts = en.fake.Activities("a:conv-ann")
	body := cardTexts(t, acts[0].Body)
	for _, want := range []string{"first", "second", "hello Li", "Delivered"} {
		if !strings.Contains(body, want) {
			t.Errorf("card after the status lacks %q: %s", want, body)
		}
	}
	if strings.Contains(body, "earlier") {
		t.Errorf("card counts shown messages as earlier ones: %s", body)
	}
}

// outcome is how the job runner sees a delivery's result.
type outcome int

const (
	delivered   outcome = iota
	deferred            // *bridge.RetryAfterError: wait, not an attempt
	retried             // a plain error: an attempt, retried with backoff
	permanent           // bridge.ErrPermanent: the job ends dead at once
	unreachable         // bridge.ErrEmployeeUnreachable: wait for the employee
)

func (o outcome) String() string {
	return [...]string{"delivered", "deferred", "retried", "permanent", "unreachable"}[o]
}

func classify(err error) outcome {
	var ra *bridge.RetryAfterError
	switch {
	case err == nil:
		return delivered
	case errors.As(err, &ra):
		return deferred
	case errors.Is(err, bridge.ErrPermanent):
		return permanent
	case errors.Is(err, bridge.ErrEmployeeUnreachable):
		return unreachable
	}
	return retried
}

// Every class of Bot Connector answer, as Teams documents it, ends in the outcome
// the job runner needs. The connector demands a token throughout, so that no
// error can be shown to carry it.
func TestDeliveryFailures(t *testing.T) {
	const token = "tok-SECRET-4711"
	notice := func(e bridge.Employee) bridge.Delivery {
		return bridge.Delivery{Employee: e, Kind: bridge.DeliverNotice, Text: "hello", Lang: bridge.English}
	}
	badArgument := fakeconnector.Failure{Conversation: "a:conv-ann", Status: 400, Code: "BadArgument", Message: "Unknown activity type", Forever: true}
	cases := []struct {
		name       string
		fail       []fakeconnector.Failure
		drop       bool                        // the conversation is gone (404 ConversationNotFound)
		serviceURL string                      // replaces the employee's service URL
		want       outcome                     //
		retryWait  time.Duration               // for deferred: at least this wait
		errHas     []string                    // the error names these
		requests   int                         // > 0: exactly this many requests reached the fake
		check      func(t *testing.T, en *env) //
	}{
		{name: "429 waits Retry-After", fail: []fakeconnector.Failure{{Status: 429, Code: "Throttled", RetryAfter: 7 * time.Second}},
			want: deferred, retryWait: 7 * time.Second, requests: 1},
		{name: "408 retried inside", fail: []fakeconnector.Failure{{Status: 408, Code: "RequestTimeout"}}, want: delivered, requests: 2},
		{name: "412 retried inside", fail: []fakeconnector.Failure{{Status: 412, Code: "PreconditionFailed"}}, want: delivered, requests: 2},
		{name: "500, 502 then 504 retried inside", fail: []fakeconnector.Failure{{Status: 500, Code: "ServiceError"}, {Status: 502}, {Status: 504}}, want: delivered, requests: 4},
		{name: "503 persists: retried by the job runner", fail: []fakeconnector.Failure{{Status: 503, Code: "ServiceUnavailable", Times: 10}},
			want: retried, errHas: []string{"503", "ServiceUnavailable"}, requests: 4},
		{name: "network error: retried by the job runner", serviceURL: "http://127.0.0.1:1/", want: retried},
		{name: "403 blocked by user", fail: []fakeconnector.Failure{{Status: 403, Code: "ConversationBlockedByUser"}}, want: unreachable, requests: 1},
		{name: "403 bot disabled by admin", fail: []fakeconnector.Failure{{Status: 403, Code: "BotDisabledByAdmin"}}, want: unreachable, requests: 1},
		{name: "other 403: permanent", fail: []fakeconnector.Failure{{Status: 403, Code: "NotEnoughPermissions", Message: "no"}},
			want: permanent, errHas: []string{"403", "NotEnoughPermissions"}, requests: 1},
		{name: "400 forever: permanent at once, with Teams' code and message", fail: []fakeconnector.Failure{badArgument},
			want: permanent, errHas: []string{"400", "BadArgument", "Unknown activity type"}, requests: 1},
		{name: "401 after a fresh token: permanent", fail: []fakeconnector.Failure{{Status: 401, Code: "Unauthorized", Forever: true}},
			want: permanent, errHas: []string{"401"}, requests: 1},
		{name: "413 too big: permanent", fail: []fakeconnector.Failure{{Status: 413, Code: "MessageSizeTooBig", Message: "The request content length exceeded limit of 262144 bytes."}},
			want: permanent, errHas: []string{"413", "MessageSizeTooBig"}, requests: 1},
		{name: "other 404: permanent", fail: []fakeconnector.Failure{{Op: "send", Status: 404, Code: "NotFound"}}, want: permanent, requests: 1},
		{name: "bad service URL: permanent", serviceURL: "ftp://smba.example/", want: permanent, requests: 0},
		{name: "404 conversation re-created once", drop: true, want: delivered, requests: 3, check: func(t *testing.T, en *env) {
			e := en.core.employee("ann")
			if e.Conversation.ConversationID == "a:conv-ann" || e.Conversation.ConversationID == "" {
				t.Errorf("conversation not updated: %+v", e.Conversation)
			}
		}},
		{name: "404 again after re-creating: permanent", drop: true, fail: []fakeconnector.Failure{{Op: "send", Status: 404, Code: "ConversationNotFound", Times: 2}},
			want: permanent, errHas: []string{"ConversationNotFound", "even after re-creating"}, requests: 3},
		{name: "404 and the re-creation refused: permanent", drop: true, fail: []fakeconnector.Failure{{Op: "create", Status: 400, Code: "BadArgument", Message: "bad member"}},
			want: permanent, errHas: []string{"ConversationNotFound", "re-creating it failed", "BadArgument", "bad member"}, requests: 2},
		{name: "404 and the re-creation throttled: deferred", drop: true, fail: []fakeconnector.Failure{{Op: "create", Status: 429, RetryAfter: 3 * time.Second}},
			want: deferred, retryWait: 3 * time.Second, requests: 2},
		{name: "404 and the re-creation failing: retried", drop: true, fail: []fakeconnector.Failure{{Op: "create", Status: 503, Forever: true}},
			want: retried, errHas: []string{"re-creating it failed", "503"}, requests: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			en := newEnvWith(t, envOptions{token: token})
			e := en.employee("ann")
			if tc.serviceURL != "" {
				e.Conversation.ServiceURL = tc.serviceURL
				en.core.UpdateConversation(context.Background(), e.ID, e.Conversation)
			}
			if tc.drop {
				en.fake.DropConversation("a:conv-ann")
			}
			for _, f := range tc.fail {
				en.fake.Fail(f)
			}
			err := en.bot.Deliver(context.Background(), notice(e))
			if got := classify(err); got != tc.want {
				t.Fatalf("outcome %v (err %v), want %v", got, err, tc.want)
			}
			if tc.retryWait > 0 {
				var ra *bridge.RetryAfterError
				if errors.As(err, &ra); ra.Wait < tc.retryWait {
					t.Errorf("wait %v, want ≥ %v", ra.Wait, tc.retryWait)
				}
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("the error carries the bearer token: %v", err)
			}
			if strings.Contains(en.logs.String(), token) {
				t.Errorf("the log carries the bearer token:\n%s", en.logs)
			}
			for _, w := range tc.errHas {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if n := len(en.fake.Requests()); tc.requests > 0 && n != tc.requests {
				t.Errorf("%d requests reached Teams, want %d", n, tc.requests)
			}
			var got int
			for _, c := range en.fake.Conversations() {
				got += len(en.fake.Activities(c))
			}
			if want := map[bool]int{true: 1}[tc.want == delivered]; got != want {
				t.Errorf("delivered %d activities, want %d", got, want)
			}
			if b := en.core.employee("ann").Blocked; b != (tc.want == unreachable) {
				t.Errorf("blocked = %v", b)
			}
			if tc.check != nil {
				tc.check(t, en)
			}
			if tc.want == unreachable {
				// Further deliveries stop without calling Teams until the employee interacts.
				n := len(en.fake.Requests())
				if err := en.bot.Deliver(context.Background(), notice(en.core.employee("ann"))); !errors.Is(err, bridge.ErrEmployeeUnreachable) {
					t.Errorf("blocked employee: %v", err)
				}
				if len(en.fake.Requests()) != n {
					t.Error("called Teams for a blocked employee")
				}
				en.post(t, msgActivity(en, en.core.employee("ann"), "help"))
				if en.core.employee("ann").Blocked {
					t.Error("interaction did not lift the block")
				}
			}
		})
	}
}

// A conversation that answers 400 forever costs one request per delivery, and
// other employees' deliveries go on.
func TestOneBrokenConversationDoesNotHoldOthers(t *testing.T) {
	en := newEnv(t, false)
	ann, bob := en.employee("ann"), en.employee("bob")
	en.fake.Fail(fakeconnector.Failure{Conversation: "a:conv-ann", Status: 400, Code: "BadArgument", Message: "broken", Forever: true})
	ctx := context.Background()
	for range 3 {
		if err := en.bot.Deliver(ctx, bridge.Delivery{Employee: ann, Kind: bridge.DeliverNotice, Text: "x"}); !errors.Is(err, bridge.ErrPermanent) {
			t.Fatalf("ann: %v", err)
		}
		if err := en.bot.Deliver(ctx, bridge.Delivery{Employee: bob, Kind: bridge.DeliverNotice, Text: "x"}); err != nil {
			t.Fatalf("bob: %v", err)
		}
	}
	if n := len(en.fake.Requests()); n != 6 {
		t.Errorf("%d requests, want 6 (no retries of a 400)", n)
	}
	if n := len(en.fake.Activities("a:conv-bob")); n != 3 {
		t.Errorf("bob got %d cards", n)
	}
}

// A card Teams will no longer update (deleted: 404; refused: 400) is replaced by a
// new card for a consumer message, and let be for a status change.
func TestStaleCardUpdate(t *testing.T) {
	cases := []struct {
		name string
		fail fakeconnector.Failure
	}{
		{"card deleted (404)", fakeconnector.Failure{Op: "update", Status: 404, Code: "ActivityNotFoundInConversation"}},
		{"update refused (400)", fakeconnector.Failure{Op: "update", Status: 400, Code: "BadArgument", Message: "activity too old"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			en := newEnv(t, true)
			e := en.employee("ann")
			th := thread("t1", "Li Wei", bridge.StatusActive)
			ctx := context.Background()
			m1, m2 := consumerMsg(th, 1, "first"), consumerMsg(th, 2, "second")
			th.Messages = []bridge.MessageView{m1, m2}
			for _, m := range []bridge.MessageView{m1, m2} {
				if m == m2 {
					en.fake.Fail(tc.fail)
				}
				if err := en.bot.Deliver(ctx, bridge.Delivery{Employee: e, Kind: bridge.DeliverConsumerMessage, Thread: th, Message: m, Lang: bridge.English}); err != nil {
					t.Fatalf("%s: %v", m.Text, err)
				}
			}
			acts := en.fake.Activities("a:conv-ann")
			if len(acts) != 2 || acts[0].Updates != 0 {
				t.Fatalf("want a second card in place of the update, got %+v", acts)
			}
			if body := cardTexts(t, acts[1].Body); !strings.Contains(body, "second") || strings.Contains(body, "first") {
				t.Errorf("new card: %s", body)
			}
			// The status of a message on a card Teams refuses to update changes nothing.
			en.fake.Fail(tc.fail)
			m2.Status = bridge.StatusFailed
			if err := en.bot.Deliver(ctx, bridge.Delivery{Employee: e, Kind: bridge.DeliverStatus, Thread: th, Message: m2, Lang: bridge.English}); err != nil {
				t.Fatalf("status: %v", err)
			}
		})
	}
}

func TestNotInstalled(t *testing.T) {
	en := newEnv(t, false)
	err := en.bot.Deliver(context.Background(), bridge.Delivery{Employee: bridge.Employee{ID: "x"}, Kind: bridge.DeliverNotice, Text: "x"})
	if !errors.Is(err, ErrNotInstalled) || !errors.Is(err, bridge.ErrEmployeeUnreachable) {
		t.Fatalf("err = %v", err)
	}
}
