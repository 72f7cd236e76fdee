package archive

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/textproto"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message"
)

// MaxAttachmentBytes bounds one attachment, so a broken media store cannot make
// an export read without end. WeChat's own limit for files is 20 MB.
const MaxAttachmentBytes = 64 << 20

// MediaSource gives the bytes of a media item for an EML attachment. It returns
// an error wrapping ErrMediaGone when they are no longer stored (retention).
type MediaSource interface {
	OpenMedia(ctx context.Context, m MediaBody) (io.ReadCloser, error)
}

// dateLayout is RFC 5322's date-time.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// attachment is a media item ready to write.
type attachment struct {
	seq         int64
	name        string
	contentType string
	sum         Hash
	data        []byte
}

// WriteEML writes the RFC 5322 message of one thread for one UTC day to w: From
// and To the participants, a Subject naming the consumer and the day, a
// Message-ID from DayMessageID, a text/plain and a text/html transcript, media as
// attachments and X-MultiLine-* headers. events are the thread's events of that
// day (any order); media may be nil, and then no media is attached.
//
// The output depends on its inputs only: rendering the same day twice gives the
// same bytes, boundaries included, so a re-sent day is the same message.
func WriteEML(ctx context.Context, w io.Writer, c Conversation, day time.Time, events []Event, media MediaSource) error {
	day = DayOf(day)
	evs, err := dayEvents(c, day, events)
	if err != nil {
		return err
	}
	atts, err := loadAttachments(ctx, evs, media)
	if err != nil {
		return err
	}
	attached := map[int64]string{}
	for _, a := range atts {
		attached[a.seq] = a.name
	}

	first, last := evs[0], evs[len(evs)-1]
	book := addressBook(c.Addresses)
	from, to := participants(c, book, evs)
	consumer := c.Consumer.Name
	if consumer == "" {
		consumer = ConsumerAddress(c.Consumer.ID)
	}
	dayText := day.Format(DayLayout)
	subject := fmt.Sprintf("WeChat conversation with %s on %s", consumer, dayText)
	meta := []string{
		fmt.Sprintf("Thread %s of company %s, channel %s", c.Thread, c.Company, c.Channel),
		fmt.Sprintf("Consumer: %s", book.partyName(consumerParty(c))),
		fmt.Sprintf("Events %d to %d; chain hash %s", first.Seq, last.Seq, last.Hash),
		"Times are UTC. Lines marked automatic were sent by MultiLine itself.",
	}
	entries := make([]entry, 0, len(evs))
	for _, e := range evs {
		entries = append(entries, entryFor(e, attached, book))
	}
	plain := plainTranscript(subject, meta, entries)
	html, err := htmlTranscript(subject, meta, entries)
	if err != nil {
		return err
	}

	msgID := DayMessageID(c.Company, c.Thread, day, c.MessageIDDomain)
	boundary := boundaries(msgID, last.Hash)
	top := "multipart/alternative"
	topBoundary := boundary("alt")
	if len(atts) > 0 {
		top, topBoundary = "multipart/mixed", boundary("mixed")
	}

	ids := []string{
		"X-MultiLine-Thread", c.Thread,
		"X-MultiLine-Company", c.Company,
		"X-MultiLine-Channel", string(c.Channel),
		"X-MultiLine-WeChat-User", c.Consumer.ID,
		"X-MultiLine-WeChat-Account", c.Account,
		"X-MultiLine-WeChat-Corp", c.Corp,
		"X-MultiLine-Day", dayText,
		"X-MultiLine-First-Seq", strconv.FormatInt(first.Seq, 10),
		"X-MultiLine-Last-Seq", strconv.FormatInt(last.Seq, 10),
		"X-MultiLine-Chain-Hash", last.Hash.String(),
	}
	fields := []string{
		"Date", last.Time.UTC().Format(dateLayout),
		"From", from.String(),
		"To", joinAddresses(to),
		"Subject", mime.QEncoding.Encode("utf-8", subject),
		"Message-ID", "<" + msgID + ">",
		"MIME-Version", "1.0",
		"Content-Type", mime.FormatMediaType(top, map[string]string{"boundary": topBoundary}),
	}
	if len(to) == 0 {
		fields = slices.Delete(fields, 4, 6) // nobody else: no To
	}
	for i := 0; i < len(ids); i += 2 {
		if ids[i+1] != "" {
			fields = append(fields, ids[i], mime.QEncoding.Encode("utf-8", ids[i+1]))
		}
	}
	var h message.Header
	// go-message writes fields last-added first, so add them in reverse to get
	// the order above.
	for i := len(fields) - 2; i >= 0; i -= 2 {
		addField(&h, fields[i], fields[i+1])
	}

	var out bytes.Buffer
	mw, err := message.CreateWriter(&out, h)
	if err != nil {
		return fmt.Errorf("archive: eml: %w", err)
	}
	alt := mw
	if len(atts) > 0 {
		var ah message.Header
		ah.Set("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": boundary("alt")}))
		if alt, err = mw.CreatePart(ah); err != nil {
			return fmt.Errorf("archive: eml: %w", err)
		}
	}
	for _, p := range []struct{ ct, body string }{{"text/plain", plain}, {"text/html", html}} {
		var ph message.Header
		ph.Set("Content-Type", mime.FormatMediaType(p.ct, map[string]string{"charset": "utf-8"}))
		ph.Set("Content-Transfer-Encoding", "quoted-printable")
		if err := writePart(alt, ph, []byte(p.body)); err != nil {
			return err
		}
	}
	if len(atts) > 0 {
		if err := alt.Close(); err != nil {
			return fmt.Errorf("archive: eml: %w", err)
		}
	}
	for _, a := range atts {
		var ph message.Header
		addField(&ph, "X-MultiLine-SHA256", a.sum.String())
		ph.Set("Content-Transfer-Encoding", "base64")
		ph.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.name}))
		ph.Set("Content-Type", mime.FormatMediaType(a.contentType, map[string]string{"name": a.name}))
		if err := writePart(mw, ph, a.data); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("archive: eml: %w", err)
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("archive: eml: %w", err)
	}
	return nil
}

