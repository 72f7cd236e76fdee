// Package graph is MultiLine's Microsoft Graph client: activity feed
// notifications for new WeChat messages, colleague lookup, and proactive
// installation of the MultiLine Teams app for an employee.
//
// It authenticates app-only (client credentials of the bot's single-tenant
// Entra app) through azidentity and talks to Graph through msgraph-sdk-go.
// The SDK is confined to this package: its exported API uses plain Go types
// only, because msgraph-sdk-go is heavy to compile (see DEVELOPERS notes in
// the lead's README) and should stay out of every other package's imports.
package graph
