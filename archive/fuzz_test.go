package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// readAll reads a JSON Lines export into events.
func readAll(data []byte) ([]Event, error) {
	var out []Event
	err := ReadJSONL(bytes.NewReader(data), func(e Event) error { out = append(out, e); return nil })
	return out, err
}

// exportSeed is a small genuine export: a thread with messages in both
// directions, a purged body, and the company chain.
func exportSeed(t testing.TB) []byte {
	m := NewMemory()
	at := time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.UTC)
	for _, d := range []Draft{
		{Company: "acme", Thread: "t1", Time: at, Kind: KindMessageIn, Body: MessageBody{MessageID: "t1-1", Author: Party{Role: RoleConsumer, ID: "wm1", Name: "李伟"}, Text: "你好 <b>&"}},
		{Company: "acme", Thread: "t1", Time: at.Add(time.Minute), Kind: KindMessageOut, Body: MessageBody{MessageID: "t1-2", Author: Party{Role: RoleEmployee, ID: "ann"}, Text: "Hello"}},
		{Company: "acme", Thread: CompanyThread, Time: at.Add(time.Hour), Kind: KindPurge, Body: PurgeBody{Before: at, Events: 1}},
	} {
		if _, err := m.Append(d); err != nil {
			t.Fatal(err)
		}
	}
	all := m.All()
	all[0] = all[0].WithoutBody()
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, all); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzReadJSONL: any file given to be read back as a JSON Lines export (to
// verify it on its own) is read or refused without a panic; what is read
// writes back to an export that reads back to the same events (times to the
// microsecond, bodies compacted, as stored), from the second round on byte
// for byte; and Verify gives the same verdict on the events and on their
// round trip.
func FuzzReadJSONL(f *testing.F) {
	seed := exportSeed(f)
	f.Add(seed)
	f.Add(append(bytes.Clone(seed), "\n\n"...))
	f.Add(bytes.Replace(seed, []byte("Hello"), []byte("Hellx"), 1))
	f.Add([]byte(`{"company":"acme","thread":"t1","seq":1,"time":"2026-03-02T09:00:00.123456789+08:00","kind":"message.in","body":{ "b" : 1 },"body_sha256":"","prev":"","hash":""}`))
	f.Add([]byte(`{"company":"acme","extra":1}`))
	f.Add([]byte("{}\n[]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		first, err := readAll(data)
		if err != nil {
			return
		}
		write := func(es []Event) []byte {
			var buf bytes.Buffer
			if err := WriteJSONL(&buf, es); err != nil {
				t.Fatalf("writing what was read: %v", err)
			}
			return buf.Bytes()
		}
		out := write(first)
		second, err := readAll(out)
		if err != nil || len(second) != len(first) {
			t.Fatalf("export of what was read does not read back (%d of %d events): %v\n%s", len(second), len(first), err, out)
		}
		for i, a := range first {
			b := second[i]
			var compact bytes.Buffer
			if a.Body != nil {
				if err := json.Compact(&compact, a.Body); err != nil {
					t.Fatalf("event %d: body read is not JSON: %v", i, err)
				}
			}
			if a.Company != b.Company || a.Thread != b.Thread || a.Seq != b.Seq || a.Kind != b.Kind || a.BodyHash != b.BodyHash ||
				a.Prev != b.Prev || a.Hash != b.Hash || !a.Time.Truncate(time.Microsecond).Equal(b.Time) ||
				(a.Body == nil) != (b.Body == nil) || !bytes.Equal(compact.Bytes(), b.Body) {
				t.Fatalf("event %d changed in the round trip:\n%+v\n%+v", i, a, b)
			}
		}
		if again := write(second); !bytes.Equal(again, out) {
			t.Fatalf("second round trip differs:\n%s\n%s", out, again)
		}
		ctx := context.Background()
		r1, err1 := Verify(ctx, NewMemory(first...))
		r2, err2 := Verify(ctx, NewMemory(second...))
		if err1 != nil || err2 != nil {
			t.Fatalf("verify failed to read memory: %v %v", err1, err2)
		}
		if !reflect.DeepEqual(r1.OK(), r2.OK()) || len(r1.Problems) != len(r2.Problems) {
			t.Fatalf("verdict changed in the round trip: %v / %v", r1.Err(), r2.Err())
		}
	})
}
