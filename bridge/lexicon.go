package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/lexicon"
)

// This file is the lexicon (DLP) policy on messages, enforced in the very
// transaction that records each message (applyActs), so that no message is
// stored, sent or shown without its decision, and every decision is an archive
// event (archive.KindLexicon) committed with it:
//
//   - outbound (employee → consumer): block keeps the message with status
//     StatusBlocked and a reason a person reads, never sends it and does not
//     count it as a send, and tells the author (NoticeLexiconBlocked); redact
//     sends the redacted text; flag sends it as is and records it for review;
//   - inbound (consumer → employees): redact shows employees the redacted text,
//     block shows them Replacement instead of the text, flag records it. The
//     consumer's message is received either way: it was written.
//
// The original is always kept: in Content.Original of the stored message when
// what is shown differs, and in the archive's message and lexicon events.

// StatusBlocked is the status of an employee's message a lexicon rule blocked:
// kept, never sent, and not counted against WeChat's limits. Reason says which
// rule, in words (BlockedReason).
const StatusBlocked MessageStatus = "blocked"

// NoticeLexiconBlocked tells the author of a blocked message that it was not
// sent. Companies may override its text, as every notice's.
const NoticeLexiconBlocked NoticeKind = "lexicon_blocked"

// BlockedReason is the reason of a blocked message, as employees and the
// archive read it: "Blocked by policy: <rule>".
func BlockedReason(rules []string) string {
	return blockedPrefix + strings.Join(rules, ", ")
}

const blockedPrefix = "Blocked by policy: "

// BlockedRules is the rules a BlockedReason names, as one string ("a, b"), so
// that Teams can say it in the employee's language.
func BlockedRules(reason string) string { return strings.TrimPrefix(reason, blockedPrefix) }

// screen evaluates the company's lexicon rules on the text of an employee's
// send or a consumer's message, and returns the event as the policy must see it
// (its text redacted when a rule says so) with the decision; nil when no rule
// matched or the event carries no text.
func (s *Service) screen(ctx context.Context, tx Tx, c Company, ev Event) (Event, *lexicon.Decision, error) {
	var dir lexicon.Direction
	var text string
	switch e := ev.(type) {
	case EmployeeSend:
		dir, text = lexicon.Outbound, e.Body.Text
	case ConsumerMessage:
		if IsLeaveCommand(e.Body.Text) {
			return ev, nil, nil // a command, not content: it must keep working
		}
		dir, text = lexicon.Inbound, e.Body.Text
	default:
		return ev, nil, nil
	}
	if text == "" {
		return ev, nil, nil
	}
	company := c.ID
	if company == "" {
		company = s.company
	}
	set, err := s.lexiconSet(ctx, tx, company)
	if err != nil {
		return ev, nil, fmt.Errorf("bridge: lexicon: %w", err)
	}
	if set.Len() == 0 {
		return ev, nil, nil
	}
	d := lexicon.Evaluate(set, dir, text)
	if d.Action == lexicon.None {
		return ev, nil, nil
	}
	shown := d.Result
	if d.Blocked() && dir == lexicon.Inbound {
		shown = lexicon.Replacement // received, but what it says is not shown
	}
	if d.Redacted() || (d.Blocked() && dir == lexicon.Inbound) {
		switch e := ev.(type) {
		case EmployeeSend:
			e.Body.Original, e.Body.Text = text, shown
			ev = e
		case ConsumerMessage:
			e.Body.Original, e.Body.Text = text, shown
			ev = e
		}
	}
	d.Result = shown
	return ev, &d, nil
}

// decide is Apply, except for an employee's send a lexicon rule blocked, which
// the thread's policy never sees: it is not sent, queued or counted.
func (s *Service) decide(c Company, th Thread, ev Event, d *lexicon.Decision, now time.Time) (Thread, []Action, error) {
	if e, ok := ev.(EmployeeSend); ok && d != nil && d.Blocked() {
		return blockSend(th, e, d)
	}
	return Apply(c.Policy, th, ev, now)
}

// blockSend keeps a blocked message in the thread and tells its author. It
// checks what Apply would (the thread exists, the author is in it, the text
// fits), so a send that would be refused is refused the same way.
func blockSend(th Thread, e EmployeeSend, d *lexicon.Decision) (Thread, []Action, error) {
	switch {
	case th.Status == StatusNew:
		return th, nil, ErrNoThread
	case !th.IsParticipant(e.Employee):
		return th, nil, ErrNotParticipant
	case len(e.Body.Text) > MaxTextBytes:
		return th, nil, ErrMessageTooLong
	}
	th.Seq++
	id := MessageIDFor(th.ID, th.Seq)
	return th, []Action{
		RecordMessage{Message: id, Seq: th.Seq, From: FromEmployee, Author: e.Employee, Body: e.Body,
			Status: StatusBlocked, Reason: BlockedReason(d.DecidingRules())},
		NotifyEmployees{To: []EmployeeID{e.Employee}, Notice: NoticeLexiconBlocked},
	}, nil
}

// lexiconBody is the archive's record of decision d on message m.
func lexiconBody(m MessageID, d *lexicon.Decision) archive.LexiconBody {
	b := archive.LexiconBody{MessageID: string(m), Direction: string(d.Direction), Action: string(d.Action),
		Rules: d.RuleNames(), Original: d.Original, Result: d.Result}
	if d.Action == lexicon.Redact {
		b.Flags = flagRules(d)
	}
	return b
}

// flagRules are the names of the flag rules that matched in d.
func flagRules(d *lexicon.Decision) []string {
	var out []string
	for _, m := range d.Matches {
		if m.Action == lexicon.Flag {
			out = append(out, m.Rule)
		}
	}
	return out
}
