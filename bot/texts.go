package bot

import (
	"errors"
	"fmt"

	"github.com/multiline/multiline/bot/connector"
	"github.com/multiline/multiline/bridge"
)

// friendly turns an error of the core into what the employee reads, and says
// whether it is unexpected (to be logged).
func friendly(err error, lang bridge.Language) (string, bool) {
	return friendlyMedia(err, lang, 0)
}

// friendlyMedia is friendly for a media send, whose "too large" names limit.
func friendlyMedia(err error, lang bridge.Language, limit int64) (string, bool) {
	zh := lang == bridge.SimplifiedChinese
	pick := func(en, cn string) string {
		if zh {
			return cn
		}
		return en
	}
	switch {
	// Before ErrUnknownEmployee: a disabled employee is known, and must read why
	// nothing happens.
	case errors.Is(err, bridge.ErrEmployeeDisabled):
		return disabledText(lang), false
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
	case errors.Is(err, bridge.ErrUnsupportedContent):
		return pick("This WeChat account cannot send files of this kind. Send text or an image instead.",
			"此微信账号无法发送这类文件，请改为发送文字或图片。"), false
	case errors.Is(err, errNoMediaStore):
		return pick("Files cannot be sent from this chat. Use the MultiLine tab to send them.",
			"无法在此聊天中发送文件，请在 MultiLine 标签页中发送。"), false
	case errors.Is(err, connector.ErrTooLarge):
		return pick(fmt.Sprintf("The file is too large to send to WeChat (%s at most). Nothing was sent.", megabytes(limit)),
			fmt.Sprintf("文件过大，无法发送到微信（最多 %s）。未发送任何内容。", megabytes(limit))), false
	case errors.Is(err, errDownload):
		return pick("The file could not be downloaded from Teams, so nothing was sent. Please send it again.",
			"无法从 Teams 下载该文件，因此未发送任何内容。请重新发送。"), false
	}
	return pick("Something went wrong. Please try again.", "出了点问题，请重试。"), true
}

// disabledText says plainly that an admin has switched WeChat off for the
// employee (bridge.ErrEmployeeDisabled).
func disabledText(lang bridge.Language) string {
	if lang == bridge.SimplifiedChinese {
		return "您的微信功能已停用，请联系管理员开通。"
	}
	return "WeChat is disabled for you. Ask your admin to enable it."
}

// megabytes writes a byte limit as people read it (20 MB).
func megabytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	if n >= 1<<10 {
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
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
