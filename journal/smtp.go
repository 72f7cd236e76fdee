// Package journal sends the compliance archive to the company's archive by SMTP
// journaling, the way archives (Smarsh, Global Relay, Purview partners) ingest
// it: one EML per conversation per UTC day, to one journaling mailbox, with a
// Message-ID that depends on the thread and the day only, so the archive
// dedupes a day sent twice. It is the SMTP side's adapter: the bridge runs the
// durable jobs and calls it through bridge.Journaler.
package journal

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/multiline/multiline/bridge"
)

// ErrBadURL is wrapped by ParseURL's errors.
var ErrBadURL = errors.New("MULTILINE_ARCHIVE_SMTP_URL must be smtp://[user:pass@]host:port or smtps://…")

// dialTimeout bounds connecting and each SMTP exchange, so a silent server
// makes the job retry instead of hanging a worker.
const dialTimeout = 30 * time.Second

// Mailer delivers messages to the journaling mailbox through one SMTP server:
// smtp:// uses STARTTLS when the server offers it, smtps:// implicit TLS; AUTH
// PLAIN when the URL has a user.
type Mailer struct {
	addr, host string
	implicit   bool
	user, pass string
	from, to   string
	// TLS is the TLS configuration (tests set RootCAs); nil means the system's.
	TLS *tls.Config
}

// NewMailer reads MULTILINE_ARCHIVE_SMTP_URL and MULTILINE_ARCHIVE_JOURNAL_TO.
// from is the envelope sender.
func NewMailer(rawURL, to, from string) (*Mailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	m := &Mailer{from: from, to: to}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		m.implicit = true
	default:
		return nil, fmt.Errorf("%w: scheme %q", ErrBadURL, u.Scheme)
	}
	if u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("%w: host and port are needed", ErrBadURL)
	}
	if to == "" || !strings.Contains(to, "@") {
		return nil, errors.New("MULTILINE_ARCHIVE_JOURNAL_TO must be the journaling mailbox's address")
	}
	m.addr, m.host = u.Host, u.Hostname()
	if u.User != nil {
		m.user = u.User.Username()
		m.pass, _ = u.User.Password()
	}
	return m, nil
}

// To is the journaling mailbox.
func (m *Mailer) To() string { return m.to }

// Server is the SMTP server's host:port (the URL without its credentials).
func (m *Mailer) Server() string { return m.addr }

// Redact removes the mailer's credentials from a failure's text: the URL's
// user information and the password wherever it appears (a server may echo
// what it was sent).
func (m *Mailer) Redact(msg string) string {
	if m.user != "" {
		msg = strings.ReplaceAll(msg, url.UserPassword(m.user, m.pass).String()+"@", "[REDACTED]@")
		msg = strings.ReplaceAll(msg, m.user+":"+m.pass+"@", "[REDACTED]@")
	}
	if m.pass != "" {
		msg = strings.ReplaceAll(msg, m.pass, "[REDACTED]")
	}
	return msg
}

// Send delivers one message. A refusal the server says is final (5xx) wraps
// bridge.ErrPermanent; anything else is worth retrying.
func (m *Mailer) Send(ctx context.Context, eml []byte) error {
	err := m.send(ctx, eml)
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 {
		return bridge.Permanent(fmt.Errorf("journal: %s refused the message: %w", m.addr, err))
	}
	if err != nil {
		return fmt.Errorf("journal: send to %s: %w", m.addr, err)
	}
	return nil
}

func (m *Mailer) send(ctx context.Context, eml []byte) error {
	c, err := m.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if m.user != "" {
		if err := c.Auth(sasl.NewPlainClient("", m.user, m.pass)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(m.to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(eml); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// dial connects and says hello: with implicit TLS for smtps://; for smtp://,
// with STARTTLS when the server offers it (go-smtp upgrades only a fresh
// connection, so a server that offers it is dialled a second time).
func (m *Mailer) dial(ctx context.Context) (*smtp.Client, error) {
	conn, err := m.conn(ctx)
	if err != nil {
		return nil, err
	}
	cfg := m.tlsConfig()
	if m.implicit {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		c := smtp.NewClient(tc)
		return c, c.Hello("multiline")
	}
	c := smtp.NewClient(conn)
	if err := c.Hello("multiline"); err != nil {
		c.Close()
		return nil, err
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return c, nil
	}
	c.Close()
	if conn, err = m.conn(ctx); err != nil {
		return nil, err
	}
	c, err = smtp.NewClientStartTLS(conn, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// conn is a TCP connection with a deadline for the whole exchange.
func (m *Mailer) conn(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(dialTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	return conn, nil
}

func (m *Mailer) tlsConfig() *tls.Config {
	if m.TLS != nil {
		c := m.TLS.Clone()
		if c.ServerName == "" {
			c.ServerName = m.host
		}
		return c
	}
	return &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
}
