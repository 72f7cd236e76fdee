package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/multiline/multiline/bot/cards"
	"github.com/multiline/multiline/bot/connector"
	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/metrics"
)

// ErrNotInstalled: the employee has no conversation with the bot yet. It wraps
// bridge.ErrEmployeeUnreachable: deliveries wait until the app is installed.
var ErrNotInstalled = fmt.Errorf("%w: the app is not installed for this employee", bridge.ErrEmployeeUnreachable)

// Deliver shows a delivery to its employee (bridge.TeamsSender). It returns a
// *bridge.RetryAfterError when Teams throttles, an error wrapping
// bridge.ErrEmployeeUnreachable when Teams refuses this employee, an error
// wrapping bridge.ErrPermanent when Teams refuses the request for good (so that
// the job ends at once and the employee is told in the tab), and a plain error
// when Teams keeps failing (the job runner retries it with backoff). See call.
func (b *Bot) Deliver(ctx context.Context, d bridge.Delivery) error {
	e := d.Employee
	if e.Blocked {
		return fmt.Errorf("%w: blocked until the employee interacts", bridge.ErrEmployeeUnreachable)
	}
	if e.Conversation.ServiceURL == "" || e.Conversation.ConversationID == "" {
		return ErrNotInstalled
	}
	lang := d.Lang
	if lang == "" {
		lang = bridge.ParseLanguage(e.Locale)
	}
	switch d.Kind {
	case bridge.DeliverConsumerMessage:
		return b.deliverMessage(ctx, &e, d, lang)
	case bridge.DeliverStatus:
		return b.deliverStatus(ctx, &e, d, lang)
	case bridge.DeliverNotice:
		var t *bridge.ThreadSummary
		if d.Thread.ID != "" {
			t = &d.Thread
		}
		_, err := b.post(ctx, &e, paceDefer, connector.Card(b.cards.Notice(d.Text, t, lang), d.Text))
		return err
	default:
		return fmt.Errorf("bot: unknown delivery kind %q", d.Kind)
	}
}

// deliverMessage posts a consumer message, or adds it to the thread's last card
// when that card is recent, so that a burst of messages makes one card.
func (b *Bot) deliverMessage(ctx context.Context, e *bridge.Employee, d bridge.Delivery, lang bridge.Language) error {
	now := b.now()
	var prev Card
	var ok bool
	var err error
	// A retried job finds the card it already posted and updates it: no duplicate.
	if prev, ok, err = b.core.CardForMessage(ctx, e.ID, d.Message.ID); err != nil {
		return fmt.Errorf("bot: card lookup: %w", err)
	}
	shownBefore := ok
	if !ok {
		if prev, ok, err = b.core.LastCard(ctx, e.ID, d.Thread.ID); err != nil {
			return fmt.Errorf("bot: card lookup: %w", err)
		}
		ok = ok && prev.ActivityID != "" && now.Sub(prev.UpdatedAt) < b.cfg.CoalesceWindow
	}
	ids := []bridge.MessageID{d.Message.ID}
	if ok {
		ids = prev.Messages
		if !slices.Contains(ids, d.Message.ID) {
			ids = append(slices.Clone(ids), d.Message.ID)
		}
	}
	if d.Thread, err = b.history(ctx, e, d.Thread, ids, d.Message.ID); err != nil {
		return err
	}
	view := cardView(d.Thread, ids, d.Message, lang)
	act := connector.Card(b.cards.Thread(view), summary(d.Thread.ConsumerName, d.Message.Text))
	id := prev.ActivityID
	if ok {
		err = b.update(ctx, e, paceDefer, id, act)
		if isStaleActivity(err) {
			ok, ids = false, []bridge.MessageID{d.Message.ID}
			act = connector.Card(b.cards.Thread(cardView(d.Thread, ids, d.Message, lang)), summary(d.Thread.ConsumerName, d.Message.Text))
		} else if err != nil {
			return err
		}
	}
	if !ok {
		if id, err = b.post(ctx, e, paceDefer, act); err != nil {
			return err
		}
	}
	if !shownBefore && !d.Message.At.IsZero() {
		// The clock that stamped the message (the fake WeChat's in local mode).
		metrics.PostedToTeams(b.now().Sub(d.Message.At))
	}
	// The card is in Teams now: its record must be kept even if a stop has begun,
	// or the job would run again after the restart and post it twice.
	sctx, cancel := afterOutsideCall(ctx)
	defer cancel()
	if err := b.core.SaveCard(sctx, Card{Employee: e.ID, Thread: d.Thread.ID, ActivityID: id, Messages: ids, UpdatedAt: now}); err != nil {
		return fmt.Errorf("bot: save card: %w", err)
	}
	return nil
}

