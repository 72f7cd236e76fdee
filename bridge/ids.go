package bridge

import "fmt"

// CompanyID identifies a tenant of the product: one company, one WeChat connection.
type CompanyID string

// EmployeeID identifies an employee (a Teams user) within the product.
type EmployeeID string

// ConsumerID identifies a WeChat user as the WeChat side names them (a WeCom
// external_userid or an Official Account openid).
type ConsumerID string

// ThreadID identifies a thread. It is short (at most 16 bytes) and uses only
// [0-9a-zA-Z] so that message IDs derived from it fit WeChat's msgid rules.
type ThreadID string

// MessageID identifies a message of a thread. Outbound IDs are also the msgid given to
// WeChat's send API, which makes a retried send idempotent: at most 32 bytes of
// [0-9a-zA-Z_-].
type MessageID string

// MessageIDFor derives the ID of the seq-th message of a thread. Deriving it (rather
// than drawing a random one) keeps the policy pure and makes a replayed event
// produce the very same IDs.
func MessageIDFor(t ThreadID, seq int64) MessageID {
	return MessageID(fmt.Sprintf("%s-%d", t, seq))
}
