package bridge

import (
	"errors"
	"strings"
	"testing"
)

// The user guide's texts, word for word: they are the defaults.
func TestGuideTextsAreDefaults(t *testing.T) {
	guide := map[NoticeKind]string{
		NoticeConsumerWelcome:  "Thank you! You can now start messaging your contact. Please note, WeChat allows your contact four consecutive replies, including system messages, before requiring a response from you to continue messaging. If the conversation is inactive after 48 hours, your contact will not be able to send any messages until you send a message. To leave the chat at any time, reply with #LEAVE.",
		NoticeLimitReached:     "You have reached the maximum limit of three consecutive messages without a response from your contact. You cannot send any more messages until your contact replies.",
		NoticeNoResponse24h:    "Your contact has not responded for 24 hours. If no response is received in the next 24 hours, your chat will become inactive until your contact replies",
		NoticeConsumerOnHold:   "Your contact is unable to send you any more messages, till you respond. Per WeChat Policy, this conversation is on-hold. Please reply to resume",
		NoticeConsumerReminder: "If you do not reply in the next 24 hours, your contact will not be able to send any more messages. To keep the chat active, please reply with any message. Please note: Other user(s) have been added or removed from this chat.",
		NoticeOptInSent:        "You've sent the contact an opt-in request. You can send up to 5 messages, and we'll deliver them as soon as the request is accepted.",
		NoticeNotQueued:        "Your last message was not queued as the limit of pending messages has been reached",
		NoticeOptedIn:          "The contact has opted in. You can start messaging now.",
		NoticeYouLeft:          "You left the conversation.",
		NoticeEmployeeWelcome:  "Please note, WeChat allows you to send four consecutive messages, including system messages, before requiring a response from your contact to continue messaging. If the conversation is inactive after 48 hours, you will not be able to send any messages until your contact responds.",
	}
	for k, want := range guide {
		if got := Render(nil, k, English, NoticeParams{}, Names{}); got != want {
			t.Errorf("%s:\n got %q\nwant %q", k, got, want)
		}
	}
}

func TestEveryNoticeHasBothLanguages(t *testing.T) {
	for _, k := range NoticeKinds() {
		for _, lang := range []Language{English, SimplifiedChinese} {
			if defaults[k].text[lang] == "" {
				t.Errorf("%s has no %s text", k, lang)
			}
			if len(Render(nil, k, lang, NoticeParams{Reason: "x"}, Names{Employee: "Ann"})) > MaxTextBytes {
				t.Errorf("%s (%s) is longer than WeChat accepts", k, lang)
			}
		}
		for _, ph := range defaults[k].placeholders {
			for lang, text := range defaults[k].text {
				if !strings.Contains(text, ph) {
					t.Errorf("%s (%s) lacks its own placeholder %s", k, lang, ph)
				}
			}
		}
	}
}

func TestRender(t *testing.T) {
	o := Overrides{NoticeParticipantLeft: {English: "Bye from {employee}"}}
	if got := Render(o, NoticeParticipantLeft, English, NoticeParams{Employee: "e1"}, Names{Employee: "Ann Lee"}); got != "Bye from Ann Lee" {
		t.Errorf("override: %q", got)
	}
	if got := Render(o, NoticeParticipantLeft, SimplifiedChinese, NoticeParams{}, Names{Employee: "李安"}); got != "李安 已退出对话。" {
		t.Errorf("the Chinese default stays when only English is overridden: %q", got)
	}
	if got := Render(nil, NoticeConsumerEmployeeLeft, English, NoticeParams{Employee: "e1"}, Names{}); got != "A colleague left the conversation." {
		t.Errorf("unknown name: %q", got)
	}
	if got := Render(nil, NoticeDeliveryFailed, SimplifiedChinese, NoticeParams{Reason: string(FailTransient)}, Names{}); !strings.Contains(got, "无法连接微信") {
		t.Errorf("reason in Chinese: %q", got)
	}
}

func TestOverridesValidate(t *testing.T) {
	cases := []struct {
		name string
		o    Overrides
		want error
	}{
		{"valid", Overrides{NoticeLimitReached: {English: "Stop for now.", SimplifiedChinese: "请稍候。"}}, nil},
		{"unknown notice", Overrides{"made_up": {English: "x"}}, ErrUnknownNotice},
		{"placeholder dropped", Overrides{NoticeParticipantAdded: {English: "Someone joined."}}, ErrMissingPlaceholder},
		{"too long", Overrides{NoticeYouLeft: {English: strings.Repeat("x", MaxTextBytes+1)}}, ErrMessageTooLong},
	}
	for _, tc := range cases {
		err := tc.o.Validate()
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := (Overrides{NoticeYouLeft: {"fr": "Au revoir"}}).Validate(); err == nil {
		t.Error("unsupported language accepted")
	}
	if err := (Overrides{NoticeYouLeft: {English: "  "}}).Validate(); err == nil {
		t.Error("empty text accepted")
	}
}

func TestParseLanguage(t *testing.T) {
	for tag, want := range map[string]Language{"zh_CN": SimplifiedChinese, "zh-Hans": SimplifiedChinese, "zh": SimplifiedChinese,
		"zh-TW": English, "en-US": English, "": English} {
		if got := ParseLanguage(tag); got != want {
			t.Errorf("%q → %s, want %s", tag, got, want)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Policy){
		"more than WeChat's 5 sends": func(p *Policy) { p.SendsPerWindow = 6 },
		"window beyond 48h":          func(p *Policy) { p.Window = 49 * 3600e9 },
		"reserve takes every send":   func(p *Policy) { p.Reserve = 5 },
		"no employee messages":       func(p *Policy) { p.EmployeeLimit = 0 },
		"reminder after the window":  func(p *Policy) { p.ReminderAfter = p.Window },
		"no participants":            func(p *Policy) { p.MaxParticipants = 0 },
	} {
		p := DefaultPolicy()
		change(&p)
		if err := p.Validate(); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
