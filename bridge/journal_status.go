package bridge

import (
	"context"
	"regexp"
	"time"
)

// How journaling fares, for the admin page: the store's account (what the
// mailbox accepted, the delivery jobs still alive or dead) and where this
// server sends to. A failure's text is shown only with credentials removed.

// JournalState is the store's account of a company's journaling.
type JournalState struct {
	// LastDelivered is when the mailbox last accepted a conversation-day
	// (zero: never).
	LastDelivered time.Time
	// Pending counts the conversation-days whose delivery job is alive:
	// waiting, running, or waiting to retry; OldestPending is when the oldest
	// of those jobs was enqueued (zero: none).
	Pending       int
	OldestPending time.Time
	// Failing counts the live journaling jobs that failed at least once and
	// will be tried again; Dead those that failed for good (`multiline admin
	// jobs --dead`).
	Failing, Dead int
	// LastError is the latest failure of a live journaling job, else of the
	// newest dead one, as the job runner stored it ("" when none failed).
	LastError string
}

// JournalStatus is JournalState as an admin reads it, with where this server
// journals to.
type JournalStatus struct {
	JournalState
	// Enabled says this server journals (MULTILINE_ARCHIVE_SMTP_URL is set);
	// Server (host:port) and Mailbox say where to.
	Enabled         bool
	Server, Mailbox string
}

// userinfo matches a URL's user information, password or not.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@`)

// JournalStatus reports how journaling fares for the company. LastError has
// no credential: a URL's user information is removed, and the attached
// journal removes its own secrets (Journaler.Redact).
func (s *Service) JournalStatus(ctx context.Context) (JournalStatus, error) {
	if s.retention == nil {
		return JournalStatus{}, ErrNoRetention
	}
	st, err := s.retention.JournalState(ctx, s.company)
	if err != nil {
		return JournalStatus{}, err
	}
	out := JournalStatus{JournalState: st}
	if s.journal != nil {
		out.Enabled = true
		out.Server, out.Mailbox = s.journal.Target()
		out.LastError = s.journal.Redact(out.LastError)
	}
	out.LastError = userinfo.ReplaceAllString(out.LastError, "${1}[REDACTED]@")
	return out, nil
}
