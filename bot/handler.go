package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/bot/auth"
	"github.com/multiline/multiline/bot/cards"
	"github.com/multiline/multiline/bot/connector"
	"github.com/multiline/multiline/bridge"
)

// InvokeResponse is the body answering an adaptiveCard/action invoke.
type InvokeResponse struct {
	StatusCode int        `json:"statusCode"`
	Type       string     `json:"type"`
	Value      cards.Card `json:"value"`
}

// Messages serves POST /api/messages.
func (b *Bot) Messages(c echo.Context) error {
	r := c.Request()
	ctx := r.Context()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, b.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return c.NoContent(http.StatusRequestEntityTooLarge)
		}
		return c.NoContent(http.StatusBadRequest)
	}
	authz := r.Header.Get("Authorization")
	if !b.cfg.Dev && strings.TrimSpace(authz) == "" {
		return c.NoContent(http.StatusUnauthorized)
	}
	var a inbound
	if err := json.Unmarshal(body, &a); err != nil {
		return c.NoContent(http.StatusBadRequest)
	}
	if b.cfg.Dev {
		b.log.Debug("bot: activity accepted without token check (local mode)", "type", a.Type)
	} else if _, err := b.cfg.Validator.Validate(ctx, authz, a.ServiceURL, a.ChannelID); err != nil {
		b.log.Warn("bot: rejected activity", "err", err, "service_url", a.ServiceURL, "channel", a.ChannelID)
		return c.NoContent(auth.StatusCode(err))
	}
	if !a.personal() {
		return c.NoContent(http.StatusOK) // MultiLine lives in the 1:1 chat only
	}
	switch a.Type {
	case "installationUpdate":
		switch a.Action {
		case "add", "add-upgrade":
			b.installed(ctx, &a, true)
		case "remove", "remove-upgrade":
			if err := b.core.EmployeeUninstalled(ctx, a.tenantID(), a.From.ID); err != nil && !errors.Is(err, bridge.ErrUnknownEmployee) {
				b.log.Error("bot: uninstall", "err", err)
				return c.NoContent(http.StatusInternalServerError)
			}
		}
	case "conversationUpdate":
		if slices.ContainsFunc(a.MembersAdded, func(m schema.ChannelAccount) bool { return m.ID == a.Recipient.ID }) {
			// The welcome card goes with installationUpdate, which Teams sends too.
			b.installed(ctx, &a, false)
		}
	case "message":
		b.message(ctx, &a)
	case "invoke":
		if a.Name != "adaptiveCard/action" {
			return c.NoContent(http.StatusOK)
		}
		return c.JSON(http.StatusOK, b.invoke(ctx, &a))
	}
	return c.NoContent(http.StatusOK)
}

// installed records the conversation of an employee who added the app.
func (b *Bot) installed(ctx context.Context, a *inbound, welcome bool) {
	lang := bridge.ParseLanguage(a.Locale)
	e, err := b.core.EmployeeInstalled(ctx, a.installation())
	if err != nil {
		text, unexpected := friendly(err, lang)
		if unexpected {
			b.log.Error("bot: install", "err", err)
		}
		if welcome {
			b.reply(ctx, a, connector.Card(b.cards.Info(text), text))
		}
		return
	}
	if !e.Enabled {
		// Installed, but an admin has not enabled WeChat for them (yet).
		if welcome {
			text := disabledText(lang)
			b.reply(ctx, a, connector.Card(b.cards.Info(text), text))
		}
		return
	}
	if welcome {
		notice := bridge.Render(nil, bridge.NoticeEmployeeWelcome, lang, bridge.NoticeParams{}, bridge.Names{})
		name := e.Name
		if name == "" {
			name = a.From.Name
		}
		b.reply(ctx, a, connector.Card(b.cards.Welcome(name, notice, lang), "Welcome to MultiLine"))
	}
}

// employee finds the sender, keeps their conversation reference current, and
// records the interaction (which lifts a Blocked mark). An employee whose WeChat
// access an admin disabled gets an error wrapping bridge.ErrEmployeeDisabled,
// and nothing is recorded for them.
func (b *Bot) employee(ctx context.Context, a *inbound) (bridge.Employee, error) {
	e, err := b.core.EmployeeByTeamsUser(ctx, a.tenantID(), a.From.ID)
	if err != nil {
		return e, err
	}
	if !e.Enabled {
		return e, fmt.Errorf("bot: employee %s: %w", e.ID, bridge.ErrEmployeeDisabled)
	}
	// Teams sends the display name with messages and invokes but not with the
	// install activities, so an employee is created nameless. Notices to the
	// consumer name the employee ("Ann left the conversation"): record it now.
	if e.Name == "" && a.From.Name != "" {
		if e, err = b.core.EmployeeInstalled(ctx, a.installation()); err != nil {
			return e, err
		}
	}
	ref := a.ref()
	if e.Conversation.ConversationID != ref.ConversationID || e.Conversation.ServiceURL != ref.ServiceURL {
		if err := b.core.UpdateConversation(ctx, e.ID, ref); err != nil {
			return e, err
		}
		e.Conversation = ref
	}
	if err := b.core.EmployeeInteracted(ctx, e.ID); err != nil {
		return e, err
	}
	e.Blocked = false
	return e, nil
}

