package connector

import (
	"testing"
	"time"
)

// Retry-After is read as a wait of 0 to maxRetryAfter: FuzzConnectorAnswer
// found that "1e300" and "Inf" overflowed to a negative wait of 292 years.
func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, " 0.25 ": 250 * time.Millisecond, "-5": 0, "NaN": 0, "soon": 0,
		"1e300": maxRetryAfter, "Inf": maxRetryAfter, "9999999999": maxRetryAfter,
		"Wed, 21 Oct 2015 07:28:00 GMT": 28 * time.Minute, "Wed, 21 Oct 2015 06:00:00 GMT": 0, "Fri, 21 Oct 2016 07:28:00 GMT": maxRetryAfter,
	} {
		if got := parseRetryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", h, got, want)
		}
	}
}
