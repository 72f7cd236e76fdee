// Package wechat is the WeChat side of MultiLine: callback crypto, the callback
// endpoint for WeCom "WeChat Customer Service" (kf) and Official Accounts, and thin
// API clients for both.
//
// The package knows nothing about threads or policy. Inbound traffic is handed to a
// [Sink]; outbound calls return errors that callers classify with errors.Is against the
// sentinels in errors.go (ErrCountLimit, ErrWindowClosed, ...).
package wechat
