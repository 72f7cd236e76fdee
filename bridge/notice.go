package bridge

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// NoticeKind names an automatic message. Kinds starting with "consumer_" go to the
// consumer through WeChat (and count as sends); the others go to employees.
type NoticeKind string

// Notices to the consumer. The English defaults are the user guide's texts, word for word.
const (
	NoticeConsumerWelcome      NoticeKind = "consumer_welcome"
	NoticeConsumerOnHold       NoticeKind = "consumer_on_hold"
	NoticeConsumerReminder     NoticeKind = "consumer_reminder_participants_changed"
	NoticeConsumerEmployeeLeft NoticeKind = "consumer_employee_left"
	NoticeConsumerLeft         NoticeKind = "consumer_left"
)

// Notices to employees.
const (
	NoticeEmployeeWelcome    NoticeKind = "employee_welcome"
	NoticeLimitReached       NoticeKind = "limit_reached"
	NoticeNoResponse24h      NoticeKind = "no_response_24h"
	NoticeInactive           NoticeKind = "inactive"
	NoticeNotQueued          NoticeKind = "not_queued"
	NoticeOptInSent          NoticeKind = "opt_in_sent"
	NoticeOptedIn            NoticeKind = "opted_in"
	NoticeYouLeft            NoticeKind = "you_left"
	NoticeYouWereRemoved     NoticeKind = "you_were_removed"
	NoticeParticipantLeft    NoticeKind = "participant_left"
	NoticeParticipantAdded   NoticeKind = "participant_added"
	NoticeParticipantRemoved NoticeKind = "participant_removed"
	NoticeContactLeft        NoticeKind = "contact_left"
	NoticeContactReturned    NoticeKind = "contact_returned"
	NoticeNotSentContactLeft NoticeKind = "not_sent_contact_left"
	NoticeDeliveryFailed     NoticeKind = "delivery_failed"
	// NoticeTeamsUndelivered is kept in the thread for one employee when Teams did
	// not take a card for them; the tab shows it.
	NoticeTeamsUndelivered NoticeKind = "teams_undelivered"
)

// NoticeParams are the values a notice may mention. The service resolves them to
// display names before rendering.
type NoticeParams struct {
	Employee EmployeeID `json:"employee,omitempty"`
	Reason   string     `json:"reason,omitempty"`
}

// ForConsumer reports whether the notice goes to the consumer.
func (k NoticeKind) ForConsumer() bool { return strings.HasPrefix(string(k), "consumer_") }

// Language of a notice: "en" or "zh-CN".
type Language string

// Supported languages.
const (
	English           Language = "en"
	SimplifiedChinese Language = "zh-CN"
)

// ParseLanguage maps a WeChat or Teams language tag to a supported language
// (zh, zh_CN, zh-Hans… → zh-CN; everything else → en).
func ParseLanguage(tag string) Language {
	t := strings.ToLower(strings.ReplaceAll(tag, "_", "-"))
	if t == "zh" || strings.HasPrefix(t, "zh-cn") || strings.HasPrefix(t, "zh-hans") || strings.HasPrefix(t, "zh-sg") {
		return SimplifiedChinese
	}
	return English
}

// template is a default text and the placeholders it must keep.
type template struct {
	text         map[Language]string
	placeholders []string // e.g. "{employee}"
}

