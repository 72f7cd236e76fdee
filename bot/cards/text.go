package cards

import (
	"fmt"

	"github.com/multiline/multiline/bridge"
)

// label keys; every key has an English and a Simplified Chinese text.
const (
	lWeChat         = "wechat"
	lReplyHint      = "reply_hint"
	lSend           = "send"
	lOpen           = "open"
	lLeave          = "leave"
	lReply          = "reply"
	lLeaveQuestion  = "leave_question"
	lLeaveYes       = "leave_yes"
	lCancel         = "cancel"
	lEarlier        = "earlier"
	lYou            = "you"
	lNoThreads      = "no_threads"
	lThreadsTitle   = "threads_title"
	lChooseSend     = "choose_send"
	lChooseLeave    = "choose_leave"
	lWelcomeTitle   = "welcome_title"
	lWelcomeAnon    = "welcome_title_anon"
	lWelcomeBody    = "welcome_body"
	lHelpTitle      = "help_title"
	lHelpBody       = "help_body"
	lQueued         = "queued"
	lSent           = "sent"
	lSending        = "sending"
	lFailed         = "failed"
	lNotQueued      = "not_queued"
	lBlocked        = "blocked"
	lSendsLeft      = "sends_left"
	lQueueCount     = "queue_count"
	lImage          = "image"
	lMedia          = "media"
	lAttached       = "attached"
	lNotice         = "notice"
	lParticipants   = "participants"
	lStatusActive   = "st_active"
	lStatusInactive = "st_inactive"
	lStatusOptIn    = "st_opt_in"
	lStatusClosed   = "st_closed"
	lStatusUnrouted = "st_unrouted"
)

var labels = map[string][2]string{ // [English, Simplified Chinese]
	lWeChat:         {"WeChat", "微信"},
	lReplyHint:      {"Type a reply", "输入回复"},
	lSend:           {"Send", "发送"},
	lOpen:           {"Open in MultiLine", "在 MultiLine 中打开"},
	lLeave:          {"Leave conversation", "退出对话"},
	lReply:          {"Reply", "回复"},
	lLeaveQuestion:  {"Leave the conversation with %s? Both sides will be told.", "确定要退出与 %s 的对话吗？双方都会收到通知。"},
	lLeaveYes:       {"Leave", "退出"},
	lCancel:         {"Cancel", "取消"},
	lEarlier:        {"%d earlier messages in MultiLine", "另有 %d 条较早的消息，请在 MultiLine 中查看"},
	lYou:            {"You", "您"},
	lNoThreads:      {"You have no open conversations.", "您目前没有进行中的对话。"},
	lThreadsTitle:   {"Your conversations", "您的对话"},
	lChooseSend:     {"Which conversation is this for? Choose one, then send your message again.", "这条消息要发给哪个对话？请先选择，然后重新发送消息。"},
	lChooseLeave:    {"Which conversation do you want to leave?", "您要退出哪个对话？"},
	lWelcomeTitle:   {"Welcome to MultiLine, %s", "欢迎使用 MultiLine，%s"},
	lWelcomeAnon:    {"Welcome to MultiLine", "欢迎使用 MultiLine"},
	lWelcomeBody:    {"Messages from your WeChat contacts will arrive here. Reply on a card, or type a message to answer the conversation in focus. Type help to see the commands.", "微信联系人的消息会显示在这里。您可以在卡片上回复，或直接输入消息回复当前对话。输入 help 查看命令。"},
	lHelpTitle:      {"Commands", "命令"},
	lHelpBody:       {"- **threads**: your open conversations\n- **leave**: leave the conversation in focus\n- **help**: this list\n\nAnything else you type goes to the conversation in focus: the one whose card you last used.", "- **threads**：查看进行中的对话\n- **leave**：退出当前对话\n- **help**：显示此列表\n\n输入的其他内容会发送到当前对话，即您最近操作过卡片的那个对话。"},
	lQueued:         {"Queued %d of %d", "已排队（第 %d 条，共 %d 条）"},
	lSent:           {"Delivered", "已送达"},
	lSending:        {"Sending…", "发送中…"},
	lFailed:         {"Not delivered", "未送达"},
	lNotQueued:      {"Not queued", "未加入队列"},
	lBlocked:        {"Blocked by policy: %s", "被策略拦截：%s"},
	lSendsLeft:      {"%d sends left", "剩余 %d 次发送"},
	lQueueCount:     {"%d of %d queued", "已排队 %d / %d"},
	lImage:          {"Image", "图片"},
	lMedia:          {"Open %s", "打开%s"},
	lAttached:       {"(file: %s)", "（文件：%s）"},
	lNotice:         {"MultiLine", "MultiLine"},
	lParticipants:   {"With %s", "参与者：%s"},
	lStatusActive:   {"Active", "进行中"},
	lStatusInactive: {"Inactive: waiting for your contact", "非活动：等待联系人回复"},
	lStatusOptIn:    {"Waiting for opt-in", "等待对方接受"},
	lStatusClosed:   {"Your contact left", "联系人已退出"},
	lStatusUnrouted: {"Unassigned", "未分配"},
}

func tr(lang bridge.Language, key string, args ...any) string {
	l, ok := labels[key]
	if !ok {
		panic("cards: no label " + key) // a programming error, caught by the tests
	}
	s := l[0]
	if lang == bridge.SimplifiedChinese {
		s = l[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

func statusLabel(lang bridge.Language, s bridge.Status) string {
	switch s {
	case bridge.StatusActive:
		return tr(lang, lStatusActive)
	case bridge.StatusInactive:
		return tr(lang, lStatusInactive)
	case bridge.StatusAwaitingOptIn:
		return tr(lang, lStatusOptIn)
	case bridge.StatusClosed:
		return tr(lang, lStatusClosed)
	case bridge.StatusUnrouted:
		return tr(lang, lStatusUnrouted)
	}
	return string(s)
}

// MessageStatus renders where an employee's message stands ("Queued 2 of 5",
// "Delivered"…).
func MessageStatus(lang bridge.Language, m bridge.MessageView, queueLimit int) string {
	switch m.Status {
	case bridge.StatusQueued:
		if queueLimit < m.Position {
			queueLimit = m.Position
		}
		return tr(lang, lQueued, m.Position, queueLimit)
	case bridge.StatusSent:
		return tr(lang, lSent)
	case bridge.StatusSending:
		return tr(lang, lSending)
	case bridge.StatusFailed:
		return tr(lang, lFailed)
	case bridge.StatusNotQueued:
		return tr(lang, lNotQueued)
	case bridge.StatusBlocked:
		return tr(lang, lBlocked, bridge.BlockedRules(m.Reason))
	}
	return ""
}