// addField adds a header field. Names whose conventional spelling Go's canonical
// form would change (Message-ID, X-MultiLine-…) are added raw: their values are
// one short line of ASCII, so they need no folding.
func addField(h *message.Header, k, v string) {
	if k != textproto.CanonicalMIMEHeaderKey(k) && !strings.ContainsAny(v, "\r\n") {
		h.AddRaw([]byte(k + ": " + v + "\r\n"))
		return
	}
	h.Add(k, v)
}

func writePart(parent *message.Writer, h message.Header, body []byte) error {
	pw, err := parent.CreatePart(h)
	if err != nil {
		return fmt.Errorf("archive: eml: part: %w", err)
	}
	if _, err := pw.Write(body); err != nil {
		return fmt.Errorf("archive: eml: part: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("archive: eml: part: %w", err)
	}
	return nil
}

// boundaries derives the multipart boundaries from the Message-ID and the day's
// chain hash, so the same day renders to the same bytes. They start with "=_",
// which neither quoted-printable nor base64 can produce, so no content can
// contain a boundary line.
func boundaries(msgID string, chain Hash) func(part string) string {
	return func(part string) string {
		s := sha256.Sum256([]byte(msgID + "\x00" + chain.String() + "\x00" + part))
		return "=_ml-" + part + "-" + hex.EncodeToString(s[:16])
	}
}

// dayEvents checks that every event is of the thread and the day, and sorts them.
func dayEvents(c Conversation, day time.Time, events []Event) ([]Event, error) {
	if c.Company == "" || c.Thread == "" {
		return nil, errors.New("archive: eml: the conversation needs a company and a thread")
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("archive: eml: thread %s has no events on %s", c.Thread, day.Format(DayLayout))
	}
	evs := slices.Clone(events)
	slices.SortFunc(evs, func(a, b Event) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, e := range evs {
		if e.Company != c.Company || e.Thread != c.Thread {
			return nil, fmt.Errorf("archive: eml: event %s #%d is not of thread %s/%s", e.Chain(), e.Seq, c.Company, c.Thread)
		}
		if !DayOf(e.Time).Equal(day) {
			return nil, fmt.Errorf("archive: eml: event %d of thread %s is of %s, not %s",
				e.Seq, c.Thread, DayOf(e.Time).Format(DayLayout), day.Format(DayLayout))
		}
	}
	return evs, nil
}

// loadAttachments reads and checks each media item of the day.
func loadAttachments(ctx context.Context, evs []Event, src MediaSource) ([]attachment, error) {
	if src == nil {
		return nil, nil
	}
	var out []attachment
	names := map[string]bool{}
	for _, e := range evs {
		if e.Kind != KindMedia || e.Purged() {
			continue
		}
		var m MediaBody
		if err := e.Decode(&m); err != nil {
			return nil, err
		}
		data, err := readMedia(ctx, src, m)
		if errors.Is(err, ErrMediaGone) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("archive: eml: media of event %d: %w", e.Seq, err)
		}
		if Sum(data) != m.SHA256 {
			return nil, fmt.Errorf("archive: eml: media of event %d (%s): %w", e.Seq, m.Ref, ErrMediaMismatch)
		}
		name := attachmentName(m, e.Seq)
		if names[name] {
			name = fmt.Sprintf("%d-%s", e.Seq, name)
		}
		names[name] = true
		ct := m.ContentType
		if _, _, err := mime.ParseMediaType(ct); ct == "" || err != nil {
			ct = "application/octet-stream"
		}
		out = append(out, attachment{seq: e.Seq, name: name, contentType: ct, sum: m.SHA256, data: data})
	}
	return out, nil
}

func readMedia(ctx context.Context, src MediaSource, m MediaBody) ([]byte, error) {
	rc, err := src.OpenMedia(ctx, m)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxAttachmentBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxAttachmentBytes {
		return nil, fmt.Errorf("larger than %d bytes", MaxAttachmentBytes)
	}
	return data, nil
}

// attachmentName is the media's own file name without any path, or one made
// from the message id and the media kind.
func attachmentName(m MediaBody, seq int64) string {
	name := path.Base(strings.ReplaceAll(m.FileName, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return '_'
		}
		return r
	}, name)
	if name == "" || name == "." || name == "/" {
		ext := ""
		if exts, _ := mime.ExtensionsByType(m.ContentType); len(exts) > 0 {
			slices.Sort(exts)
			ext = exts[0]
		}
		id := m.MessageID
		if id == "" {
			id = strconv.FormatInt(seq, 10)
		}
		name = fmt.Sprintf("%s-%s%s", localPart(id), orDash(m.MediaKind), ext)
	}
	return name
}