// deliverStatus updates the card that shows the message, if there is one ("Queued
// 2 of 5" becomes "Delivered"). Without a card there is nothing to update: the
// tab shows statuses, and failures come as notices.
func (b *Bot) deliverStatus(ctx context.Context, e *bridge.Employee, d bridge.Delivery, lang bridge.Language) error {
	c, ok, err := b.core.CardForMessage(ctx, e.ID, d.Message.ID)
	if err != nil {
		return fmt.Errorf("bot: card lookup: %w", err)
	}
	if !ok {
		return nil
	}
	if d.Thread, err = b.history(ctx, e, d.Thread, c.Messages, d.Message.ID); err != nil {
		return err
	}
	act := connector.Card(b.cards.Thread(cardView(d.Thread, c.Messages, d.Message, lang)), cards.MessageStatus(lang, d.Message, d.Thread.QueueLimit))
	err = b.update(ctx, e, paceDefer, c.ActivityID, act)
	if isStaleActivity(err) {
		return nil // the employee deleted the card; nothing to show it on
	}
	return err
}

// history adds the thread's recent messages when a card shows more than message m:
// a delivery carries the thread without them, and a card rebuilt without them
// would turn the messages it showed into "earlier messages". A thread the employee
// has left since is shown as it is.
func (b *Bot) history(ctx context.Context, e *bridge.Employee, t bridge.ThreadSummary, ids []bridge.MessageID, m bridge.MessageID) (bridge.ThreadSummary, error) {
	if len(t.Messages) > 0 || !slices.ContainsFunc(ids, func(id bridge.MessageID) bool { return id != m }) {
		return t, nil
	}
	full, err := b.core.Thread(ctx, e.ID, t.ID)
	switch {
	case errors.Is(err, bridge.ErrUnknownThread), errors.Is(err, bridge.ErrNotParticipant):
		return t, nil
	case err != nil:
		return t, fmt.Errorf("bot: thread history: %w", err)
	}
	t.Messages = full.Messages
	return t, nil
}

// cardView gathers the messages a card shows: the given ids, looked up in the
// thread's recent messages, with m (newer than what the thread summary may hold)
// taking precedence. Messages not found are counted as earlier ones.
func cardView(t bridge.ThreadSummary, ids []bridge.MessageID, m bridge.MessageView, lang bridge.Language) cards.ThreadView {
	v := cards.ThreadView{Thread: t, Lang: lang}
	for _, id := range ids {
		switch {
		case id == m.ID:
			v.Messages = append(v.Messages, m)
		default:
			i := slices.IndexFunc(t.Messages, func(x bridge.MessageView) bool { return x.ID == id })
			if i >= 0 {
				v.Messages = append(v.Messages, t.Messages[i])
			} else {
				v.Earlier++
			}
		}
	}
	return v
}

func summary(name, text string) string {
	s := name
	if text != "" {
		s += ": " + text
	}
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return s
}

// isStaleActivity reports that Teams will not update a card: it is gone (404
// other than a missing conversation) or refuses the update (400, as for a card
// too old to change). The caller posts a new card instead, or lets it be.
func isStaleActivity(err error) bool {
	e, ok := connector.AsAPIError(err)
	if !ok || e.Op != "update" {
		return false
	}
	return (e.StatusCode == http.StatusNotFound && !e.ConversationGone()) || e.StatusCode == http.StatusBadRequest
}

// pace says how a request to Teams waits for its slot under the rate limits.
type pace int

const (
	// paceDefer: a job delivery. A wait longer than inlineWait is handed back to
	// the job runner as a *bridge.RetryAfterError, and the worker is freed.
	paceDefer pace = iota
	// paceInline: an answer to an inbound activity, which Teams waits for in its
	// HTTP request: it sleeps until its slot.
	paceInline
)