// defaults holds every notice. English texts marked "guide" are the product's user
// guide word for word; the others are ours, in the same voice.
var defaults = map[NoticeKind]template{
	// guide
	NoticeConsumerWelcome: {text: map[Language]string{
		English:           "Thank you! You can now start messaging your contact. Please note, WeChat allows your contact four consecutive replies, including system messages, before requiring a response from you to continue messaging. If the conversation is inactive after 48 hours, your contact will not be able to send any messages until you send a message. To leave the chat at any time, reply with #LEAVE.",
		SimplifiedChinese: "谢谢！您现在可以开始与您的联系人发消息了。请注意，根据微信规定，您的联系人最多可连续回复四条消息（包括系统消息），之后需要您回复才能继续对话。如果对话超过 48 小时没有互动，在您发送消息之前，您的联系人将无法再给您发送消息。如需随时退出聊天，请回复 #LEAVE。",
	}},
	// guide
	NoticeConsumerOnHold: {text: map[Language]string{
		English:           "Your contact is unable to send you any more messages, till you respond. Per WeChat Policy, this conversation is on-hold. Please reply to resume",
		SimplifiedChinese: "在您回复之前，您的联系人无法再给您发送消息。根据微信政策，此对话已暂停。请回复以继续",
	}},
	// guide
	NoticeConsumerReminder: {text: map[Language]string{
		English:           "If you do not reply in the next 24 hours, your contact will not be able to send any more messages. To keep the chat active, please reply with any message. Please note: Other user(s) have been added or removed from this chat.",
		SimplifiedChinese: "如果您在接下来的 24 小时内没有回复，您的联系人将无法再给您发送消息。如需保持聊天，请回复任意消息。请注意：有其他用户已被添加到此聊天或已从此聊天中移除。",
	}},
	NoticeConsumerEmployeeLeft: {placeholders: []string{"{employee}"}, text: map[Language]string{
		English:           "{employee} left the conversation.",
		SimplifiedChinese: "{employee} 已退出对话。",
	}},
	NoticeConsumerLeft: {text: map[Language]string{
		English:           "You left the conversation. Send any message to start again.",
		SimplifiedChinese: "您已退出对话。发送任意消息即可重新开始。",
	}},
	// guide (the guide breaks this text across a page; it is one sentence pair)
	NoticeEmployeeWelcome: {text: map[Language]string{
		English:           "Please note, WeChat allows you to send four consecutive messages, including system messages, before requiring a response from your contact to continue messaging. If the conversation is inactive after 48 hours, you will not be able to send any messages until your contact responds.",
		SimplifiedChinese: "请注意，根据微信规定，您最多可连续发送四条消息（包括系统消息），之后需要联系人回复才能继续发送。如果对话超过 48 小时没有互动，在联系人回复之前，您将无法发送任何消息。",
	}},
	// guide
	NoticeLimitReached: {text: map[Language]string{
		English:           "You have reached the maximum limit of three consecutive messages without a response from your contact. You cannot send any more messages until your contact replies.",
		SimplifiedChinese: "您已达到在联系人未回复的情况下连续发送三条消息的上限。在联系人回复之前，您无法再发送消息。",
	}},
	// guide
	NoticeNoResponse24h: {text: map[Language]string{
		English:           "Your contact has not responded for 24 hours. If no response is received in the next 24 hours, your chat will become inactive until your contact replies",
		SimplifiedChinese: "您的联系人已 24 小时未回复。如果在接下来的 24 小时内仍未收到回复，在联系人回复之前，您的聊天将变为非活动状态",
	}},
	NoticeInactive: {text: map[Language]string{
		English:           "Your contact has not responded for 48 hours, so this chat is now inactive. Messages you send will be queued and delivered when your contact replies.",
		SimplifiedChinese: "您的联系人已 48 小时未回复，此聊天现已变为非活动状态。您发送的消息将进入队列，并在联系人回复后送达。",
	}},
	// guide
	NoticeNotQueued: {text: map[Language]string{
		English:           "Your last message was not queued as the limit of pending messages has been reached",
		SimplifiedChinese: "由于待发送消息已达上限，您的上一条消息未加入队列",
	}},
	// guide
	NoticeOptInSent: {text: map[Language]string{
		English:           "You've sent the contact an opt-in request. You can send up to 5 messages, and we'll deliver them as soon as the request is accepted.",
		SimplifiedChinese: "您已向联系人发送了加入请求。您最多可以发送 5 条消息，我们会在请求被接受后立即送达。",
	}},
	// guide
	NoticeOptedIn: {text: map[Language]string{
		English:           "The contact has opted in. You can start messaging now.",
		SimplifiedChinese: "联系人已接受请求。您现在可以开始发消息了。",
	}},
	// guide
	NoticeYouLeft: {text: map[Language]string{
		English:           "You left the conversation.",
		SimplifiedChinese: "您已退出对话。",
	}},
	NoticeYouWereRemoved: {placeholders: []string{"{employee}"}, text: map[Language]string{
		English:           "{employee} removed you from the conversation.",
		SimplifiedChinese: "{employee} 已将您移出对话。",
	}},
	NoticeParticipantLeft: {placeholders: []string{"{employee}"}, text: map[Language]string{
		English:           "{employee} left the conversation.",
		SimplifiedChinese: "{employee} 已退出对话。",
	}},
	NoticeParticipantAdded: {placeholders: []string{"{employee}"}, text: map[Language]string{
		English:           "{employee} was added to the conversation.",
		SimplifiedChinese: "{employee} 已被添加到对话中。",
	}},
	NoticeParticipantRemoved: {placeholders: []string{"{employee}"}, text: map[Language]string{
		English:           "{employee} was removed from the conversation.",
		SimplifiedChinese: "{employee} 已被移出对话。",
	}},
	NoticeContactLeft: {text: map[Language]string{
		English:           "Your contact left the conversation with #LEAVE. You will not be able to send messages until they write again.",
		SimplifiedChinese: "您的联系人已通过 #LEAVE 退出对话。在对方再次发消息之前，您无法发送消息。",
	}},
	NoticeContactReturned: {text: map[Language]string{
		English:           "Your contact has returned to the conversation. You can start messaging now.",
		SimplifiedChinese: "您的联系人已回到对话中。您现在可以开始发消息了。",
	}},
	NoticeNotSentContactLeft: {text: map[Language]string{
		English:           "Your last message was not sent because your contact has left the conversation.",
		SimplifiedChinese: "由于您的联系人已退出对话，您的上一条消息未发送。",
	}},
	NoticeDeliveryFailed: {placeholders: []string{"{reason}"}, text: map[Language]string{
		English:           "Your message could not be delivered to WeChat ({reason}).",
		SimplifiedChinese: "您的消息未能送达微信（{reason}）。",
	}},
	// Movius's MultiLine guide, word for word (lexicon.go).
	NoticeLexiconBlocked: {text: map[Language]string{
		English:           "Your previous message was not sent because of illegal content.",
		SimplifiedChinese: "您的上一条消息因包含违规内容而未发送。",
	}},
	NoticeTeamsUndelivered: {placeholders: []string{"{reason}"}, text: map[Language]string{
		English:           "An update of this conversation could not be shown in Teams ({reason}). It is shown here instead.",
		SimplifiedChinese: "此对话的一条更新未能在 Teams 中显示（{reason}），已在此处显示。",
	}},
}

