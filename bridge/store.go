package bridge

import (
	"context"
	"encoding/json"
	"time"

	"github.com/multiline/multiline/archive"
)

// Store is the bridge's database. Every change the service makes happens inside
// one Tx: the thread's new state, its messages, the jobs that carry the actions out,
// and the audit record commit together or not at all. storage/ implements it for
// SQLite and PostgreSQL.
type Store interface {
	// Tx runs fn in a transaction and commits if fn returns nil. Rows read with
	// LoadThread are locked until the end of the transaction, so two replicas never
	// apply events to the same thread at once.
	Tx(ctx context.Context, fn func(Tx) error) error
	// Wake tells the job runner that jobs are due (after a commit that enqueued some).
	Wake()
}

// ReadStore is a Store that also runs read-only transactions: a consistent
// snapshot that locks no row and never waits for the write lock. The Service
// reads through it when the store has it (Service.read), and through Tx
// otherwise.
type ReadStore interface {
	ReadTx(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction of the Store. Methods return ErrUnknownThread,
// ErrUnknownEmployee or ErrUnknownMessage when a row does not exist.
type Tx interface {
	InboxTx
	LexiconTx
	ReviewerTx

	Company(ctx context.Context, id CompanyID) (Company, error)
	SaveCompany(ctx context.Context, c Company) error

	Employee(ctx context.Context, id EmployeeID) (Employee, error)
	EmployeeByTeamsUser(ctx context.Context, tenantID, teamsUserID string) (Employee, error)
	// EmployeeByAAD finds an employee by Entra tenant and object id (tab sign-in).
	EmployeeByAAD(ctx context.Context, tenantID, aadObjectID string) (Employee, error)
	// Employees lists the company's employees by name.
	Employees(ctx context.Context, company CompanyID) ([]Employee, error)
	// EmployeeByScene finds the employee whose personal contact link has this scene.
	EmployeeByScene(ctx context.Context, company CompanyID, scene string) (Employee, error)
	SaveEmployee(ctx context.Context, e Employee) error
	// NextPoolEmployee picks the company's next enabled employee in round robin,
	// reachable ones first. It locks and writes no employee row (a page of new
	// consumers must not hold employees; see storage/doc.go's lock order).
	NextPoolEmployee(ctx context.Context, company CompanyID, now time.Time) (Employee, error)
	EmployeesByID(ctx context.Context, ids []EmployeeID) ([]Employee, error)

	Consumer(ctx context.Context, company CompanyID, id ConsumerID) (Consumer, error)
	SaveConsumer(ctx context.Context, c Consumer) error
	// ConsumersByID reads the company's consumers with these ids in one query;
	// the ones it does not know are left out of the map.
	ConsumersByID(ctx context.Context, company CompanyID, ids []ConsumerID) (map[ConsumerID]Consumer, error)

	// LoadThread reads and locks a thread.
	LoadThread(ctx context.Context, id ThreadID) (ThreadRecord, error)
	// LiveThread finds the consumer's thread on a WeChat account.
	LiveThread(ctx context.Context, company CompanyID, consumer ConsumerID) (ThreadID, error)
	// ThreadByOptInScene finds the thread whose opt-in link has this scene.
	ThreadByOptInScene(ctx context.Context, company CompanyID, scene string) (ThreadID, error)
	// SaveThread inserts or updates a thread and its participant index.
	SaveThread(ctx context.Context, t ThreadRecord) error
	// ThreadsOf lists the threads an employee takes part in, most recent first.
	ThreadsOf(ctx context.Context, e EmployeeID) ([]ThreadRecord, error)

	InsertMessage(ctx context.Context, m MessageRecord) error
	UpdateMessage(ctx context.Context, id MessageID, s MessageStatus, reason string, position int, at time.Time) error
	Message(ctx context.Context, id MessageID) (MessageRecord, error)
	// Messages lists a thread's last limit messages in order.
	Messages(ctx context.Context, t ThreadID, limit int) ([]MessageRecord, error)
	// MarkInbound records a WeChat msgid; it reports false if it was seen before.
	MarkInbound(ctx context.Context, company CompanyID, wechatMsgID string) (bool, error)

	// Enqueue adds a job. Jobs of one lane run one at a time, in the order enqueued.
	Enqueue(ctx context.Context, j Job) error
	// SetTimer replaces the pending job of j.Lane with j.
	SetTimer(ctx context.Context, j Job) error
	// CancelLanes deletes the pending jobs of the named lanes (exact names: a
	// prefix would let "teams:e1" cancel "teams:e10", and costs a scan of every
	// job on each consumer message).
	CancelLanes(ctx context.Context, lanes ...string) error
	// HasJobs reports whether the lane has a live job, waiting or running (dead
	// jobs do not count): how a job that reschedules itself is started once.
	HasJobs(ctx context.Context, lane string) (bool, error)
	// WakeLane makes the lane's waiting jobs due now.
	WakeLane(ctx context.Context, lane string) error
	// CompleteJob deletes a job, inside the transaction that recorded its effect.
	CompleteJob(ctx context.Context, id int64) error
	// BuryJob ends a job without success, inside the transaction that settled its
	// outcome: it is kept, dead, with its attempts and last error, and never run
	// again unless an operator retries it. Its lane moves on to the next job.
	BuryJob(ctx context.Context, id int64, attempts int, lastErr string) error

	Audit(ctx context.Context, a AuditRecord) error

	// Cursor and SaveCursor keep WeChat's sync_msg position per account.
	Cursor(ctx context.Context, company CompanyID, account string) (string, error)
	SaveCursor(ctx context.Context, company CompanyID, account, cursor string) error

	// Archive appends the drafts to their archive chains (a thread's, or the
	// company's: archive.CompanyThread), in order, sealed onto each chain's head
	// as read in this transaction, so the record commits with the change it
	// records or not at all. A thread chain is serialised by the thread's row lock
	// (LoadThread); the company chain takes a lock of its own until the end of
	// the transaction, so call it after the thread work (see storage/doc.go).
	Archive(ctx context.Context, drafts ...archive.Draft) error
	// ArchiveHeads lists the head of every thread chain of the company (not the
	// company chain), what the daily anchor records.
	ArchiveHeads(ctx context.Context, company CompanyID) ([]archive.ThreadHead, error)
	// MediaInfo describes a stored media item for the archive (its SHA-256
	// among others); ErrNotFound if there is none.
	MediaInfo(ctx context.Context, ref string) (MediaInfo, error)

	SaveCard(ctx context.Context, c CardRecord) error
	LastCard(ctx context.Context, e EmployeeID, t ThreadID) (CardRecord, bool, error)
	CardForMessage(ctx context.Context, e EmployeeID, m MessageID) (CardRecord, bool, error)
}

// Company is a tenant: its policy, notice texts and default language.
type Company struct {
	ID        CompanyID
	Name      string
	TenantID  string // Entra tenant whose employees belong to it
	Policy    Policy
	Overrides Overrides
	Language  Language
}

// Consumer is a WeChat user known to a company.
type Consumer struct {
	Company  CompanyID
	ID       ConsumerID
	Name     string
	Language Language // empty: the company's default
	// RouteHint is the employee whose personal contact link the consumer came
	// through; their next new thread is routed to that employee.
	RouteHint EmployeeID
	// AvatarURL is the consumer's WeChat avatar, as WeChat last reported it.
	AvatarURL string
	// ProfiledAt is when WeChat was last asked about the consumer (zero: never);
	// a profile older than ProfileMaxAge is asked for again when they next write.
	ProfiledAt time.Time
}

// ThreadRecord is a thread as stored: the policy state plus what only the service needs.
type ThreadRecord struct {
	Thread
	Company    CompanyID
	Account    string // the WeChat account (open_kfid) the consumer writes to
	OptInScene string
	OptInLink  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// MessageRecord is a stored message. Text is what was shown or sent: the body's text,
// or the rendered notice.
type MessageRecord struct {
	ID          MessageID
	Thread      ThreadID
	Seq         int64
	From        Party
	Author      EmployeeID
	Body        Content
	Notice      NoticeKind
	Text        string
	Status      MessageStatus
	Reason      string
	Position    int
	WeChatMsgID string
	At          time.Time
	UpdatedAt   time.Time
}

// MediaInfo is what the archive records of a stored media item: the bytes stay
// in the media store, and the chain covers their hash.
type MediaInfo struct {
	ContentType string
	FileName    string
	Size        int64
	SHA256      archive.Hash
}

// Job is a unit of durable work. Kind selects the handler; Payload is its JSON.
type Job struct {
	ID       int64
	Lane     string
	Kind     string
	Payload  json.RawMessage
	RunAt    time.Time
	Attempts int // attempts made before this one
	// Created is when the job was enqueued; a job older than its kind's
	// JobLimits.MaxAge ends dead.
	Created time.Time
	// LastError is the failure of the last attempt (for operators).
	LastError string
	// Dead says the job ended without success and is kept for an operator.
	Dead bool
}

// JobLimits bound a job's life: after MaxAttempts failed attempts, or once it is
// older than MaxAge, a failing job ends dead instead of being retried.
type JobLimits struct {
	MaxAttempts int
	MaxAge      time.Duration
}

// AuditRecord is one policy decision: the event and the actions it caused.
type AuditRecord struct {
	Thread  ThreadID
	At      time.Time
	Event   string
	Detail  json.RawMessage
	Actions json.RawMessage
}

// CardRecord is a Teams activity the bot posted for a thread.
type CardRecord struct {
	Employee   EmployeeID
	Thread     ThreadID
	ActivityID string
	Messages   []MessageID
	UpdatedAt  time.Time
}

// JobHandler runs one job. Returning nil completes it (unless the handler already
// completed it inside its own transaction); a *RetryAfterError reschedules it after
// the wait; any other error retries it with backoff.
type JobHandler func(ctx context.Context, j Job) error
