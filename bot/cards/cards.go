package cards

import (
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/multiline/multiline/bridge"
)

// Card is an Adaptive Card as JSON-ready data.
type Card = map[string]any

// Version is the Adaptive Card schema version of every card.
const Version = "1.5"

// MaxBytes is Teams' size limit for a card; cards are kept below it.
const MaxBytes = 28 * 1024

// Action verbs of the cards' Action.Execute buttons.
const (
	VerbSend         = "send"
	VerbReply        = "reply" // focus a thread and show its reply box
	VerbLeave        = "leave"
	VerbLeaveConfirm = "leave_confirm"
	VerbLeaveCancel  = "leave_cancel"
)

// ReplyInputID is the id of the reply box; its value arrives with VerbSend.
const ReplyInputID = "reply"

// Config says where "Open in MultiLine" points.
type Config struct {
	// AppID is the Teams app id (the manifest's id) used in deep links.
	AppID string
	// EntityID is the tab's entityId in the manifest; "multiline" if empty.
	EntityID string
	// TeamsBase is the Teams web address; https://teams.microsoft.com if empty.
	TeamsBase string
}

// Builder builds cards.
type Builder struct{ cfg Config }

// New returns a Builder.
func New(cfg Config) *Builder {
	if cfg.EntityID == "" {
		cfg.EntityID = "multiline"
	}
	if cfg.TeamsBase == "" {
		cfg.TeamsBase = "https://teams.microsoft.com"
	}
	cfg.TeamsBase = strings.TrimSuffix(cfg.TeamsBase, "/")
	return &Builder{cfg: cfg}
}

// DeepLink returns the link that opens the MultiLine tab on a thread.
func (b *Builder) DeepLink(t bridge.ThreadID) string {
	ctx, _ := json.Marshal(map[string]string{"subEntityId": string(t)})
	return b.cfg.TeamsBase + "/l/entity/" + url.PathEscape(b.cfg.AppID) + "/" + url.PathEscape(b.cfg.EntityID) +
		"?context=" + url.QueryEscape(string(ctx))
}

// ThreadView is what a thread card shows: the thread, the messages on the card
// (consumer messages and the employee's replies, oldest first), and how many
// earlier messages the card leaves out.
type ThreadView struct {
	Thread   bridge.ThreadSummary
	Messages []bridge.MessageView
	Earlier  int
	// Note is an extra line under the messages (e.g. why a send was refused).
	Note string
	Lang bridge.Language
}

// Thread builds the card of a thread: the consumer's name with the WeChat mark,
// the messages, the thread state, a reply box with Send, Open in MultiLine and
// Leave conversation. Oldest messages are dropped if the card would be too big.
func (b *Builder) Thread(v ThreadView) Card {
	for {
		c := b.thread(v)
		if size(c) < MaxBytes || len(v.Messages) <= 1 {
			return shrinkTexts(c)
		}
		v.Messages = v.Messages[1:]
		v.Earlier++
	}
}

func (b *Builder) thread(v ThreadView) Card {
	lang := v.Lang
	t := v.Thread
	body := []any{header(t.ConsumerName, lang)}
	if v.Earlier > 0 {
		body = append(body, textBlock(tr(lang, lEarlier, v.Earlier), "isSubtle", true, "size", "Small"))
	}
	for _, m := range v.Messages {
		body = append(body, b.message(m, t, lang)...)
	}
	body = append(body, textBlock(b.stateLine(t, lang), "isSubtle", true, "size", "Small", "spacing", "Medium"))
	if v.Note != "" {
		body = append(body, textBlock(v.Note, "color", "Attention"))
	}
	actions := []any{}
	if canReply(t.Status) {
		body = append(body, Card{
			"type": "Input.Text", "id": ReplyInputID, "placeholder": tr(lang, lReplyHint),
			"isMultiline": true, "maxLength": bridge.MaxTextBytes,
		})
		actions = append(actions, execute(tr(lang, lSend), VerbSend, t.ID, "style", "positive"))
	}
	actions = append(actions,
		openURL(tr(lang, lOpen), b.DeepLink(t.ID)),
		execute(tr(lang, lLeave), VerbLeave, t.ID),
	)
	return card(body, actions)
}

func canReply(s bridge.Status) bool {
	return s == bridge.StatusActive || s == bridge.StatusInactive || s == bridge.StatusAwaitingOptIn
}

func (b *Builder) stateLine(t bridge.ThreadSummary, lang bridge.Language) string {
	parts := []string{statusLabel(lang, t.Status)}
	if t.Status == bridge.StatusActive {
		parts = append(parts, tr(lang, lSendsLeft, t.SendsLeft))
	}
	if t.Queued > 0 {
		parts = append(parts, tr(lang, lQueueCount, t.Queued, t.QueueLimit))
	}
	if len(t.Participants) > 1 {
		parts = append(parts, tr(lang, lParticipants, strings.Join(t.Participants, ", ")))
	}
	return strings.Join(parts, " · ")
}

