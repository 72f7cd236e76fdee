package archive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// maxRenumber is how far Verify looks for an event's original Seq when a chain
// was renumbered to hide a removal.
const maxRenumber = 1000

// errStop ends a walk early; it never leaves this package.
var errStop = errors.New("stop")

// Verify walks every chain r holds and the anchors on the company chains, and
// reports, per chain, the first event that was changed, removed or reordered, and
// every thread that an anchor recorded and that is gone. The error is only for
// failing to read; what is wrong with the record is in the Report (see
// Report.Err).
func Verify(ctx context.Context, r Reader) (Report, error) {
	ids, err := r.Chains(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("archive: verify: list chains: %w", err)
	}
	slices.SortFunc(ids, compareChains)
	ids = slices.Compact(ids)

	var rep Report
	byCompany := map[string][]ChainID{}
	var companies []string
	for _, id := range ids {
		if _, ok := byCompany[id.Company]; !ok {
			companies = append(companies, id.Company)
		}
		byCompany[id.Company] = append(byCompany[id.Company], id)
	}
	for _, c := range companies {
		if err := verifyCompany(ctx, r, c, byCompany[c], &rep); err != nil {
			return rep, err
		}
	}
	rep.Chains = len(ids)
	return rep, nil
}

// compareChains sorts by company, the company chain first, then by thread.
func compareChains(a, b ChainID) int {
	if c := strings.Compare(a.Company, b.Company); c != 0 {
		return c
	}
	if (a.Thread == CompanyThread) != (b.Thread == CompanyThread) {
		if a.Thread == CompanyThread {
			return -1
		}
		return 1
	}
	return strings.Compare(a.Thread, b.Thread)
}

// anchorHead is one thread's head as one anchor recorded it.
type anchorHead struct {
	day  string
	seq  int64
	hash Hash
}

// companyFacts is what the company chain tells about the thread chains.
type companyFacts struct {
	anchors      map[string][]anchorHead // by thread, in anchor order
	purgedBefore time.Time               // latest Before of a trusted purge
}

func verifyCompany(ctx context.Context, r Reader, company string, ids []ChainID, rep *Report) error {
	facts := companyFacts{anchors: map[string][]anchorHead{}}
	present := map[string]bool{}
	var threadIDs []ChainID
	for _, id := range ids {
		present[id.Thread] = true
		if id.Thread != CompanyThread {
			threadIDs = append(threadIDs, id)
		}
	}

	if present[CompanyThread] {
		id := ChainID{Company: company, Thread: CompanyThread}
		var bodies []Event
		res, err := walkChain(ctx, r, id, nil, func(e Event) {
			if e.Purged() {
				bodies = append(bodies, e)
				return
			}
			switch e.Kind {
			case KindAnchor:
				var a AnchorBody
				if e.Decode(&a) != nil {
					return
				}
				rep.Anchors++
				for _, h := range a.Heads {
					facts.anchors[h.Thread] = append(facts.anchors[h.Thread], anchorHead{a.Day, h.Seq, h.Hash})
				}
			case KindPurge:
				var p PurgeBody
				if e.Decode(&p) == nil && p.Before.After(facts.purgedBefore) {
					facts.purgedBefore = p.Before
				}
			}
		})
		if err != nil {
			return err
		}
		// Purges come after the bodies they drop, so the company chain's own
		// missing bodies are judged once the whole chain is read.
		res.checkBodies(bodies, facts.purgedBefore)
		res.report(rep)
	}

	for _, id := range threadIDs {
		want := map[int64]bool{}
		for _, a := range facts.anchors[id.Thread] {
			want[a.seq] = true
		}
		var bodies []Event
		res, err := walkChain(ctx, r, id, want, func(e Event) {
			if e.Purged() {
				bodies = append(bodies, e)
			}
		})
		if err != nil {
			return err
		}
		res.checkBodies(bodies, facts.purgedBefore)
		if res.problem == nil {
			res.checkAnchors(facts.anchors[id.Thread])
		}
		res.report(rep)
	}

	var gone []string
	for thread := range facts.anchors {
		if !present[thread] {
			gone = append(gone, thread)
		}
	}
	slices.Sort(gone)
	for _, thread := range gone {
		a := facts.anchors[thread][0]
		rep.Problems = append(rep.Problems, Problem{
			Kind:  ProblemThreadRemoved,
			Chain: ChainID{Company: company, Thread: thread},
			Seq:   1,
			Detail: fmt.Sprintf("the anchor of %s recorded this thread at event %d (hash %s), and the store has no event of it",
				a.day, a.seq, a.hash),
		})
	}
	return nil
}

