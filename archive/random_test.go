package archive

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestVerifyRandomTampering: many random single alterations of the record, each
// caught. The seed is fixed, so a failure reproduces.
func TestVerifyRandomTampering(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 4511))
	mutations := []func(es []Event, i int) []Event{
		func(es []Event, i int) []Event { es[i].Body = []byte(fmt.Sprintf(`{"x":%d}`, rng.Int())); return es },
		func(es []Event, i int) []Event {
			es[i].Time = es[i].Time.Add(time.Duration(1+rng.IntN(1e6)) * time.Microsecond)
			return es
		},
		func(es []Event, i int) []Event { es[i].Seq += int64(1 + rng.IntN(3)); return es },
		func(es []Event, i int) []Event {
			es[i].Kind = Kinds[(rng.IntN(len(Kinds)-1)+1+indexOf(es[i].Kind))%len(Kinds)]
			return es
		},
		func(es []Event, i int) []Event { es[i].Prev[rng.IntN(32)] ^= byte(1 + rng.IntN(255)); return es },
		func(es []Event, i int) []Event { es[i].Hash[rng.IntN(32)] ^= byte(1 + rng.IntN(255)); return es },
		func(es []Event, i int) []Event { es[i].BodyHash[rng.IntN(32)] ^= byte(1 + rng.IntN(255)); return es },
		func(es []Event, i int) []Event { return append(es[:i:i], es[i+1:]...) },
		func(es []Event, i int) []Event {
			j := rng.IntN(len(es))
			es[i], es[j] = es[j], es[i]
			return es
		},
	}
	f := newFixture(t)
	chains, _ := f.mem.Chains(t.Context())
	for n := 0; n < 300; n++ {
		g := newFixture(t)
		id := chains[rng.IntN(len(chains))]
		es := g.mem.Chain(id)
		i, m := rng.IntN(len(es)), rng.IntN(len(mutations))
		if m == 7 && id.Thread == CompanyThread && i == len(es)-1 {
			// Removing the newest anchor itself leaves nothing to compare with:
			// that is what Report.Heads are for (see TestVerifyHeadsShowTruncation).
			continue
		}
		before := g.mem.Chain(id)
		after := mutations[m](es, i)
		if reflect.DeepEqual(before, after) {
			continue
		}
		g.mem.Replace(id, after)
		if rep := verify(t, g.mem); rep.OK() {
			t.Fatalf("mutation %d of %s event at %d not detected", m, id, i)
		}
	}
}

func indexOf(k Kind) int {
	for i, x := range Kinds {
		if x == k {
			return i
		}
	}
	return 0
}

// TestVerifyHeadsShowTruncation: the one removal no chain can show, the company
// chain's newest events, changes the head Verify reports, which an operator
// compares with a copy kept elsewhere.
func TestVerifyHeadsShowTruncation(t *testing.T) {
	f := newFixture(t)
	company := ChainID{Company: "acme", Thread: CompanyThread}
	want := verify(t, f.mem).Heads[0]
	es := f.mem.Chain(company)
	f.mem.Replace(company, es[:len(es)-1])
	got := verify(t, f.mem)
	if !got.OK() || got.Heads[0].Chain != company || got.Heads[0].Head == want.Head {
		t.Fatalf("heads %+v, before %+v", got.Heads[0], want)
	}
}