// message renders one message: consumer text or media, or the employee's reply
// with its status.
func (b *Builder) message(m bridge.MessageView, t bridge.ThreadSummary, lang bridge.Language) []any {
	var out []any
	if m.From == bridge.FromEmployee {
		who := m.AuthorName
		if who == "" {
			who = tr(lang, lYou)
		}
		text := m.Text
		if m.Media != nil {
			// The employee's own file, named only: its link would need the tab's
			// sign-in, which a card in the chat does not have.
			name := m.Media.FileName
			if name == "" {
				name = tr(lang, lImage)
			}
			text = strings.TrimSpace(text + " " + tr(lang, lAttached, name))
		}
		line := "**" + who + "**: " + text
		out = append(out, textBlock(line, "spacing", "Medium"))
		if s := MessageStatus(lang, m, t.QueueLimit); s != "" {
			color := "Good"
			switch m.Status {
			case bridge.StatusQueued, bridge.StatusSending:
				color = "Warning"
			case bridge.StatusFailed, bridge.StatusNotQueued, bridge.StatusBlocked:
				color = "Attention"
			}
			out = append(out, textBlock(s, "size", "Small", "color", color, "spacing", "None"))
		}
		return out
	}
	if m.Text != "" {
		out = append(out, textBlock(m.Text))
	}
	if m.Media != nil && m.Media.URL != "" {
		if m.Media.Kind == "image" {
			out = append(out, Card{"type": "Image", "url": m.Media.URL, "altText": tr(lang, lImage), "size": "Large",
				"selectAction": Card{"type": "Action.OpenUrl", "url": m.Media.URL}})
		} else {
			name := m.Media.FileName
			if name == "" {
				name = m.Media.Kind
			}
			out = append(out, textBlock("["+tr(lang, lMedia, name)+"]("+m.Media.URL+")"))
		}
	}
	return out
}

// LeaveConfirm asks whether to leave a thread.
func (b *Builder) LeaveConfirm(t bridge.ThreadSummary, lang bridge.Language) Card {
	return card(
		[]any{header(t.ConsumerName, lang), textBlock(tr(lang, lLeaveQuestion, t.ConsumerName))},
		[]any{
			execute(tr(lang, lLeaveYes), VerbLeaveConfirm, t.ID, "style", "destructive"),
			execute(tr(lang, lCancel), VerbLeaveCancel, t.ID),
		})
}

// Notice shows an employee notice (text rendered by the core); t, if not nil, is
// the thread it is about.
func (b *Builder) Notice(text string, t *bridge.ThreadSummary, lang bridge.Language) Card {
	var body, actions []any
	if t != nil && t.ID != "" {
		body = append(body, header(t.ConsumerName, lang))
		actions = append(actions, openURL(tr(lang, lOpen), b.DeepLink(t.ID)))
	} else {
		body = append(body, textBlock(tr(lang, lNotice), "weight", "Bolder"))
	}
	body = append(body, textBlock(text))
	return shrinkTexts(card(body, actions))
}

// Welcome greets an employee who installed the app.
func (b *Builder) Welcome(name string, welcomeNotice string, lang bridge.Language) Card {
	// Teams' install activities carry no display name, so the name is often unknown.
	title := tr(lang, lWelcomeAnon)
	if name != "" {
		title = tr(lang, lWelcomeTitle, name)
	}
	body := []any{
		textBlock(title, "size", "Large", "weight", "Bolder"),
		textBlock(tr(lang, lWelcomeBody)),
	}
	if welcomeNotice != "" {
		body = append(body, textBlock(welcomeNotice, "isSubtle", true))
	}
	return card(body, nil)
}

// Help lists the chat commands.
func (b *Builder) Help(lang bridge.Language) Card {
	return card([]any{
		textBlock(tr(lang, lHelpTitle), "size", "Medium", "weight", "Bolder"),
		textBlock(tr(lang, lHelpBody)),
	}, nil)
}

// ThreadsPurpose says why a list of threads is shown.
type ThreadsPurpose int

// Purposes of a threads card.
const (
	ListThreads   ThreadsPurpose = iota // the threads command
	ChooseToSend                        // plain text with no thread in focus
	ChooseToLeave                       // leave with several threads
)

