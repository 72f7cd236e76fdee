package jobs

// Filter selects jobs for an operator's view of the queue: storage.DB.Jobs and
// memstore.Store.Jobs take it, and so do `multiline admin jobs` and the tab's
// admin page. The zero value lists the newest DefaultListLimit jobs, alive and dead.
type Filter struct {
	// Dead lists only dead jobs (ended without success, kept for an operator);
	// false lists every job, alive and dead.
	Dead bool
	// Limit caps how many jobs are returned, newest (highest id) first. Zero or
	// less means DefaultListLimit.
	Limit int
}

// DefaultListLimit is how many jobs a Filter without a Limit returns: enough for
// an operator's screen, few enough that a queue of millions is not read whole.
const DefaultListLimit = 100

// EffectiveLimit is the number of jobs f returns at most.
func (f Filter) EffectiveLimit() int {
	if f.Limit <= 0 {
		return DefaultListLimit
	}
	return f.Limit
}