// through waits for, or defers to, a slot for keys.
func (b *Bot) through(ctx context.Context, p pace, keys ...limitKey) error {
	if p == paceInline {
		return b.lim.wait(ctx, keys...)
	}
	return b.lim.admit(ctx, keys...)
}

// post sends an activity to the employee's conversation and returns its id.
func (b *Bot) post(ctx context.Context, e *bridge.Employee, p pace, a connector.Activity) (string, error) {
	var id string
	err := b.call(ctx, e, p, func(ctx context.Context, ref bridge.ConversationRef) error {
		var err error
		id, err = b.conn.SendActivity(ctx, ref.ServiceURL, ref.ConversationID, a)
		return err
	})
	return id, err
}

// update replaces an activity in the employee's conversation.
func (b *Bot) update(ctx context.Context, e *bridge.Employee, p pace, activityID string, a connector.Activity) error {
	return b.call(ctx, e, p, func(ctx context.Context, ref bridge.ConversationRef) error {
		return b.conn.UpdateActivity(ctx, ref.ServiceURL, ref.ConversationID, activityID, a)
	})
}

// call runs one connector operation within the rate limits and sorts Teams'
// answer into what the job runner can do with it:
//
//   - our own limiter says "not yet" (paceDefer): a *bridge.RetryAfterError for
//     the time it gives, and nothing is sent (a deferral, not an attempt);
//   - 429: a *bridge.RetryAfterError with Teams' Retry-After (a deferral, not an
//     attempt);
//   - 408, 412, 5xx and network errors: retried here with backoff, then handed
//     back as a plain error, which the job runner retries as an attempt;
//   - 403 BotDisabledByAdmin / ConversationBlockedByUser: the employee is marked
//     unreachable (bridge.ErrEmployeeUnreachable) until they interact;
//   - 404 ConversationNotFound: the 1:1 conversation is re-created once; if that
//     is refused, or the conversation is still not found, bridge.Permanent;
//   - any other 4xx (400, 401 after a fresh token, 403, 404, 413 …) and a service
//     URL the client will not call: bridge.Permanent, carrying Teams' code and
//     message.
//
// A request that has been sent is not abandoned when a stop cancels ctx: Teams
// may act on it, so its answer is awaited (for at most bridge.DrainTimeout after
// the stop) and the caller can record what Teams did. No new request starts
// once ctx is cancelled.
func (b *Bot) call(ctx context.Context, e *bridge.Employee, p pace, op func(context.Context, bridge.ConversationRef) error) error {
	recreated := false
	for attempt := 0; ; attempt++ {
		ref := e.Conversation
		if err := b.through(ctx, p, convKey(ref), tenantKey(ref, e)); err != nil {
			return err
		}
		err := b.finish(ctx, e, func(octx context.Context) error { return op(octx, ref) })
		if err == nil {
			return nil
		}
		apiErr, isAPI := connector.AsAPIError(err)
		switch {
		case isAPI && apiErr.ConversationGone():
			if recreated {
				return bridge.Permanent(fmt.Errorf("bot: deliver to %s: the conversation is not found even after re-creating it: %w", e.ID, err))
			}
			recreated = true
			if err := b.recreate(ctx, e, p, err); err != nil {
				return err
			}
			continue
		case isAPI && apiErr.Transient(), !isAPI && ctx.Err() == nil && !errors.Is(err, connector.ErrBadServiceURL):
			// Network errors are transient too.
			if attempt >= b.cfg.Retries {
				return fmt.Errorf("bot: deliver to %s: Teams failed %d times: %w", e.ID, attempt+1, err)
			}
			if err := sleep(ctx, b.cfg.Backoff<<attempt); err != nil {
				return err
			}
			continue
		}
		return b.outcome(ctx, e, err)
	}
}

