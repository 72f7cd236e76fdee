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

// A burst of notices to several employees at once: every one arrives exactly once,
// in order per conversation, and the limiter keeps Teams from ever answering 429.
func TestBurstNoLossNoDuplicateNo429(t *testing.T) {
	en := newEnv(t, false)
	const employees, each = 6, 16
	var wg sync.WaitGroup
	errs := make(chan error, employees*each)
	for i := range employees {
		e := en.employee(fmt.Sprintf("emp%d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range each {
				err := en.bot.Deliver(context.Background(), bridge.Delivery{Employee: e, Kind: bridge.DeliverNotice, Text: fmt.Sprintf("notice %s #%d", e.ID, n), Lang: bridge.English})
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

func TestDeliveryFailures(t *testing.T) {
	notice := func(e bridge.Employee) bridge.Delivery {
		return bridge.Delivery{Employee: e, Kind: bridge.DeliverNotice, Text: "hello", Lang: bridge.English}
	}
	cases := []struct {
		name      string
		fail      []fakeconnector.Failure
		drop      bool
		wantErr   error
		retryWait time.Duration // > 0: a RetryAfterError with at least this wait
		delivered int
		blocked   bool
		check     func(t *testing.T, en *env)
	}{
		{name: "429 waits Retry-After", fail: []fakeconnector.Failure{{Status: 429, Code: "Throttled", RetryAfter: 7 * time.Second}}, retryWait: 7 * time.Second},
		{name: "412 retried inside", fail: []fakeconnector.Failure{{Status: 412, Code: "PreconditionFailed"}}, delivered: 1},
		{name: "502 then 504 retried inside", fail: []fakeconnector.Failure{{Status: 502}, {Status: 504}}, delivered: 1},
		{name: "503 persists: handed back to the job runner", fail: []fakeconnector.Failure{{Status: 503, Times: 10}}, retryWait: time.Millisecond},
		{name: "403 blocked by user", fail: []fakeconnector.Failure{{Status: 403, Code: "ConversationBlockedByUser"}}, wantErr: bridge.ErrEmployeeUnreachable, blocked: true},
		{name: "403 bot disabled by admin", fail: []fakeconnector.Failure{{Status: 403, Code: "BotDisabledByAdmin"}}, wantErr: bridge.ErrEmployeeUnreachable, blocked: true},
		{name: "404 conversation re-created once", drop: true, delivered: 1, check: func(t *testing.T, en *env) {
			e := en.core.employee("ann")
			if e.Conversation.ConversationID == "a:conv-ann" || e.Conversation.ConversationID == "" {
				t.Errorf("conversation not updated: %+v", e.Conversation)
			}
		}},
		{name: "404 twice: gives up", drop: true, fail: []fakeconnector.Failure{{Op: "send", Status: 404, Code: "ConversationNotFound", Times: 2}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			en := newEnv(t, false)
			e := en.employee("ann")
			if tc.drop {
				en.fake.DropConversation("a:conv-ann")
			}
			for _, f := range tc.fail {
				en.fake.Fail(f)
			}
			err := en.bot.Deliver(context.Background(), notice(e))
			switch {
			case tc.retryWait > 0:
				var ra *bridge.RetryAfterError
				if !errors.As(err, &ra) || ra.Wait < tc.retryWait {
					t.Fatalf("err = %v, want RetryAfterError ≥ %v", err, tc.retryWait)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case tc.delivered > 0:
				if err != nil {
					t.Fatal(err)
				}
			default:
				if err == nil {
					t.Fatal("no error")
				}
			}
			var got int
			for _, c := range en.fake.Conversations() {
				got += len(en.fake.Activities(c))
			}
			if got != tc.delivered {
				t.Errorf("delivered %d, want %d", got, tc.delivered)
			}
			if b := en.core.employee("ann").Blocked; b != tc.blocked {
				t.Errorf("blocked = %v", b)
			}
			if tc.check != nil {
				tc.check(t, en)
			}
			if tc.blocked {
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

func TestNotInstalled(t *testing.T) {
	en := newEnv(t, false)
	err := en.bot.Deliver(context.Background(), bridge.Delivery{Employee: bridge.Employee{ID: "x"}, Kind: bridge.DeliverNotice, Text: "x"})
	if !errors.Is(err, ErrNotInstalled) || !errors.Is(err, bridge.ErrEmployeeUnreachable) {
		t.Fatalf("err = %v", err)
	}
}
