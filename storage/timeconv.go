package storage

import "time"

// Times are stored as unix microseconds (UTC) in both dialects: one integer
// compares and indexes the same everywhere, and the zero time is 0.

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