// outcome turns a failure that is not retried here into what call returns.
func (b *Bot) outcome(ctx context.Context, e *bridge.Employee, err error) error {
	apiErr, isAPI := connector.AsAPIError(err)
	switch {
	case errors.Is(err, connector.ErrBadServiceURL):
		return bridge.Permanent(fmt.Errorf("bot: deliver to %s: %w", e.ID, err))
	case !isAPI:
		return err // the context ended, or a network error after the retries
	case apiErr.Throttled():
		return &bridge.RetryAfterError{Wait: max(apiErr.RetryAfter, time.Second), Err: err}
	case apiErr.Unreachable():
		mctx, cancel := afterOutsideCall(ctx)
		defer cancel()
		if merr := b.core.MarkUnreachable(mctx, e.ID, apiErr.Code); merr != nil {
			return fmt.Errorf("bot: mark unreachable: %w (after %w)", merr, err)
		}
		return fmt.Errorf("%w: %w", bridge.ErrEmployeeUnreachable, err)
	case apiErr.ClientError():
		return bridge.Permanent(fmt.Errorf("bot: deliver to %s: Teams refused the request: %w", e.ID, err))
	}
	return fmt.Errorf("bot: deliver to %s: %w", e.ID, err)
}

// recreate opens the 1:1 conversation again and stores the new reference; gone
// is the ConversationNotFound that made it necessary. A refusal that no retry
// changes is permanent; a throttled or failing connector is retried later.
func (b *Bot) recreate(ctx context.Context, e *bridge.Employee, p pace, gone error) error {
	ref := e.Conversation
	user := ref.UserID
	if user == "" {
		user = e.TeamsUserID
	}
	tenant := ref.TenantID
	if tenant == "" {
		tenant = e.TenantID
	}
	if err := b.through(ctx, p, tenantKey(ref, e)); err != nil {
		return err
	}
	var id string
	err := b.finish(ctx, e, func(octx context.Context) (err error) {
		id, err = b.conn.CreateConversation(octx, ref.ServiceURL, connector.ConversationParams{BotID: ref.BotID, UserID: user, TenantID: tenant})
		return err
	})
	if err != nil {
		// Only the create's own answer decides; the 404 that led here is told.
		err = fmt.Errorf("the conversation was not found (%s), and re-creating it failed: %w", gone.Error(), err)
		if apiErr, ok := connector.AsAPIError(err); (ok && apiErr.Transient()) || (!ok && ctx.Err() == nil && !errors.Is(err, connector.ErrBadServiceURL)) {
			return fmt.Errorf("bot: deliver to %s: %w", e.ID, err)
		}
		return b.outcome(ctx, e, err)
	}
	ref.ConversationID = id
	uctx, cancel := afterOutsideCall(ctx)
	defer cancel()
	if err := b.core.UpdateConversation(uctx, e.ID, ref); err != nil {
		return fmt.Errorf("bot: store re-created conversation: %w", err)
	}
	e.Conversation = ref
	return nil
}

func convKey(ref bridge.ConversationRef) limitKey {
	return limitKey{"c:" + ref.ConversationID, ConversationLimits}
}

func tenantKey(ref bridge.ConversationRef, e *bridge.Employee) limitKey {
	t := ref.TenantID
	if t == "" {
		t = e.TenantID
	}
	return limitKey{"t:" + t, TenantLimits}
}

func sleep(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finish runs a request to Teams with a context that a stop does not cancel
// until bridge.DrainTimeout after it: a request that is on its way is answered,
// so that the caller knows what Teams did and can record it.
func (b *Bot) finish(ctx context.Context, e *bridge.Employee, op func(context.Context) error) error {
	octx, cancel := outlive(ctx, bridge.DrainTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		b.log.Info("bot: stopping; waiting for Teams to answer a request in flight before recording it",
			"employee", e.ID, "drain_timeout", bridge.DrainTimeout)
	})
	defer stop()
	return op(octx)
}

// afterOutsideCall is the context for the bookkeeping after Teams did something
// (a card posted, a conversation created, a refusal to record): a stop does not
// cancel it, and bridge.DrainTimeout bounds it.
func afterOutsideCall(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), bridge.DrainTimeout)
}

// outlive returns a context with ctx's values that is cancelled grace after ctx
// is done (or by the returned cancel), not when ctx is.
func outlive(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	octx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	var mu sync.Mutex
	var timer *time.Timer
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(grace, func() {
			cancel(fmt.Errorf("drain timeout (%v) after the stop: %w", grace, context.Cause(ctx)))
		})
	})
	return octx, func() {
		stop()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel(context.Canceled)
	}
}
