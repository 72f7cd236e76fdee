// Package graph is MultiLine's Microsoft Graph client: activity feed
// notifications for new WeChat messages, colleague lookup, and proactive
// installation of the MultiLine Teams app for an employee.
//
// It authenticates app-only (client credentials of the bot's single-tenant
// Entra app) through azidentity and talks to Graph through msgraph-sdk-go.
// The SDK is confined to this package: the exported API uses plain Go types
// only, because msgraph-sdk-go takes minutes to compile cold and must not
// spread into other packages' imports (TestSDKConfinedToGraph enforces it).
package graph
