package bridge

import "time"

// The audit log of policy decisions (one AuditRecord per event the policy
// applied, written in the same transaction) is read back by admins and
// compliance officers: `multiline audit` and the admin page.

// AuditQuery selects audit records; zero fields select all.
type AuditQuery struct {
	// Since and Until bound the records' time: [Since, Until).
	Since, Until time.Time
	// Thread keeps one thread's records.
	Thread ThreadID
	// Employee keeps the records of the threads an employee is in or wrote in.
	Employee EmployeeID
	// Limit keeps the newest Limit records (0: all), for a page that shows the
	// recent ones; the records still come oldest first.
	Limit int
}

// AuditEntry is an audit record as read back, with its number in the log.
type AuditEntry struct {
	ID int64
	AuditRecord
}
