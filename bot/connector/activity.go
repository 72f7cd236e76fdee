package connector

// Activity is the part of a Bot Framework activity the bot sends. Every field is
// omitted when empty, so the JSON carries exactly what was set.
type Activity struct {
	Type        string       `json:"type"`
	ID          string       `json:"id,omitempty"`
	Text        string       `json:"text,omitempty"`
	TextFormat  string       `json:"textFormat,omitempty"`
	Summary     string       `json:"summary,omitempty"`
	ReplyToID   string       `json:"replyToId,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is an activity attachment; for cards Content is the card JSON.
type Attachment struct {
	ContentType string `json:"contentType"`
	Content     any    `json:"content,omitempty"`
}

// AdaptiveCardType is the content type of an Adaptive Card attachment.
const AdaptiveCardType = "application/vnd.microsoft.card.adaptive"

// Text returns a plain-text message activity.
func Text(s string) Activity { return Activity{Type: "message", Text: s, TextFormat: "plain"} }

// Card returns a message activity carrying one Adaptive Card; summary is what
// Teams shows in notifications and chat previews.
func Card(card any, summary string) Activity {
	return Activity{Type: "message", Summary: summary, Attachments: []Attachment{{ContentType: AdaptiveCardType, Content: card}}}
}

// ConversationParams says with whom to open a 1:1 conversation.
type ConversationParams struct {
	BotID    string // the bot's id as Teams knows it (28:<app id>)
	UserID   string // the user's Teams id (29:…)
	TenantID string
}

type account struct {
	ID string `json:"id"`
}

type tenantRef struct {
	ID string `json:"id"`
}

type channelData struct {
	Tenant tenantRef `json:"tenant"`
}

// conversationParameters is the body of POST /v3/conversations as Teams expects it:
// the tenant appears in channelData (and as tenantId, which newer services read).
type conversationParameters struct {
	IsGroup     bool        `json:"isGroup"`
	Bot         account     `json:"bot"`
	Members     []account   `json:"members"`
	TenantID    string      `json:"tenantId,omitempty"`
	ChannelData channelData `json:"channelData"`
}

type resourceResponse struct {
	ID string `json:"id"`
}
