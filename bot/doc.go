// Package bot is MultiLine's Microsoft Teams bot: the /api/messages endpoint
// (token check, install handling, chat commands, card actions, files and images
// sent in the 1:1 chat) and the proactive delivery of WeChat messages and notices
// to employees (bridge.TeamsSender), within Teams' rate limits. Every answer of
// the Bot Connector ends as an outcome the job runner can act on: done, deferred
// (429, or our own limiter's "not before T", so that no worker waits for Teams'
// pace), retried (408/412/5xx, network), unreachable (bot blocked or disabled)
// or permanent (any other refusal). A request on its way when the service stops
// is awaited, and what Teams did is recorded (bridge.DrainTimeout bounds both).
package bot
