// Package connector is a small client of the Bot Connector REST API (v3) as
// Microsoft Teams serves it: create a 1:1 conversation, send, update and delete
// activities, and download what a user sent the bot (Download: the bot's token
// goes only to the connector's own host).
//
// It sends its own trimmed activity JSON rather than msbotbuilder-go's
// schema.Activity, whose zero time.Time and struct fields are serialized despite
// omitempty. Failures are *APIError values carrying the HTTP status, Teams' error
// code and Retry-After, so that callers can decide between waiting, retrying,
// re-creating the conversation and giving up. The default client keeps its
// connections for reuse (NewTransport), and every answer is counted in
// multiline_http_client_responses_total{service="botconnector"}.
package connector
