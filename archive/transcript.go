package archive

import (
	"fmt"
	"strings"
	"time"
)

// entry is one line of a transcript, shared by the plain and HTML renderings so
// both say the same thing.
type entry struct {
	Time time.Time
	Seq  int64
	// Who is the author, or the label of a non-message event.
	Who string
	// Automatic marks what the product sent by itself.
	Automatic bool
	// Label says what kind of line it is ("Message", "Automatic notice to the consumer", …).
	Label string
	Text  string
	// Notes are follow-up lines (what the other side saw, lexicon actions, …).
	Notes []string
	// Class is a CSS class for the HTML rendering.
	Class string
}

// partyName is how a transcript names a party: "Name <address>" or the address.
func (b addressBook) partyName(p Party) string {
	a := b.address(p)
	role := string(p.Role)
	if p.Role == "" {
		role = "unknown"
	}
	if a.Name == "" {
		return fmt.Sprintf("%s (%s)", a.Address, role)
	}
	return fmt.Sprintf("%s <%s> (%s)", a.Name, a.Address, role)
}

// entryFor turns one event into a transcript line.
func entryFor(e Event, attached map[int64]string, book addressBook) entry {
	en := entry{Time: e.Time.UTC(), Seq: e.Seq, Class: strings.ReplaceAll(string(e.Kind), ".", "-")}
	if e.Purged() {
		en.Who, en.Label = "Archive", "Purged"
		en.Text = fmt.Sprintf("the body of this %s event was removed by retention; its hash remains in the chain", e.Kind)
		en.Class = "purged"
		return en
	}
	switch e.Kind {
	case KindMessageIn, KindMessageOut:
		var b MessageBody
		if err := e.Decode(&b); err != nil {
			return undecodable(en, e, err)
		}
		en.Who, en.Label, en.Text = book.partyName(b.Author), "Message "+b.MessageID, b.Text
		if b.MediaKind != "" {
			m := "[" + b.MediaKind
			if b.FileName != "" {
				m += ": " + b.FileName
			}
			m += "]"
			if en.Text == "" {
				en.Text = m
			} else {
				en.Notes = append(en.Notes, "carries "+m)
			}
		}
		if b.Shown != nil {
			en.Notes = append(en.Notes, fmt.Sprintf("the %s saw: %s", otherSide(e.Kind), *b.Shown))
		}
	case KindNoticeConsumer, KindNoticeEmployees:
		var b NoticeBody
		if err := e.Decode(&b); err != nil {
			return undecodable(en, e, err)
		}
		en.Who, en.Automatic, en.Text = "MultiLine", true, b.Text
		en.Label = "Automatic notice to the consumer"
		if e.Kind == KindNoticeEmployees {
			en.Label = "Automatic notice to employees"
			var to []string
			for _, p := range b.To {
				to = append(to, book.address(p).Address)
			}
			if len(to) > 0 {
				en.Notes = append(en.Notes, "sent to "+strings.Join(to, ", "))
			}
		}
		if b.Template != "" {
			en.Notes = append(en.Notes, fmt.Sprintf("notice %q, language %s", b.Template, orDash(b.Language)))
		}
	case KindMedia:
		var b MediaBody
		if err := e.Decode(&b); err != nil {
			return undecodable(en, e, err)
		}
		en.Who, en.Label = "Media", "Media of message "+b.MessageID
		en.Text = fmt.Sprintf("%s %s (%s, %d bytes, sha256 %s)", b.MediaKind, orDash(b.FileName), orDash(b.ContentType), b.Size, b.SHA256)
		if name, ok := attached[e.Seq]; ok {
			en.Notes = append(en.Notes, "attached as "+name)
		} else {
			en.Notes = append(en.Notes, "not attached: the media is no longer stored")
		}
	case KindParticipantAdded, KindParticipantRemoved, KindParticipantLeft:
		var b ParticipantBody
		if err := e.Decode(&b); err != nil {
			return undecodable(en, e, err)
		}
		en.Who, en.Label = "Participants", "Participant"
		verb := map[Kind]string{KindParticipantAdded: "joined the thread", KindParticipantRemoved: "was removed from the thread", KindParticipantLeft: "left the thread"}[e.Kind]
		en.Text = book.partyName(b.Employee) + " " + verb
		if b.By != nil {
			en.Text += " (by " + book.partyName(*b.By) + ")"
		}
	case KindOptIn:
		var b OptInBody
		if err := e.Decode(&b); err != nil {
			return undecodable(en, e, err)
		}
		en.Who, en.Label = "Opt-in", "Opt-in"
		en.Text = book.partyName(b.Consumer) + " opted in"
		if b.Employee != nil {
			en.Text += " to " + book.partyName(*b.Employee)
		}
	case KindLeave:
		var b LeaveBody
		if err := e.Decode(&b); err != nil {
			return undecodable(en, e, err)
		}
		en.Who, en.Label, en.Text = "#LEAVE", "Consumer left", book.partyName(b.Consumer)+" left with #LEAVE"
	case KindStatus:
		var b StatusBody
		if err := e.Decode(&b); err != nil {
			return undecodable(en, e, err)
		}
		en.Who, en.Label = "Status", "Delivery status"
		en.Text = fmt.Sprintf("message %s: %s", b.MessageID, b.Status)
		if b.Detail != "" {
			en.Text += " (" + b.Detail + ")"
		}
	case KindLexicon:
		var b LexiconBody
		if err := e.Decode(&b); err != nil {
			return undecodable(en, e, err)
		}
		en.Who, en.Automatic, en.Label = "Lexicon policy", true, "Lexicon "+b.Action
		en.Text = fmt.Sprintf("%s on %s message %s (rules: %s)", b.Action, b.Direction, b.MessageID, strings.Join(b.Rules, ", "))
		en.Notes = append(en.Notes, "original: "+b.Original)
		if b.Action == "block" {
			en.Notes = append(en.Notes, "not delivered")
		} else {
			en.Notes = append(en.Notes, "delivered as: "+b.Result)
		}
	case KindHoldSet, KindHoldLifted:
		var b HoldBody
		if err := e.Decode(&b); err != nil {
			return undecodable(en, e, err)
		}
		verb := "set"
		if e.Kind == KindHoldLifted {
			verb = "lifted"
		}
		en.Who, en.Label = "Legal hold", "Legal hold "+verb
		en.Text = fmt.Sprintf("hold %s on %s %s %s by %s", b.HoldID, b.Scope, b.Target, verb, book.partyName(b.By))
		if b.Reason != "" {
			en.Notes = append(en.Notes, "reason: "+b.Reason)
		}
	case KindReview:
		var b ReviewBody
		if err := e.Decode(&b); err != nil {
			return undecodable(en, e, err)
		}
		en.Who, en.Label = "Review", "Reviewed"
		en.Text = fmt.Sprintf("event %d marked reviewed by %s", b.Seq, book.partyName(b.Reviewer))
		if b.Comment != "" {
			en.Notes = append(en.Notes, "comment: "+b.Comment)
		}
	default:
		en.Who, en.Label, en.Text = "Event", string(e.Kind), string(e.Body)
	}
	return en
}

func undecodable(en entry, e Event, err error) entry {
	en.Who, en.Label = "Event", string(e.Kind)
	en.Text = fmt.Sprintf("%s (body could not be read: %v)", e.Body, err)
	return en
}

func otherSide(k Kind) string {
	if k == KindMessageIn {
		return "employees"
	}
	return "consumer"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// plainTranscript is the text/plain part.
func plainTranscript(title string, meta []string, entries []entry) string {
	var b strings.Builder
	b.WriteString(title + "\n")
	for _, m := range meta {
		b.WriteString(m + "\n")
	}
	b.WriteString("\n")
	for _, en := range entries {
		head := fmt.Sprintf("[%s] #%d %s", en.Time.Format("15:04:05"), en.Seq, en.Who)
		if en.Automatic {
			head += " [automatic]"
		}
		fmt.Fprintf(&b, "%s — %s:\n", head, en.Label)
		writeIndented(&b, en.Text, "    ")
		for _, n := range en.Notes {
			writeIndented(&b, "→ "+n, "      ")
		}
	}
	return b.String()
}

func writeIndented(b *strings.Builder, text, indent string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	for _, line := range strings.Split(text, "\n") {
		b.WriteString(indent + line + "\n")
	}
}
