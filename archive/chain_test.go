package archive

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func verify(t *testing.T, r Reader) Report {
	t.Helper()
	rep, err := Verify(context.Background(), r)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

// TestVerifyIntact: a chain written through Seal verifies, and counts add up.
func TestVerifyIntact(t *testing.T) {
	f := newFixture(t)
	rep := verify(t, f.mem)
	if !rep.OK() || rep.Err() != nil {
		t.Fatalf("intact archive: %+v", rep.Problems)
	}
	if rep.Chains != 3 || rep.Events != len(f.mem.All()) || rep.Anchors != 2 || rep.Purged != 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.Heads[0].Chain.Thread != CompanyThread || rep.Heads[1].Seq != f.mem.Head(t1()).Seq {
		t.Fatalf("heads %+v", rep.Heads)
	}
}

// TestVerifyTamper: each way of altering the record is reported at the first
// event it touches, with the right kind.
func TestVerifyTamper(t *testing.T) {
	rehash := func(es []Event, from int) {
		for i := from; i < len(es); i++ {
			if i > 0 {
				es[i].Prev = es[i-1].Hash
			}
			es[i].Hash = ChainHash(es[i].Prev, es[i])
		}
	}
	cases := []struct {
		name   string
		chain  ChainID
		alter  func(es []Event) []Event
		kind   ProblemKind
		seq    int64
		detail string
	}{
		{"edit body", t1(), func(es []Event) []Event {
			es[2].Body = []byte(strings.Replace(string(es[2].Body), "1234 5678", "0000 0000", 1))
			return es
		}, ProblemChanged, 3, "body no longer matches"},
		{"edit body and its hash", t1(), func(es []Event) []Event {
			es[2].Body = []byte(strings.Replace(string(es[2].Body), "1234 5678", "0000 0000", 1))
			es[2].BodyHash = Sum(es[2].Body)
			return es
		}, ProblemChanged, 3, "does not recompute"},
		{"edit time", t1(), func(es []Event) []Event {
			es[4].Time = es[4].Time.Add(-time.Hour)
			return es
		}, ProblemChanged, 5, "does not recompute"},
		{"edit kind", t1(), func(es []Event) []Event {
			es[4].Kind = KindNoticeEmployees
			return es
		}, ProblemChanged, 5, ""},
		{"rewrite one event with new hashes", t1(), func(es []Event) []Event {
			es[2].Body = []byte(strings.Replace(string(es[2].Body), "1234 5678", "0000 0000", 1))
			es[2].BodyHash = Sum(es[2].Body)
			es[2].Hash = ChainHash(es[2].Prev, es[2])
			return es
		}, ProblemChanged, 3, "event 3 was rewritten"},
		{"rewrite the whole tail (caught by the anchor)", t1(), func(es []Event) []Event {
			es[5].Body = []byte(strings.Replace(string(es[5].Body), "稍后", "马上", 1))
			es[5].BodyHash = Sum(es[5].Body)
			rehash(es, 5)
			return es
		}, ProblemChanged, 1, "anchor of 2026-11-24"},
		{"delete one event", t1(), func(es []Event) []Event {
			return slices.Delete(es, 3, 4)
		}, ProblemRemoved, 4, "event 4 is missing"},
		{"delete the first event", t1(), func(es []Event) []Event {
			return es[1:]
		}, ProblemRemoved, 1, "event 1 is missing"},
		{"delete two and renumber", t1(), func(es []Event) []Event {
			es = slices.Delete(es, 3, 5)
			for i := 3; i < len(es); i++ {
				es[i].Seq -= 2
			}
			return es
		}, ProblemRemoved, 4, "2 events before it were removed"},
		{"cut the tail after the anchor", t1(), func(es []Event) []Event {
			return es[:len(es)-2]
		}, ProblemRemoved, int64(0), "were removed"},
		{"store out of order", t1(), func(es []Event) []Event {
			es[3], es[4] = es[4], es[3]
			return es
		}, ProblemReordered, 4, "stored after"},
		{"swap sequence numbers", t1(), func(es []Event) []Event {
			es[3], es[4] = es[4], es[3]
			es[3].Seq, es[4].Seq = 4, 5
			return es
		}, ProblemReordered, 4, "renumbered"},
		{"duplicate an event", t1(), func(es []Event) []Event {
			return slices.Insert(es, 3, es[2])
		}, ProblemReordered, 3, "comes again"},
		{"remove a whole thread", ChainID{Company: "acme", Thread: "T2"}, func(es []Event) []Event {
			return nil
		}, ProblemThreadRemoved, 1, "no event of it"},
		{"drop a body without a purge", t1(), func(es []Event) []Event {
			es[2] = es[2].WithoutBody()
			return es
		}, ProblemBodyMissing, 3, "no purge covers"},
		{"drop an anchor's body", ChainID{Company: "acme", Thread: CompanyThread}, func(es []Event) []Event {
			es[1] = es[1].WithoutBody()
			return es
		}, ProblemBodyMissing, 2, "never purged"},
		{"move an event to another company", t1(), func(es []Event) []Event {
			es[2].Company = "other"
			return es
		}, ProblemChanged, 3, "belongs to other/T1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			before := f.mem.Chain(c.chain)
			f.mem.Replace(c.chain, c.alter(f.mem.Chain(c.chain)))
			rep := verify(t, f.mem)
			p := rep.First()
			if p == nil {
				t.Fatal("tampering not detected")
			}
			if len(rep.Problems) != 1 {
				t.Errorf("want one problem, got %+v", rep.Problems)
			}
			want := c.seq
			if c.name == "cut the tail after the anchor" {
				want = int64(len(before) - 1)
			}
			if p.Kind != c.kind || p.Chain != c.chain || p.Seq != want || !strings.Contains(p.Detail, c.detail) {
				t.Fatalf("got %v (%s), want %s at %s event %d with %q", *p, p.Kind, c.kind, c.chain, want, c.detail)
			}
			if err := rep.Err(); err == nil || !strings.Contains(err.Error(), string(c.kind)) {
				t.Fatalf("Err() = %v", err)
			}
		})
	}
}

