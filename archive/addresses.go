package archive

import (
	"context"
	"net/mail"
	"slices"
)

// Employees are addressed by their Entra UPN. An event records the address a
// party had when it was captured (Party.Address), and it never changes; the
// EML of a day gives each person one address, the one the record knew for
// them on that day: the last their thread's events recorded up to the day's
// end. A person whose events recorded none (captured before the service
// learnt UPNs) gets the UPN the store knows now, and only one it knows of
// nobody gets the employee-<id>@multiline.invalid placeholder. So re-sending
// a day gives the same addresses as long as its record named them, and the
// record, exported as JSON Lines, still shows exactly what was captured.

// AddressSource is what DayConversation asks for the parties whose events
// recorded no address.
type AddressSource interface {
	// ArchiveAddresses returns the user principal names the store knows now
	// for the given party ids (Entra object ids, or the bridge's employee ids
	// for those without one) of the company; ids it knows none for are left out.
	ArchiveAddresses(ctx context.Context, company string, ids []string) (map[string]string, error)
}

// addressBook is Conversation.Addresses while one EML is rendered.
type addressBook map[string]string

// address is p's address in the EML: the book's for a party it lists, else
// Address(p). A consumer's is always their stable WeChat address.
func (b addressBook) address(p Party) *mail.Address {
	if a := b[p.ID]; a != "" && p.Role != RoleConsumer {
		return &mail.Address{Name: p.Name, Address: a}
	}
	return Address(p)
}

// recordedAddresses follows the addresses a chain's events recorded.
type recordedAddresses map[string]string

// note takes the addresses e recorded for its parties; a later event's wins.
func (r recordedAddresses) note(e Event) {
	for _, p := range partiesOf(e) {
		if p.Role != RoleConsumer && p.Address != "" {
			r[p.ID] = p.Address
		}
	}
}

// bookFor is the address book of an EML whose parties are those of events and
// roster: what rec recorded, and for the others what src knows now.
func bookFor(ctx context.Context, src AddressSource, company string, rec recordedAddresses, roster []Party, events []Event) (map[string]string, error) {
	book := map[string]string{}
	var missing []string
	add := func(p Party) {
		if p.Role == RoleConsumer || p.ID == "" {
			return
		}
		if _, done := book[p.ID]; done || slices.Contains(missing, p.ID) {
			return
		}
		if a := rec[p.ID]; a != "" {
			book[p.ID] = a
			return
		}
		missing = append(missing, p.ID)
	}
	for _, p := range roster {
		add(p)
	}
	for _, e := range events {
		for _, p := range partiesOf(e) {
			add(p)
		}
	}
	if len(missing) == 0 || src == nil {
		return book, nil
	}
	known, err := src.ArchiveAddresses(ctx, company, missing)
	if err != nil {
		return nil, err
	}
	for _, id := range missing {
		if a := known[id]; a != "" {
			book[id] = a
		}
	}
	return book, nil
}

// partiesOf lists the people an event names (authors, recipients, who
// joined, who acted), as recorded; nil for a body that cannot be read.
func partiesOf(e Event) []Party {
	if e.Purged() {
		return nil
	}
	switch e.Kind {
	case KindMessageIn, KindMessageOut:
		var b MessageBody
		if e.Decode(&b) == nil {
			return []Party{b.Author}
		}
	case KindNoticeEmployees:
		var b NoticeBody
		if e.Decode(&b) == nil {
			return b.To
		}
	case KindParticipantAdded, KindParticipantRemoved, KindParticipantLeft:
		var b ParticipantBody
		if e.Decode(&b) == nil {
			if b.By != nil {
				return []Party{b.Employee, *b.By}
			}
			return []Party{b.Employee}
		}
	case KindOptIn:
		var b OptInBody
		if e.Decode(&b) == nil && b.Employee != nil {
			return []Party{*b.Employee}
		}
	case KindHoldSet, KindHoldLifted:
		var b HoldBody
		if e.Decode(&b) == nil {
			return []Party{b.By}
		}
	case KindReview:
		var b ReviewBody
		if e.Decode(&b) == nil {
			return []Party{b.Reviewer}
		}
	case KindAdminChange:
		var b AdminBody
		if e.Decode(&b) == nil {
			return []Party{b.Admin}
		}
	}
	return nil
}