// chainResult is what walking one chain found.
type chainResult struct {
	id      ChainID
	events  int
	purged  int
	head    Head
	problem *Problem
	hashes  map[int64]Hash // the hashes at the seqs anchors recorded
}

func (c *chainResult) report(rep *Report) {
	rep.Events += c.events
	rep.Purged += c.purged
	rep.Heads = append(rep.Heads, ChainHead{Chain: c.id, Head: c.head})
	if c.problem != nil {
		rep.Problems = append(rep.Problems, *c.problem)
	}
}

// checkBodies reports the first body that is gone without a purge covering it,
// if it comes before the chain's first other problem.
func (c *chainResult) checkBodies(bodyless []Event, purgedBefore time.Time) {
	for _, e := range bodyless {
		if c.problem != nil && e.Seq >= c.problem.Seq {
			return
		}
		var why string
		switch {
		case !e.Kind.Purgeable():
			why = fmt.Sprintf("the body of a %s event is never purged, yet it is gone", e.Kind)
		case !e.Time.Before(purgedBefore):
			why = fmt.Sprintf("the body of this %s event (%s) is gone, and no purge covers that time",
				e.Kind, e.Time.UTC().Format(time.RFC3339))
		default:
			continue
		}
		c.problem = &Problem{Kind: ProblemBodyMissing, Chain: c.id, Seq: e.Seq, Detail: why}
		return
	}
}

// checkAnchors compares a chain that verified on its own with what the anchors
// recorded of it: a chain rewritten with recomputed hashes, or cut short after
// its last anchored event, passes its own walk but not this.
func (c *chainResult) checkAnchors(anchors []anchorHead) {
	var lastGood int64
	for _, a := range anchors {
		if a.seq > c.head.Seq {
			c.problem = &Problem{Kind: ProblemRemoved, Chain: c.id, Seq: c.head.Seq + 1,
				Detail: fmt.Sprintf("the chain ends at event %d, but the anchor of %s recorded its head at event %d: events %d to %d were removed",
					c.head.Seq, a.day, a.seq, c.head.Seq+1, a.seq)}
			return
		}
		if got := c.hashes[a.seq]; got != a.hash {
			c.problem = &Problem{Kind: ProblemChanged, Chain: c.id, Seq: lastGood + 1,
				Detail: fmt.Sprintf("the chain was rewritten between events %d and %d: event %d hashes to %s, but the anchor of %s recorded %s",
					lastGood+1, a.seq, a.seq, got, a.day, a.hash)}
			return
		}
		lastGood = a.seq
	}
}

// walkChain checks one chain's links and body hashes, up to its first problem.
// seen is called with each event that verified, in order.
func walkChain(ctx context.Context, r Reader, id ChainID, want map[int64]bool, seen func(Event)) (*chainResult, error) {
	res := &chainResult{id: id, hashes: map[int64]Hash{}}
	var prev Hash
	expect := int64(1)
	var bad *Event
	err := r.Events(ctx, id, func(e Event) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		res.events++
		if e.Purged() {
			res.purged++
		}
		if e.Company != id.Company || e.Thread != id.Thread {
			res.problem = &Problem{Kind: ProblemChanged, Chain: id, Seq: e.Seq,
				Detail: fmt.Sprintf("the event says it belongs to %s", e.Chain())}
			return errStop
		}
		if e.Body != nil {
			if h, err := BodyHash(e.Body); err != nil || h != e.BodyHash {
				res.problem = &Problem{Kind: ProblemChanged, Chain: id, Seq: e.Seq,
					Detail: "the body no longer matches the body hash the chain covers"}
				return errStop
			}
		}
		if e.Seq != expect || e.Prev != prev || ChainHash(prev, e) != e.Hash {
			bad = &e
			return errStop
		}
		if want[e.Seq] {
			res.hashes[e.Seq] = e.Hash
		}
		res.head = HeadOf(e)
		seen(e)
		prev = e.Hash
		expect++
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, fmt.Errorf("archive: verify %s: %w", id, err)
	}
	if bad != nil {
		p, err := classify(ctx, r, id, *bad, expect, prev)
		if err != nil {
			return nil, err
		}
		res.problem = &p
	}
	return res, nil
}

