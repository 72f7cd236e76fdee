// Package auth checks the tokens the Bot Framework puts on the requests it sends
// to the bot's /api/messages endpoint.
//
// The rules are those of the Bot Framework's "authenticate requests from the Bot
// Connector service": signing keys come from OpenID metadata and are refreshed
// daily and whenever a token names a key we do not know; only RS256 is accepted;
// the issuer, the audience (the bot's app id) and the validity period (with 5
// minutes of clock skew) are checked; the token's serviceurl claim must equal the
// activity's serviceUrl; the activity's channel must be among the endorsements of
// the key that signed the token. Single-tenant bots also accept tokens issued by
// their own Entra tenant, and only that tenant.
//
// The JWT itself is checked by golang-jwt. The key cache (keys.go) is this
// package's own: it serves what JWKS libraries such as keyfunc/jwkset do not,
// the Bot Framework's per-key channel endorsements and the OpenID metadata
// document in front of the JWKS, and it rate-limits refreshes on unknown key ids.
package auth
