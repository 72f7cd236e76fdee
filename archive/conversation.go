package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"strings"
	"time"
)

// Channel is how the company reaches WeChat; archives are told which, since the
// ids differ (WeCom external_userid and open_kfid, or Official Account openid and
// app id).
type Channel string

// The two channels, as WECHAT_MODE names them.
const (
	ChannelWeComKF         Channel = "wecom-kf"
	ChannelOfficialAccount Channel = "official-account"
)

// ConsumerDomain is the domain of consumers' addresses: .invalid (RFC 2606) can
// never be delivered to, so an archive's reply can never reach anyone.
const ConsumerDomain = "wechat.invalid"

// DefaultMessageIDDomain is the right-hand side of Message-IDs when the
// Conversation gives none. Changing it changes every Message-ID, so a deployment
// keeps whichever it started with.
const DefaultMessageIDDomain = "archive.multiline.invalid"

// Conversation is what the EML of a thread needs beyond its events: the ids and
// names WeChat gives, and who was in the thread when the day began.
type Conversation struct {
	Company string  // the tenant
	Thread  string  // the thread, whose events the EML renders
	Channel Channel // wecom-kf or official-account
	// Consumer is the WeChat user: ID their external_userid or openid, Name
	// their nickname (refreshed daily from WeChat).
	Consumer Party
	// Account is the kf account (open_kfid) or the Official Account's app id.
	Account string
	// Corp is the WeCom corp id, if any.
	Corp string
	// Employees are the thread's participants when the day began (Address is
	// their Entra UPN); those who join during the day are taken from the events.
	Employees []Party
	// Addresses are the addresses the EML gives employees (and admins or
	// reviewers), by Party.ID, whatever Address each event recorded, so that
	// one person has one address in one message. DayConversation fills it (see
	// there); a party it does not list is addressed by its recorded Address.
	Addresses map[string]string
	// MessageIDDomain overrides DefaultMessageIDDomain.
	MessageIDDomain string
}

// Address is the RFC 5322 address a party has in the archive: an employee's UPN,
// a consumer's stable wechat-<id>@wechat.invalid, with their name as display name.
func Address(p Party) *mail.Address {
	addr := p.Address
	switch {
	case p.Role == RoleConsumer:
		addr = ConsumerAddress(p.ID)
	case addr == "":
		addr = "employee-" + localPart(p.ID) + "@multiline.invalid"
	}
	return &mail.Address{Name: p.Name, Address: addr}
}

// ConsumerAddress is the stable address of a WeChat user: wechat-<id>@wechat.invalid.
// WeChat ids use [0-9A-Za-z_-]; anything else is replaced so the address parses.
func ConsumerAddress(id string) string {
	return "wechat-" + localPart(id) + "@" + ConsumerDomain
}

func localPart(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), ".")
	if s == "" {
		return "unknown"
	}
	return strings.ReplaceAll(s, "..", "._")
}

// DayMessageID is the Message-ID (without angle brackets) of a thread's EML for
// one UTC day. It depends on the company, the thread and the day only, so a day
// sent again replaces the earlier copy in the archive instead of adding one.
func DayMessageID(company, thread string, day time.Time, domain string) string {
	if domain == "" {
		domain = DefaultMessageIDDomain
	}
	h := sha256.New()
	h.Write([]byte("multiline.eml.v1\x00"))
	h.Write([]byte(company))
	h.Write([]byte{0})
	h.Write([]byte(thread))
	return "ml." + DayOf(day).Format("20060102") + "." + hex.EncodeToString(h.Sum(nil)[:12]) + "@" + domain
}

// mailAddress is net/mail's address, which formats display names as RFC 2047
// encoded words when they are not ASCII.
type mailAddress = mail.Address