// TestVerifyPurge: retention drops bodies and records a purge; hashes remain, so
// the chains still verify, and the anchors' bodies are kept.
func TestVerifyPurge(t *testing.T) {
	f := newFixture(t)
	before := day2
	var n int64
	for _, id := range []ChainID{t1(), {Company: "acme", Thread: "T2"}, {Company: "acme", Thread: CompanyThread}} {
		es := f.mem.Chain(id)
		for i, e := range es {
			if e.Time.Before(before) && e.Kind.Purgeable() {
				es[i] = e.WithoutBody()
				n++
			}
		}
		f.mem.Replace(id, es)
	}
	if _, err := f.mem.Append(Draft{Company: "acme", Thread: CompanyThread, Time: day2.Add(30 * time.Hour), Kind: KindPurge,
		Body: PurgeBody{Before: before, RetentionDays: 1, Events: n}}); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, f.mem)
	if !rep.OK() || rep.Purged != int(n) || n < 10 {
		t.Fatalf("after purge of %d: %+v", n, rep)
	}
	if err := f.mem.Chain(t1())[2].Decode(&MessageBody{}); err != ErrPurged {
		t.Fatalf("decode purged: %v", err)
	}
}

// TestVerifyManyChains: problems in several chains are each reported, first
// per chain, in a stable order.
func TestVerifyManyChains(t *testing.T) {
	f := newFixture(t)
	t2 := ChainID{Company: "acme", Thread: "T2"}
	es := f.mem.Chain(t2)
	es[0].Time = es[0].Time.Add(time.Second)
	f.mem.Replace(t2, es)
	es = f.mem.Chain(t1())
	f.mem.Replace(t1(), append(es[:1], es[2:]...))
	rep := verify(t, f.mem)
	if len(rep.Problems) != 2 || rep.Problems[0].Chain != t1() || rep.Problems[1].Chain != t2 {
		t.Fatalf("problems %+v", rep.Problems)
	}
}

// TestSealRefuses: drafts that cannot make a sound record are refused with a
// reason.
func TestSealRefuses(t *testing.T) {
	now := time.Now()
	cases := map[string]struct {
		head Head
		d    Draft
		want string
	}{
		"no company":     {Head{}, Draft{Thread: "T", Time: now, Kind: KindLeave}, "company"},
		"no thread":      {Head{}, Draft{Company: "c", Time: now, Kind: KindLeave}, "thread"},
		"unknown kind":   {Head{}, Draft{Company: "c", Thread: "T", Time: now, Kind: "x"}, "unknown event kind"},
		"anchor on T":    {Head{}, Draft{Company: "c", Thread: "T", Time: now, Kind: KindAnchor}, "company chain"},
		"no time":        {Head{}, Draft{Company: "c", Thread: "T", Kind: KindLeave}, "no time"},
		"bad head":       {Head{Seq: 3}, Draft{Company: "c", Thread: "T", Time: now, Kind: KindLeave}, "not a chain's head"},
		"array body":     {Head{}, Draft{Company: "c", Thread: "T", Time: now, Kind: KindLeave, Body: []int{1}}, "not a JSON object"},
		"duplicate keys": {Head{}, Draft{Company: "c", Thread: "T", Time: now, Kind: KindLeave, Body: []byte(`{"a":1,"a":2}`)}, "duplicate"},
	}
	for name, c := range cases {
		if _, err := Seal(c.head, c.d); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
	e, err := Seal(Head{}, Draft{Company: "c", Thread: "T", Time: time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.FixedZone("x", 3600)), Kind: KindLeave})
	if err != nil || e.Time.Nanosecond() != 678901000 || e.Time.Location() != time.UTC || string(e.Body) != "{}" {
		t.Fatalf("sealed %+v, %v", e, err)
	}
}
