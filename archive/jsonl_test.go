package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestJSONLLossless: an export read back gives the very same events, purged
// bodies included, and verifies on its own.
func TestJSONLLossless(t *testing.T) {
	f := newFixture(t)
	es := f.mem.Chain(t1())
	es[0] = es[0].WithoutBody()
	f.mem.Replace(t1(), es)
	if _, err := f.mem.Append(Draft{Company: "acme", Thread: CompanyThread, Time: day2.Add(48 * time.Hour), Kind: KindPurge,
		Body: PurgeBody{Before: day1.Add(10 * time.Hour), Events: 1}}); err != nil {
		t.Fatal(err)
	}
	all := f.mem.All()
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, all); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != len(all) {
		t.Fatalf("%d lines for %d events", n, len(all))
	}
	if !strings.Contains(buf.String(), `"body":null`) || !strings.Contains(buf.String(), "你好") {
		t.Fatalf("export:\n%s", buf.String())
	}
	var back []Event
	if err := ReadJSONL(&buf, func(e Event) error { back = append(back, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(back) != len(all) {
		t.Fatalf("read %d of %d", len(back), len(all))
	}
	for i := range all {
		a, b := all[i], back[i]
		if !a.Time.Equal(b.Time) || !bytes.Equal(a.Body, b.Body) || (a.Body == nil) != (b.Body == nil) {
			t.Fatalf("event %d differs:\n%+v\n%+v", i, a, b)
		}
		a.Time, b.Time = time.Time{}, time.Time{}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("event %d differs:\n%+v\n%+v", i, a, b)
		}
	}
	rep, err := Verify(context.Background(), NewMemory(back...))
	if err != nil || !rep.OK() {
		t.Fatalf("export does not verify: %v %+v", err, rep.Problems)
	}
}

// TestReadJSONLNamesTheLine: a broken export says which line is wrong.
func TestReadJSONLNamesTheLine(t *testing.T) {
	in := "\n" + `{"company":"a","thread":"t","seq":1,"time":"2026-11-24T00:00:00.000000Z","kind":"leave","body":{},"body_sha256":"` +
		strings.Repeat("0", 64) + `","prev":"` + strings.Repeat("0", 64) + `","hash":"` + strings.Repeat("0", 64) + `"}` + "\n{oops\n"
	n := 0
	err := ReadJSONL(strings.NewReader(in), func(Event) error { n++; return nil })
	if err == nil || !strings.Contains(err.Error(), "line 3") || n != 1 {
		t.Fatalf("got %v after %d events", err, n)
	}
}

// TestEventJSON: an event marshalled on its own (as an API would) reads back the
// same, and a purged body stays nil rather than becoming "null".
func TestEventJSON(t *testing.T) {
	f := newFixture(t)
	for _, e := range []Event{f.t1Day1[1], f.t1Day1[1].WithoutBody()} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !back.Time.Equal(e.Time) || !bytes.Equal(back.Body, e.Body) || back.Purged() != e.Purged() || back.Hash != e.Hash {
			t.Fatalf("%s\n%+v\n%+v", b, e, back)
		}
	}
}