// Threads lists threads, each with Reply, Open and Leave.
func (b *Builder) Threads(ts []bridge.ThreadSummary, purpose ThreadsPurpose, lang bridge.Language) Card {
	// The tab lists them all; the card shows as many of the first (most recent)
	// as fit, found by bisection because a card costs a marshal to measure.
	if c := b.threads(ts, purpose, lang); size(c) < MaxBytes || len(ts) <= 1 {
		return shrinkTexts(c)
	}
	lo, hi := 1, len(ts) // threads(ts[:lo]) is assumed to fit; ts[:hi] does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if size(b.threads(ts[:mid], purpose, lang)) < MaxBytes {
			lo = mid
		} else {
			hi = mid
		}
	}
	return shrinkTexts(b.threads(ts[:lo], purpose, lang))
}

func (b *Builder) threads(ts []bridge.ThreadSummary, purpose ThreadsPurpose, lang bridge.Language) Card {
	title := tr(lang, lThreadsTitle)
	switch purpose {
	case ChooseToSend:
		title = tr(lang, lChooseSend)
	case ChooseToLeave:
		title = tr(lang, lChooseLeave)
	}
	body := []any{textBlock(title, "weight", "Bolder")}
	if len(ts) == 0 {
		body = append(body, textBlock(tr(lang, lNoThreads)))
	}
	for _, t := range ts {
		items := []any{
			Card{"type": "ColumnSet", "columns": []any{
				Card{"type": "Column", "width": "stretch", "items": []any{textBlock("**" + t.ConsumerName + "**")}},
				Card{"type": "Column", "width": "auto", "items": []any{textBlock(statusLabel(lang, t.Status), "isSubtle", true, "size", "Small")}},
			}},
		}
		if t.LastMessage != "" {
			items = append(items, textBlock(truncate(t.LastMessage, 200), "isSubtle", true, "maxLines", 2, "spacing", "None"))
		}
		var acts []any
		if purpose != ChooseToLeave {
			acts = append(acts, execute(tr(lang, lReply), VerbReply, t.ID))
			acts = append(acts, openURL(tr(lang, lOpen), b.DeepLink(t.ID)))
		}
		acts = append(acts, execute(tr(lang, lLeave), VerbLeave, t.ID))
		items = append(items, Card{"type": "ActionSet", "actions": acts})
		body = append(body, Card{"type": "Container", "separator": true, "spacing": "Medium", "items": items})
	}
	return card(body, nil)
}

// Info is a card with one line of text (confirmations, errors).
func (b *Builder) Info(text string) Card {
	return shrinkTexts(card([]any{textBlock(text)}, nil))
}

func header(consumer string, lang bridge.Language) Card {
	return Card{"type": "ColumnSet", "columns": []any{
		Card{"type": "Column", "width": "stretch", "verticalContentAlignment": "Center",
			"items": []any{textBlock(consumer, "size", "Medium", "weight", "Bolder")}},
		Card{"type": "Column", "width": "auto", "verticalContentAlignment": "Center",
			"items": []any{textBlock(tr(lang, lWeChat), "color", "Good", "weight", "Bolder", "size", "Small")}},
	}}
}

func card(body, actions []any) Card {
	c := Card{
		"type":    "AdaptiveCard",
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"version": Version,
		"body":    body,
		"msteams": Card{"width": "Full"},
	}
	if len(actions) > 0 {
		c["actions"] = actions
	}
	return c
}

func textBlock(text string, kv ...any) Card {
	c := Card{"type": "TextBlock", "text": text, "wrap": true}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

func execute(title, verb string, t bridge.ThreadID, kv ...any) Card {
	c := Card{"type": "Action.Execute", "title": title, "verb": verb, "data": Card{"thread": string(t)}}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

func openURL(title, u string) Card { return Card{"type": "Action.OpenUrl", "title": title, "url": u} }

// User text goes into TextBlocks as is. TextBlock knows only a small Markdown
// subset, and backslash escapes show up literally in clients that do not render
// Markdown (the Agents Playground among them); a stray * in a name is harmless.

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

func size(c Card) int {
	b, _ := json.Marshal(c)
	return len(b)
}

// shrinkTexts is the last guard of the size limit: a single huge text (a notice
// override, a long consumer message) is cut until the card fits.
func shrinkTexts(c Card) Card {
	for limit := 4000; size(c) >= MaxBytes && limit > 100; limit /= 2 {
		walkTexts(c, func(s string) string { return truncate(s, limit) })
	}
	return c
}

func walkTexts(v any, f func(string) string) {
	switch x := v.(type) {
	case Card:
		for k, val := range x {
			if s, ok := val.(string); ok && k == "text" {
				x[k] = f(s)
			} else {
				walkTexts(val, f)
			}
		}
	case []any:
		for _, e := range x {
			walkTexts(e, f)
		}
	}
}