func consumerParty(c Conversation) Party {
	p := c.Consumer
	p.Role = RoleConsumer
	return p
}

// participants: From is the author of the day's first message (the consumer if
// nobody wrote), To everyone else who took part or was in the thread.
func participants(c Conversation, book addressBook, evs []Event) (*mailAddress, []*mailAddress) {
	var all []Party
	seen := map[string]bool{}
	add := func(p Party) {
		a := book.address(p).Address
		if !seen[strings.ToLower(a)] {
			seen[strings.ToLower(a)] = true
			all = append(all, p)
		}
	}
	var author *Party
	for _, e := range evs {
		if e.Kind != KindMessageIn && e.Kind != KindMessageOut {
			continue
		}
		var b MessageBody
		if e.Decode(&b) == nil {
			if b.Author.Role == "" && e.Kind == KindMessageIn {
				b.Author.Role = RoleConsumer
			}
			author = &b.Author
			break
		}
	}
	if author != nil {
		add(*author)
	}
	add(consumerParty(c))
	for _, p := range c.Employees {
		if p.Role == "" {
			p.Role = RoleEmployee
		}
		add(p)
	}
	for _, e := range evs {
		switch e.Kind {
		case KindMessageOut:
			var b MessageBody
			if e.Decode(&b) == nil {
				add(b.Author)
			}
		case KindParticipantAdded, KindParticipantRemoved, KindParticipantLeft:
			var b ParticipantBody
			if e.Decode(&b) == nil {
				add(b.Employee)
			}
		}
	}
	out := make([]*mailAddress, len(all))
	for i, p := range all {
		out[i] = book.address(p)
	}
	return out[0], out[1:]
}

func joinAddresses(as []*mailAddress) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}
