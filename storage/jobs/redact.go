package jobs

import (
	"regexp"
	"unicode/utf8"
)

// MaxErrorLen is how many bytes of a failure's text a job keeps: enough to say
// what went wrong, not a whole HTML error page.
const MaxErrorLen = 2000

// redactions match credentials that a failure's text may carry despite its
// authors' care (Go's HTTP client prints the request URL, query and all, in a
// transport error): secret-looking query parameters and JSON fields, HTTP
// authorization schemes, and a URL's password.
var redactions = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?i)\b([a-z0-9_.-]*(?:token|secret|password|passwd|aes_?key|signature))=([^&\s"'<>]+)`), `$1=[REDACTED]`},
	{regexp.MustCompile(`(?i)"([a-z0-9_.-]*(?:token|secret|password|passwd|aes_?key))"\s*:\s*"[^"]*"`), `"$1":"[REDACTED]"`},
	{regexp.MustCompile(`(?i)\b(bearer|basic)\s+[a-z0-9._~+/=-]{8,}`), `$1 [REDACTED]`},
	{regexp.MustCompile(`://([^/\s:@]+):([^/\s@]+)@`), `://$1:[REDACTED]@`},
}

// RedactError prepares a failure's text for the jobs table, where operators read
// it (`multiline admin jobs`, the tab's admin page): credentials are replaced by
// [REDACTED] and the text is cut to MaxErrorLen. The stores apply it to every
// last error they write, as a second line of defence behind the adapters that
// keep secrets out of their errors in the first place.
func RedactError(msg string) string {
	for _, r := range redactions {
		msg = r.re.ReplaceAllString(msg, r.with)
	}
	if len(msg) > MaxErrorLen {
		cut := MaxErrorLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}
