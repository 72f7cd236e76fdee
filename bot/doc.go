// Package bot is MultiLine's Microsoft Teams bot: the /api/messages endpoint
// (token check, install handling, chat commands, card actions) and the proactive
// delivery of WeChat messages and notices to employees (bridge.TeamsSender),
// within Teams' rate limits.
package bot
