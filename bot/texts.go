package bot

import (
	"errors"

	"github.com/multiline/multiline/bridge"
)

// friendly turns an error of the core into what the employee reads, and says
// whether it is unexpected (to be logged).
func friendly(err error, lang bridge.Language) (string, bool) {
	zh := lang == bridge.SimplifiedChinese
	pick := func(en, cn string) string {
		if zh {
			return cn
		}
		return en
	}
	switch {
	case errors.Is(err, bridge.ErrUnknownEmployee):
		return pick("MultiLine is not enabled for you. Please ask your admin.", "您尚未开通 MultiLine，请联系管理员。"), false
	case errors.Is(err, bridge.ErrNotParticipant):
		return pick("You are no longer in this conversation.", "您已不在此对话中。"), false
	case errors.Is(err, bridge.ErrUnknownThread), errors.Is(err, bridge.ErrNoThread):
		return pick("This conversation no longer exists.", "此对话已不存在。"), false
	case errors.Is(err, bridge.ErrEmptyMessage):
		return pick("Type a message first.", "请先输入消息。"), false
	case errors.Is(err, bridge.ErrMessageTooLong):
		return pick("The message is too long for WeChat (2048 bytes at most).", "消息过长，微信最多允许 2048 字节。"), false
	}
	return pick("Something went wrong. Please try again.", "出了点问题，请重试。"), true
}

func noThreadsText(lang bridge.Language) string {
	if lang == bridge.SimplifiedChinese {
		return "您目前没有进行中的对话。"
	}
	return "You have no open conversations."
}

func unknownActionText(lang bridge.Language) string {
	if lang == bridge.SimplifiedChinese {
		return "无法识别此操作。"
	}
	return "This action is not known."
}
