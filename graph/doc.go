// Package graph is MultiLine's Microsoft Graph client: activity feed
// notifications for new WeChat messages, colleague lookup, and proactive
// installation of the MultiLine Teams app for an employee.
//
// It authenticates app-only (client credentials of the bot's single-tenant
// Entra app) through azidentity and talks to Graph through msgraph-sdk-go.
// The SDK is confined to this package: the exported API uses plain Go types
// only, because msgraph-sdk-go takes minutes to compile cold and must not
// spread into other packages' imports (TestSDKConfinedToGraph enforces it).
// Measured on the shared 2-core dev machine: compiling azidentity, Kiota
// and msgraph-sdk-go v1.89 cold adds about 290 s (425 s CPU) and peaks at
// 4.4 GB RSS, against 35 s for the standard library plus manifest/; with a
// warm build cache it is about 1 s. A test binary linking it is 48 MB
// (manifest's is 8 MB). CI should keep GOCACHE between runs.
package graph
