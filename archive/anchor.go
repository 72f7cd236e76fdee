package archive

import (
	"slices"
	"strings"
	"time"
)

// DayLayout is how days are written in anchors, exports and headers: UTC dates.
const DayLayout = "2006-01-02"

// DayOf is the UTC day t falls in, as midnight UTC.
func DayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// NewAnchor is the draft of a company's daily anchor for day, recording every
// thread chain's head. Storage reads the heads of all the company's threads (not
// the company chain) in the anchoring transaction; at is when the anchor is
// written, usually just after the day ends.
func NewAnchor(company string, day, at time.Time, heads []ThreadHead) Draft {
	hs := slices.Clone(heads)
	hs = slices.DeleteFunc(hs, func(h ThreadHead) bool { return h.Thread == CompanyThread })
	slices.SortFunc(hs, func(a, b ThreadHead) int { return strings.Compare(a.Thread, b.Thread) })
	if hs == nil {
		hs = []ThreadHead{}
	}
	return Draft{
		Company: company,
		Thread:  CompanyThread,
		Time:    at,
		Kind:    KindAnchor,
		Body:    AnchorBody{Day: DayOf(day).Format(DayLayout), Heads: hs},
	}
}