func (b *Bot) lang(a *inbound, e bridge.Employee) bridge.Language {
	if a.Locale != "" {
		return bridge.ParseLanguage(a.Locale)
	}
	return bridge.ParseLanguage(e.Locale)
}

// message handles text typed in the 1:1 chat: commands, or a message for the
// thread in focus.
func (b *Bot) message(ctx context.Context, a *inbound) {
	e, err := b.employee(ctx, a)
	lang := b.lang(a, e)
	if err != nil {
		b.replyError(ctx, a, err, lang)
		return
	}
	if items := a.media(); len(items) > 0 {
		// Files and images, with the text as their caption (never a command).
		b.mediaMessage(ctx, a, e, items, lang)
		return
	}
	text := a.command()
	switch strings.ToLower(text) {
	case "":
		return // e.g. an Action.Submit from an old card: nothing to do
	case "help", "/help", "帮助":
		b.reply(ctx, a, connector.Card(b.cards.Help(lang), "Help"))
		return
	}
	threads, err := b.core.Threads(ctx, e.ID)
	if err != nil {
		b.replyError(ctx, a, err, lang)
		return
	}
	switch strings.ToLower(text) {
	case "threads", "/threads", "对话":
		b.reply(ctx, a, connector.Card(b.cards.Threads(threads, cards.ListThreads, lang), "Threads"))
		return
	case "leave", "/leave", "退出":
		switch t, ok := focus(e, threads); {
		case ok:
			b.reply(ctx, a, connector.Card(b.cards.LeaveConfirm(t, lang), "Leave?"))
		case len(threads) == 0:
			b.reply(ctx, a, connector.Text(noThreadsText(lang)))
		default:
			b.reply(ctx, a, connector.Card(b.cards.Threads(threads, cards.ChooseToLeave, lang), "Leave?"))
		}
		return
	}
	t, ok := focus(e, threads)
	if !ok {
		b.askWhichThread(ctx, a, threads, lang)
		return
	}
	mv, err := b.core.Send(ctx, e.ID, t.ID, bridge.Content{Text: text})
	if err != nil {
		b.replyError(ctx, a, err, lang)
		return
	}
	b.confirm(ctx, e, t, []bridge.MessageView{mv}, lang)
}

// confirm shows what the employee sent from the chat: the thread's card with
// their messages on it. It is recorded so that the messages' later status
// ("Delivered") updates it in place.
func (b *Bot) confirm(ctx context.Context, e bridge.Employee, t bridge.ThreadSummary, sent []bridge.MessageView, lang bridge.Language) {
	if fresh, err := b.core.Thread(ctx, e.ID, t.ID); err == nil {
		t = fresh
	}
	ids := make([]bridge.MessageID, 0, len(sent))
	for _, m := range sent {
		ids = append(ids, m.ID)
	}
	last := sent[len(sent)-1]
	card := b.cards.Thread(cards.ThreadView{Thread: t, Messages: sent, Lang: lang})
	id, err := b.post(ctx, &e, paceInline, connector.Card(card, summary(t.ConsumerName, messageSummary(last))))
	if err != nil {
		b.log.Error("bot: confirm send", "err", err)
		return
	}
	sctx, cancel := afterOutsideCall(ctx) // the card is posted: keep its record
	defer cancel()
	if err := b.core.SaveCard(sctx, Card{Employee: e.ID, Thread: t.ID, ActivityID: id, Messages: ids, UpdatedAt: b.now()}); err != nil {
		b.log.Error("bot: save card", "err", err)
	}
}

// messageSummary is a message's text, or its file name when it has no text.
func messageSummary(m bridge.MessageView) string {
	if m.Text == "" && m.Media != nil {
		if m.Media.FileName != "" {
			return m.Media.FileName
		}
		return m.Media.Kind
	}
	return m.Text
}

// focus is the thread plain text goes to: the one in focus if it is still open,
// else the only open thread.
func focus(e bridge.Employee, threads []bridge.ThreadSummary) (bridge.ThreadSummary, bool) {
	if e.Focus != "" {
		if i := slices.IndexFunc(threads, func(t bridge.ThreadSummary) bool { return t.ID == e.Focus }); i >= 0 {
			return threads[i], true
		}
	}
	if len(threads) == 1 {
		return threads[0], true
	}
	return bridge.ThreadSummary{}, false
}

