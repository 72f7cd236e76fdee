// Package archive is the compliance record of MultiLine: the events a regulated
// firm must keep about every WeChat conversation, in a form that shows tampering,
// and the formats archives ingest (EML, JSON Lines).
//
// It is the domain of the record only. It knows nothing of storage: storage keeps
// [Event] values as they are and hands them back through the small [Reader]
// interface, so that [Verify] works the same on SQLite, PostgreSQL or an export.
//
// # Chains
//
// Every thread has its own chain of events, numbered 1, 2, 3, … (Seq). Each company
// also has one company chain (thread [CompanyThread]) that holds what concerns the
// company rather than one thread: the daily [KindAnchor], admin changes, purges and
// holds on a consumer or an employee. A thread's writes are already serialised by
// the bridge, so per-thread chains add no global lock.
//
// # Canonical bytes (version 1)
//
// An event's canonical bytes are, in this order, with no separators other than
// the length prefixes:
//
//	"multiline.archive.v1\n"      21 bytes, the format's name and version
//	str(Company)                  str(s) = 4-byte big-endian length, then s in UTF-8
//	str(Thread)
//	int64(Seq)                    8 bytes, big-endian, two's complement
//	int64(Time)                   Unix time in microseconds (UTC), 8 bytes big-endian
//	str(Kind)
//	BodyHash                      32 bytes: SHA-256 of the canonical body
//
// and the event's hash is
//
//	Hash = SHA-256(Prev ‖ canonical bytes)
//
// where Prev is the Hash of the event before it in the same chain, or 32 zero
// bytes for Seq 1. Times are kept to the microsecond because PostgreSQL keeps no
// more: [Seal] truncates them, so what is stored is exactly what was hashed.
//
// The body is a JSON object. Its canonical form (see [CanonicalJSON]) has no
// insignificant white space; object members sorted by the bytes of their UTF-8
// names; duplicate names refused; strings with only `"` `\` and control characters
// escaped (\b \f \n \r \t, else \u00xx in lower-case hex) and invalid UTF-8
// replaced by U+FFFD; integers written in plain decimal without leading zeros or
// "-0"; other numbers as the shortest decimal that reads back as the same float64
// (integral values below 1e21 without exponent). So a body that went through
// PostgreSQL's jsonb (which reorders keys) still hashes the same.
//
// # Purge
//
// The chain covers the body's hash, not the body. Retention drops [Event.Body]
// and keeps [Event.BodyHash], so every hash still recomputes and the chain still
// verifies; the purge itself is a [KindPurge] event on the company chain, and
// Verify reports a body that is missing without a purge that covers it.
//
// # Anchors
//
// Once a day the company chain gets a [KindAnchor] event recording every thread's
// head (Seq and Hash). Removing a whole thread, or the latest events of one, leaves
// no gap in any chain; the anchors catch it.
package archive
