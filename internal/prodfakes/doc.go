// Package prodfakes is the cloud side of the production-mode end-to-end test:
// local stand-ins, written from the services' documentation, for what a
// production deployment of MultiLine talks to besides WeChat and the Bot
// Connector (which have fakes of their own in wechat/fakewechat and
// bot/fakeconnector).
//
//   - CA: a test certificate authority. Its certificate, written to a file and
//     passed as SSL_CERT_FILE, is the only root a child process trusts.
//   - Proxy: an HTTPS CONNECT proxy (HTTPS_PROXY) that tunnels the public host
//     names the service uses (login.microsoftonline.com, graph.microsoft.com) to
//     the local fakes, and refuses and records every other host, so a run is
//     offline by construction and the test can say where the service tried to go.
//   - Entra: Microsoft Entra ID's instance discovery, tenant OpenID configuration,
//     JWKS and v2.0 token endpoint (client credentials), over TLS, strict about
//     client id, secret, grant type and scope, answering refusals with Entra's
//     error JSON. It remembers every access token it issued.
//   - ManagedIdentity: Azure App Service's local managed identity endpoint
//     (IDENTITY_ENDPOINT, IDENTITY_HEADER) for one user-assigned identity, over
//     plain HTTP on 127.0.0.1, issuing Entra's tokens: the UserAssignedMSI mode.
//   - Graph: Microsoft Graph answering every authenticated call with its
//     documented 403 Authorization_RequestDenied body (app installs are not
//     under test; a bad token gets 401), except activity feed notifications
//     once a test grants TeamsActivity.Send: those are checked against the
//     manifest's activity types, the directory and the app's installs, and
//     recorded (activity.go).
//   - Issuer: an OpenID issuer with RS256 keys: the Bot Framework channel issuer
//     (endorsed keys, serviceurl claim) that signs inbound activities, and the
//     tenant's Entra issuer that signs the tab's SSO tokens.
//
// Nothing here changes a production default: the service finds these fakes
// through HTTPS_PROXY, SSL_CERT_FILE, BOT_OPENID_METADATA_URL,
// TAB_OPENID_METADATA_URL and App Service's IDENTITY_ENDPOINT only.
package prodfakes