// invoke answers a card action with the card that replaces it.
func (b *Bot) invoke(ctx context.Context, a *inbound) InvokeResponse {
	resp := func(c cards.Card) InvokeResponse {
		return InvokeResponse{StatusCode: http.StatusOK, Type: connector.AdaptiveCardType, Value: c}
	}
	e, err := b.employee(ctx, a)
	lang := b.lang(a, e)
	if err != nil {
		return resp(b.errorCard(err, lang))
	}
	var v invokeAction
	if err := json.Unmarshal(a.Value, &v); err != nil {
		return resp(b.cards.Info(unknownActionText(lang)))
	}
	tid := bridge.ThreadID(v.str("thread"))
	t, err := b.core.Thread(ctx, e.ID, tid)
	if err != nil {
		return resp(b.errorCard(err, lang))
	}
	// The messages the answered card shows, if we posted it.
	var shown []bridge.MessageID
	if last, ok, err := b.core.LastCard(ctx, e.ID, tid); err == nil && ok && last.ActivityID == a.ReplyToID {
		shown = last.Messages
	}
	view := func(note string, extra ...bridge.MessageView) cards.ThreadView {
		ids := slices.Clone(shown)
		v := cards.ThreadView{Thread: t, Lang: lang, Note: note}
		for _, id := range ids {
			if i := slices.IndexFunc(t.Messages, func(m bridge.MessageView) bool { return m.ID == id }); i >= 0 {
				v.Messages = append(v.Messages, t.Messages[i])
			} else if !slices.ContainsFunc(extra, func(m bridge.MessageView) bool { return m.ID == id }) {
				v.Earlier++
			}
		}
		v.Messages = append(v.Messages, extra...)
		return v
	}
	switch v.Action.Verb {
	case cards.VerbSend:
		mv, err := b.core.Send(ctx, e.ID, tid, bridge.Content{Text: strings.TrimSpace(v.str(cards.ReplyInputID))})
		if err != nil {
			text, unexpected := friendly(err, lang)
			if unexpected {
				b.log.Error("bot: send from card", "err", err)
			}
			return resp(b.cards.Thread(view(text)))
		}
		if err := b.core.SetFocus(ctx, e.ID, tid); err != nil {
			b.log.Error("bot: set focus", "err", err)
		}
		if fresh, err := b.core.Thread(ctx, e.ID, tid); err == nil {
			t = fresh
		}
		ids := append(slices.Clone(shown), mv.ID)
		if a.ReplyToID != "" {
			if err := b.core.SaveCard(ctx, Card{Employee: e.ID, Thread: tid, ActivityID: a.ReplyToID, Messages: ids, UpdatedAt: b.now()}); err != nil {
				b.log.Error("bot: save card", "err", err)
			}
		}
		return resp(b.cards.Thread(view("", mv)))
	case cards.VerbReply:
		if err := b.core.SetFocus(ctx, e.ID, tid); err != nil {
			return resp(b.errorCard(err, lang))
		}
		return resp(b.cards.Thread(view("")))
	case cards.VerbLeave:
		return resp(b.cards.LeaveConfirm(t, lang))
	case cards.VerbLeaveConfirm:
		if err := b.core.Leave(ctx, e.ID, tid); err != nil {
			return resp(b.errorCard(err, lang))
		}
		text := bridge.Render(nil, bridge.NoticeYouLeft, lang, bridge.NoticeParams{}, bridge.Names{})
		return resp(b.cards.Notice(text, &t, lang))
	case cards.VerbLeaveCancel:
		return resp(b.cards.Thread(view("")))
	}
	return resp(b.cards.Info(unknownActionText(lang)))
}

func (b *Bot) errorCard(err error, lang bridge.Language) cards.Card {
	text, unexpected := friendly(err, lang)
	if unexpected {
		b.log.Error("bot: card action", "err", err)
	}
	return b.cards.Info(text)
}

func (b *Bot) replyError(ctx context.Context, a *inbound, err error, lang bridge.Language) {
	text, unexpected := friendly(err, lang)
	if unexpected {
		b.log.Error("bot: message", "err", err)
	}
	b.reply(ctx, a, connector.Text(text))
}

// reply answers in the conversation the activity came from, within the rate limits.
func (b *Bot) reply(ctx context.Context, a *inbound, act connector.Activity) {
	act.ReplyToID = a.ID
	e := bridge.Employee{TenantID: a.tenantID(), Conversation: a.ref()}
	if err := b.lim.wait(ctx, convKey(e.Conversation), tenantKey(e.Conversation, &e)); err != nil {
		return
	}
	if _, err := b.conn.SendActivity(ctx, a.ServiceURL, a.Conversation.ID, act); err != nil {
		b.log.Error("bot: reply", "err", err, "conversation", a.Conversation.ID)
	}
}
