package archive

// Kind says what an event records, and so which body type it carries. The values
// are part of the record and of exports: they never change meaning.
type Kind string

// The kinds of event. Each names the body type it carries.
const (
	// KindMessageIn is a consumer's message to the employees (MessageBody).
	KindMessageIn Kind = "message.in"
	// KindMessageOut is an employee's message to the consumer (MessageBody),
	// blocked ones included: the original is always kept.
	KindMessageOut Kind = "message.out"
	// KindNoticeConsumer is an automatic notice to the consumer, as they saw it (NoticeBody).
	KindNoticeConsumer Kind = "notice.consumer"
	// KindNoticeEmployees is an automatic notice to employees, as they saw it (NoticeBody).
	KindNoticeEmployees Kind = "notice.employees"
	// KindMedia is a media item of a message, with its hash (MediaBody).
	KindMedia Kind = "media"
	// KindParticipantAdded is an employee added to the thread (ParticipantBody).
	KindParticipantAdded Kind = "participant.added"
	// KindParticipantRemoved is an employee removed by someone else (ParticipantBody).
	KindParticipantRemoved Kind = "participant.removed"
	// KindParticipantLeft is an employee who left on their own (ParticipantBody).
	KindParticipantLeft Kind = "participant.left"
	// KindOptIn is the consumer opting in to a thread an employee started (OptInBody).
	KindOptIn Kind = "opt_in"
	// KindLeave is the consumer's #LEAVE (LeaveBody).
	KindLeave Kind = "leave"
	// KindStatus is a change of a message's delivery status (StatusBody).
	KindStatus Kind = "status"
	// KindLexicon is a lexicon (DLP) decision on a message, with the original (LexiconBody).
	KindLexicon Kind = "lexicon"
	// KindAdminChange is an admin's change to policy or lexicon rules (AdminBody).
	KindAdminChange Kind = "admin.change"
	// KindAnchor is the daily record of every thread's head, on the company chain (AnchorBody).
	KindAnchor Kind = "anchor"
	// KindPurge is a retention run, on the company chain (PurgeBody).
	KindPurge Kind = "purge"
	// KindHoldSet is a legal hold set (HoldBody).
	KindHoldSet Kind = "hold.set"
	// KindHoldLifted is a legal hold lifted (HoldBody).
	KindHoldLifted Kind = "hold.lifted"
	// KindReview is a reviewer marking a flagged item reviewed (ReviewBody).
	KindReview Kind = "review"
)

// Kinds lists every kind, so storage and tests can enumerate them.
var Kinds = []Kind{
	KindMessageIn, KindMessageOut, KindNoticeConsumer, KindNoticeEmployees, KindMedia,
	KindParticipantAdded, KindParticipantRemoved, KindParticipantLeft, KindOptIn,
	KindLeave, KindStatus, KindLexicon, KindAdminChange, KindAnchor, KindPurge,
	KindHoldSet, KindHoldLifted, KindReview,
}

// Known reports whether k is one of Kinds. Seal refuses unknown kinds; Verify
// accepts them, so that an older binary can still verify a newer record.
func (k Kind) Known() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// Purgeable reports whether retention may drop the body of an event of kind k.
// Anchors, purges and holds are what verification and the law rely on, so they
// are kept for ever; everything about the conversation itself may go.
func (k Kind) Purgeable() bool {
	switch k {
	case KindAnchor, KindPurge, KindHoldSet, KindHoldLifted:
		return false
	}
	return true
}

// CompanyWide reports whether events of kind k belong on the company chain.
// Holds and admin changes may be on either: a hold on a thread is on the thread.
func (k Kind) CompanyWide() bool { return k == KindAnchor || k == KindPurge }
