// Package emltest reads the RFC 5322 messages that tests export, so that each
// test checks what a mail reader (net/mail) finds in them, not their bytes.
package emltest

import (
	"bytes"
	"net/mail"
	"testing"
)

// Addresses returns the addresses of a message's header fields, in order
// (say From, then To), as net/mail parses them; a field that does not parse
// fails the test, and one that is missing adds nothing.
func Addresses(tb testing.TB, eml []byte, fields ...string) []*mail.Address {
	tb.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(eml))
	if err != nil {
		tb.Fatalf("not a message: %v", err)
	}
	var out []*mail.Address
	for _, f := range fields {
		if m.Header.Get(f) == "" {
			continue
		}
		list, err := m.Header.AddressList(f)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out = append(out, list...)
	}
	return out
}

// Emails are the bare addresses of Addresses.
func Emails(tb testing.TB, eml []byte, fields ...string) []string {
	tb.Helper()
	var out []string
	for _, a := range Addresses(tb, eml, fields...) {
		out = append(out, a.Address)
	}
	return out
}
