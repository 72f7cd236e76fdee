// Package bridge is the domain core of MultiLine for WeChat: threads between one
// WeChat consumer and one or more employees, and the policy that turns WeChat's
// rules (the consumer starts; at most five business sends within 48 hours of the
// consumer's last message) into queued messages and automatic notices.
//
// The policy is a pure function, [Apply]: (policy, thread state, event, now) →
// (new state, actions). It reads no clock, does no I/O and starts no goroutine, so
// every rule can be tested by feeding events. [Service] adapts the outside world to
// it: it loads a thread, applies an event, and stores the new state together with
// the actions' durable effects (messages, jobs, timers, audit) in one transaction.
//
// A newcomer can predict what happens to a message by reading apply.go from top to
// bottom: each event has one function, and each rule of the thread policy table in
// the design is one branch.
package bridge
