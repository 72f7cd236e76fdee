package archive

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"
)

// TestCanonicalJSON: the forms a database may give back of one body all have one
// canonical form.
func TestCanonicalJSON(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"b":1,"a":[true,false,null]}`, `{"a":[true,false,null],"b":1}`},
		{" {\n \"a\" : \"x\" } ", `{"a":"x"}`},
		{`{"n":[1.0,1e2,-0,0.10,1e21,12345678901234567890,1.5e-7,-0.0]}`, `{"n":[1,100,0,0.1,1e+21,12345678901234567890,1.5e-07,0]}`},
		{`{"s":"\u4f60\u597d <&> \/ \u2028 \u0001 \t"}`, "{\"s\":\"你好 <&> / \u2028 \\u0001 \\t\"}"},
		{`{"z":{"y":{},"x":[]}}`, `{"z":{"x":[],"y":{}}}`},
	}
	for _, c := range cases {
		got, err := CanonicalJSON([]byte(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("CanonicalJSON(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`{"a":1,"a":1}`, `{"a":1} x`, `{`, `{"a":1e999}`, ``} {
		if _, err := CanonicalJSON([]byte(bad)); err == nil {
			t.Errorf("CanonicalJSON(%q) accepted", bad)
		}
	}
}

// TestCanonicalBytesVector pins the documented encoding, so a change to it
// cannot pass unnoticed (it would break every stored chain).
func TestCanonicalBytesVector(t *testing.T) {
	e := Event{Company: "c", Thread: "T1", Seq: 2, Time: time.UnixMicro(1_700_000_000_123456).UTC(), Kind: KindLeave, BodyHash: Sum([]byte("{}"))}
	want := "multiline.archive.v1\n" +
		"\x00\x00\x00\x01c" + "\x00\x00\x00\x02T1" +
		"\x00\x00\x00\x00\x00\x00\x00\x02" +
		"\x00\x06\x0a\x24\x18\x20\x22\x40" +
		"\x00\x00\x00\x05leave"
	got := CanonicalBytes(e)
	if !bytes.Equal(got[:len(got)-32], []byte(want)) || !bytes.Equal(got[len(got)-32:], e.BodyHash[:]) {
		t.Fatalf("canonical bytes\n%s", hex.Dump(got))
	}
	if ChainHash(Hash{}, e) != Sum(append(make([]byte, 32), got...)) {
		t.Fatal("ChainHash is not sha256(prev ‖ canonical)")
	}
}

// FuzzCanonicalJSON: canonicalising is idempotent and never panics.
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"b":[1.5,"x",{"c":null}]}`, `{"n":-0.0e5}`, `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := CanonicalJSON(in)
		if err != nil {
			return
		}
		again, err := CanonicalJSON(c)
		if err != nil || !bytes.Equal(c, again) {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", in, c, again, err)
		}
	})
}