// NoticeKinds lists every notice, sorted, for admin pages and tests.
func NoticeKinds() []NoticeKind { return slices.Sorted(maps.Keys(defaults)) }

// ErrUnknownNotice: an override names a notice that does not exist.
var ErrUnknownNotice = errors.New("unknown notice")

// ErrMissingPlaceholder: an override drops a placeholder the default has.
var ErrMissingPlaceholder = errors.New("override lacks a placeholder")

// Overrides are a company's replacement texts, by notice and language.
type Overrides map[NoticeKind]map[Language]string

// Validate checks that every override names a known notice and language, is not
// empty, and keeps the placeholders of the default text.
func (o Overrides) Validate() error {
	for k, byLang := range o {
		d, ok := defaults[k]
		if !ok {
			return fmt.Errorf("%w: %q", ErrUnknownNotice, k)
		}
		for lang, text := range byLang {
			if lang != English && lang != SimplifiedChinese {
				return fmt.Errorf("notice %s: unsupported language %q (use en or zh-CN)", k, lang)
			}
			if strings.TrimSpace(text) == "" {
				return fmt.Errorf("notice %s (%s): text is empty", k, lang)
			}
			if len(text) > MaxTextBytes {
				return fmt.Errorf("notice %s (%s): %w", k, lang, ErrMessageTooLong)
			}
			for _, ph := range d.placeholders {
				if !strings.Contains(text, ph) {
					return fmt.Errorf("notice %s (%s): %w %s", k, lang, ErrMissingPlaceholder, ph)
				}
			}
		}
	}
	return nil
}

// Names resolves the names a notice mentions.
type Names struct {
	Employee string
}

// Render returns the text of notice k in lang, using the company's override when
// it has one. Placeholders are replaced by the resolved names and the reason.
func Render(o Overrides, k NoticeKind, lang Language, p NoticeParams, n Names) string {
	text := o[k][lang]
	if text == "" {
		d := defaults[k]
		if text = d.text[lang]; text == "" {
			text = d.text[English]
		}
	}
	name := n.Employee
	if name == "" {
		// Teams' install events carry no name; never say " left the conversation."
		name = map[Language]string{English: "A colleague", SimplifiedChinese: "一位同事"}[lang]
	}
	return strings.NewReplacer("{employee}", name, "{reason}", reasonText(p.Reason, lang)).Replace(text)
}

func reasonText(r string, lang Language) string {
	en := map[string]string{
		string(FailTransient): "WeChat could not be reached",
		string(FailRejected):  "the contact's WeChat refused it",
	}
	zh := map[string]string{
		string(FailTransient): "无法连接微信",
		string(FailRejected):  "联系人的微信拒收了消息",
	}
	m := en
	if lang == SimplifiedChinese {
		m = zh
	}
	if s, ok := m[r]; ok {
		return s
	}
	return r
}