// classify says what happened at the first event whose link does not hold: e is
// that event, found where event expect, following hash prev, should have been.
func classify(ctx context.Context, r Reader, id ChainID, e Event, expect int64, prev Hash) (Problem, error) {
	// Something is wrong, so read the chain once more to see where its events
	// went: the cost is paid only by a chain that fails.
	bySeq := map[int64]int{}
	byHash := map[Hash]int64{}
	err := r.Events(ctx, id, func(x Event) error {
		bySeq[x.Seq]++
		byHash[x.Hash] = x.Seq
		return ctx.Err()
	})
	if err != nil {
		return Problem{}, fmt.Errorf("archive: verify %s: %w", id, err)
	}

	p := Problem{Chain: id, Seq: expect}
	switch {
	case e.Seq < expect:
		p.Kind, p.Seq = ProblemReordered, e.Seq
		p.Detail = fmt.Sprintf("event %d comes again after event %d", e.Seq, expect-1)
		return p, nil
	case e.Seq > expect && bySeq[expect] > 0:
		p.Kind = ProblemReordered
		p.Detail = fmt.Sprintf("event %d is stored after event %d", expect, e.Seq)
		return p, nil
	case e.Seq > expect:
		p.Kind = ProblemRemoved
		if e.Seq == expect+1 {
			p.Detail = fmt.Sprintf("event %d is missing", expect)
		} else {
			p.Detail = fmt.Sprintf("events %d to %d are missing", expect, e.Seq-1)
		}
		return p, nil
	}
	if ChainHash(e.Prev, e) == e.Hash {
		// The event is as written but links to another predecessor: the one
		// before it was rewritten (hashes and all), or the chain starts late.
		p.Kind = ProblemChanged
		if expect > 1 {
			p.Seq = expect - 1
			p.Detail = fmt.Sprintf("event %d was rewritten: event %d links to hash %s, not %s",
				expect-1, expect, e.Prev, prev)
		} else {
			p.Detail = "the first event links to a predecessor"
		}
		return p, nil
	}
	if e.Prev == prev {
		p.Kind = ProblemChanged
		p.Detail = "the event's time, kind, sequence or body hash was altered: its hash does not recompute"
		return p, nil
	}
	// Neither its content nor its link holds: it links to an event that is now
	// elsewhere (events renumbered to swap them), or to one that is gone (removed,
	// and the rest renumbered to hide the gap).
	if s, ok := byHash[e.Prev]; ok && s != expect-1 {
		p.Kind = ProblemReordered
		p.Detail = fmt.Sprintf("event %d was written after the event now numbered %d: events were renumbered", expect, s)
		return p, nil
	}
	for d := int64(1); d <= maxRenumber; d++ {
		orig := e
		orig.Seq = e.Seq + d
		if ChainHash(e.Prev, orig) == e.Hash {
			p.Kind = ProblemRemoved
			p.Detail = fmt.Sprintf("event %d was written as event %d: %d events before it were removed and the rest renumbered",
				expect, orig.Seq, d)
			return p, nil
		}
	}
	p.Kind = ProblemChanged
	p.Detail = "the event was altered: neither its hash nor its link to the event before it holds"
	return p, nil
}
