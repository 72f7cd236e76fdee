package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
)

// The limiter answers "not before T"; a cancelled reservation gives its slot back.
func TestLimiterReserveAndCancel(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	clock := &manualClock{t: start}
	l := newLimiter(100*time.Millisecond, clock.Now)
	k := limitKey{"c:x", ConversationLimits}
	for i := range 7 {
		if r := l.reserve(k); !r.At.Equal(start) {
			t.Fatalf("grant %d at %v, want now", i, r.At.Sub(start))
		}
	}
	want := start.Add(time.Second + 100*time.Millisecond) // the 1 s window, plus the margin
	r := l.reserve(k)
	if !r.At.Equal(want) {
		t.Fatalf("8th grant at +%v, want +%v", r.At.Sub(start), want.Sub(start))
	}
	r.Cancel()
	for range 3 { // cancelled again and again: the answer does not move
		r = l.reserve(k)
		if !r.At.Equal(want) {
			t.Fatalf("after a cancel the 8th grant is at +%v, want +%v", r.At.Sub(start), want.Sub(start))
		}
		r.Cancel()
	}
	// Kept, the slot counts: the 9th waits for the 2 s window.
	l.reserve(k)
	if r := l.reserve(k); !r.At.Equal(start.Add(2*time.Second + 100*time.Millisecond)) {
		t.Fatalf("9th grant at +%v", r.At.Sub(start))
	}
}

// A job delivery never waits for its slot: over the limit it returns a
// *bridge.RetryAfterError for the time the limiter gives and sends nothing, and
// its slot is not consumed, so asking again gives the same answer. Once the time
// has come, it goes. The clock stands still here, so any wait inside Deliver
// would be a real sleep of about a second per call; the deferrals are instead
// exact.
func TestDeliveryDefersInsteadOfWaiting(t *testing.T) {
	en := newEnv(t, true)
	e := en.employee("ann")
	ctx := context.Background()
	notice := func(n int) bridge.Delivery {
		return bridge.Delivery{Employee: e, Kind: bridge.DeliverNotice, Text: fmt.Sprint("notice ", n), Lang: bridge.English}
	}
	for n := range 7 {
		if err := en.bot.Deliver(ctx, notice(n)); err != nil {
			t.Fatalf("notice %d: %v", n, err)
		}
	}
	want := time.Second + 100*time.Millisecond // Teams' 7 per second, plus LimitMargin
	for range 3 {
		err := en.bot.Deliver(ctx, notice(7))
		ra, ok := errors.AsType[*bridge.RetryAfterError](err)
		if !ok || ra.Wait != want || !errors.Is(err, errPaced) {
			t.Fatalf("8th notice: %v, want a deferral of %v", err, want)
		}
		if errors.Is(err, bridge.ErrPermanent) || errors.Is(err, bridge.ErrEmployeeUnreachable) {
			t.Fatalf("a deferral must be neither permanent nor unreachable: %v", err)
		}
	}
	if n := len(en.fake.Requests()); n != 7 {
		t.Fatalf("%d requests reached Teams, want 7: a deferred delivery sent something", n)
	}
	en.now.Add(want)
	if err := en.bot.Deliver(ctx, notice(7)); err != nil {
		t.Fatalf("8th notice when its time came: %v", err)
	}
	if acts := en.fake.Activities("a:conv-ann"); len(acts) != 8 {
		t.Fatalf("%d activities, want 8", len(acts))
	}
}

// The per-tenant limit (50 requests per second per app) defers the 51st
// delivery to a tenant, whatever its conversation.
func TestDeliveryDefersAtTheTenantLimit(t *testing.T) {
	en := newEnv(t, true)
	ctx := context.Background()
	for i := range 50 {
		e := en.employee(fmt.Sprint("e", i))
		if err := en.bot.Deliver(ctx, bridge.Delivery{Employee: e, Kind: bridge.DeliverNotice, Text: "hi", Lang: bridge.English}); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	e := en.employee("last")
	err := en.bot.Deliver(ctx, bridge.Delivery{Employee: e, Kind: bridge.DeliverNotice, Text: "hi", Lang: bridge.English})
	if ra, ok := errors.AsType[*bridge.RetryAfterError](err); !ok || ra.Wait != time.Second+100*time.Millisecond {
		t.Fatalf("51st delivery to the tenant: %v, want a deferral of 1.1s", err)
	}
	if n := len(en.fake.Requests()); n != 50 {
		t.Fatalf("%d requests reached Teams, want 50", n)
	}
	if en.fake.Throttled() != 0 {
		t.Fatal("Teams throttled")
	}
}

// A consumer message over the limit is deferred before anything is posted or
// recorded; when it runs again it posts its card once.
func TestConsumerMessageDeferredPostsOnce(t *testing.T) {
	en := newEnv(t, true)
	e := en.employee("ann")
	ctx := context.Background()
	for n := range 7 {
		if err := en.bot.Deliver(ctx, bridge.Delivery{Employee: e, Kind: bridge.DeliverNotice, Text: fmt.Sprint("n", n), Lang: bridge.English}); err != nil {
			t.Fatal(err)
		}
	}
	th := thread("t1", "Li Wei", bridge.StatusActive)
	m := consumerMsg(th, 1, "hello there")
	d := bridge.Delivery{Employee: e, Kind: bridge.DeliverConsumerMessage, Thread: th, Message: m, Lang: bridge.English}
	err := en.bot.Deliver(ctx, d)
	ra, ok := errors.AsType[*bridge.RetryAfterError](err)
	if !ok {
		t.Fatalf("want a deferral, got %v", err)
	}
	if _, found, _ := en.core.CardForMessage(ctx, e.ID, m.ID); found {
		t.Fatal("a card was recorded for a deferred delivery")
	}
	en.now.Add(ra.Wait)
	if err := en.bot.Deliver(ctx, d); err != nil {
		t.Fatal(err)
	}
	posted := 0
	for _, a := range en.fake.Activities("a:conv-ann") {
		if a.Updates == 0 && len(a.Body) > 0 && strings.Contains(string(a.Body), "hello there") {
			posted++
		}
	}
	if posted != 1 {
		t.Fatalf("the card was posted %d times", posted)
	}
}
