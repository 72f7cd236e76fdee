package bot

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/multiline/multiline/bridge"
)

// inbound is an activity as received. The time fields and the value are kept raw:
// schema.Activity would reject an activity whose timestamp is not RFC 3339 or
// whose value is not an object, and the bot needs neither to be typed.
type inbound struct {
	schema.Activity
	Timestamp      json.RawMessage `json:"timestamp,omitempty"`
	LocalTimestamp json.RawMessage `json:"localTimestamp,omitempty"`
	Expiration     json.RawMessage `json:"expiration,omitempty"`
	Value          json.RawMessage `json:"value,omitempty"`
}

func (a *inbound) tenantID() string {
	if t, ok := a.ChannelData["tenant"].(map[string]any); ok {
		if id, ok := t["id"].(string); ok && id != "" {
			return id
		}
	}
	return a.Conversation.TenantID
}

// personal reports a 1:1 chat with the bot (the only scope MultiLine serves).
func (a *inbound) personal() bool {
	return !a.Conversation.IsGroup && (a.Conversation.ConversationType == "" || a.Conversation.ConversationType == "personal")
}

func (a *inbound) ref() bridge.ConversationRef {
	return bridge.ConversationRef{ServiceURL: a.ServiceURL, ConversationID: a.Conversation.ID,
		BotID: a.Recipient.ID, TenantID: a.tenantID(), UserID: a.From.ID}
}

func (a *inbound) installation() bridge.Installation {
	return bridge.Installation{TenantID: a.tenantID(), AADObjectID: a.From.AadObjectID, TeamsUserID: a.From.ID,
		Name: a.From.Name, Locale: a.Locale, Conversation: a.ref()}
}

var mentionTag = regexp.MustCompile(`(?s)<at>.*?</at>`)

// command returns the text of a message without <at>mentions</at>, trimmed.
func (a *inbound) command() string {
	return strings.TrimSpace(mentionTag.ReplaceAllString(a.Text, ""))
}

// invokeAction is the value of an adaptiveCard/action invoke. Inputs of the card
// arrive merged into Data.
type invokeAction struct {
	Action struct {
		Type string         `json:"type"`
		Verb string         `json:"verb"`
		Data map[string]any `json:"data"`
	} `json:"action"`
}

func (v invokeAction) str(key string) string {
	s, _ := v.Action.Data[key].(string)
	return s
}
