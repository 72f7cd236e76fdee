// Package wechat is the WeChat side of MultiLine: callback crypto, the callback
// endpoint for WeCom "WeChat Customer Service" (kf) and Official Accounts, thin
// API clients for both, and (bridge.go) the adapter that connects them to the
// bridge, as bot/bridge.go does for Teams.
//
// The clients know nothing about threads or policy. Inbound traffic is handed to a
// [Sink]; outbound calls return errors that callers classify with errors.Is against the
// sentinels in errors.go (ErrCountLimit, ErrWindowClosed, ErrPermanent, ...). Only
// [Side] speaks the bridge's terms: it maps those errors to *bridge.SendError,
// bridge.RetryAfterError and bridge.Permanent. No error of this package carries an
// access token or a secret: request URLs in transport errors are redacted.
package wechat
