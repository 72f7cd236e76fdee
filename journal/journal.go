package journal

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/multiline/multiline/archive"
	"github.com/multiline/multiline/bridge"
)

// Store is what journaling reads: the archive's events and media.
type Store interface {
	archive.Source
	archive.MediaSource
}

// Journal renders a conversation-day as EML (archive.WriteEML) and mails it to
// the journaling mailbox. It implements bridge.Journaler.
type Journal struct {
	store  Store
	mailer *Mailer
	opts   archive.ExportOptions // Channel, Corp, MessageIDDomain
}

var _ bridge.Journaler = (*Journal)(nil)

// New journals the archive in store through mailer; o gives the EML headers'
// channel and corp (its days are ignored).
func New(store Store, mailer *Mailer, o archive.ExportOptions) *Journal {
	return &Journal{store: store, mailer: mailer, opts: o}
}

// Threads lists the company's threads that have events on the UTC day.
func (j *Journal) Threads(ctx context.Context, company string, day time.Time) ([]string, error) {
	var out []string
	day = archive.DayOf(day)
	err := j.store.ArchiveEvents(ctx, company, day, day.AddDate(0, 0, 1), func(e archive.Event) error {
		if e.Thread != archive.CompanyThread && (len(out) == 0 || out[len(out)-1] != e.Thread) {
			out = append(out, e.Thread)
		}
		return nil
	})
	return out, err
}

// Render is the EML of one thread's day, as Send mails it.
func (j *Journal) Render(ctx context.Context, company, thread string, day time.Time) ([]byte, error) {
	day = archive.DayOf(day)
	var events []archive.Event
	if err := j.store.ArchiveEvents(ctx, company, day, day.AddDate(0, 0, 1), func(e archive.Event) error {
		if e.Thread == thread {
			events = append(events, e)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, nil
	}
	c, err := archive.DayConversation(ctx, j.store, company, thread, day, events)
	if err != nil {
		return nil, err
	}
	c.Channel, c.Corp, c.MessageIDDomain = j.opts.Channel, j.opts.Corp, j.opts.MessageIDDomain
	var b bytes.Buffer
	if err := archive.WriteEML(ctx, &b, c, day, events, j.store); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Send renders one thread's day and mails it. A day without events sends
// nothing. Sending a day again sends the same Message-ID (the archive keeps one).
func (j *Journal) Send(ctx context.Context, company, thread string, day time.Time) error {
	eml, err := j.Render(ctx, company, thread, day)
	if err != nil || eml == nil {
		return err
	}
	if err := j.mailer.Send(ctx, eml); err != nil {
		return fmt.Errorf("journal %s/%s %s: %w", company, thread, archive.DayOf(day).Format(archive.DayLayout), err)
	}
	return nil
}

// SendDay sends every conversation of the company's day now, one after the
// other, and returns the Message-IDs sent (for `multiline archive journal`,
// a re-send or a first load). It stops at the first failure.
func (j *Journal) SendDay(ctx context.Context, company string, day time.Time) ([]string, error) {
	threads, err := j.Threads(ctx, company, day)
	if err != nil {
		return nil, err
	}
	var sent []string
	for _, t := range threads {
		if err := j.Send(ctx, company, t, day); err != nil {
			return sent, err
		}
		sent = append(sent, archive.DayMessageID(company, t, day, j.opts.MessageIDDomain))
	}
	return sent, nil
}

// Target implements bridge.Journaler: the SMTP server and the mailbox.
func (j *Journal) Target() (server, mailbox string) { return j.mailer.Server(), j.mailer.To() }

// Redact implements bridge.Journaler.
func (j *Journal) Redact(msg string) string { return j.mailer.Redact(msg) }

// Sender is the envelope sender journaling uses for a deployment reached at
// publicURL's host (no mail is ever sent back to it).
func Sender(publicHost string) string {
	if publicHost == "" {
		publicHost = "multiline.invalid"
	}
	return "multiline-journal@" + publicHost
}
