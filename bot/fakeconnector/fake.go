// Package fakeconnector is a Bot Connector stand-in for tests and benchmarks. It
// behaves like Teams where the bot can tell: it enforces Teams' per-conversation
// and per-tenant rate limits (429 with Retry-After), assigns activity ids, answers
// unknown conversations with 404 ConversationNotFound, checks the bearer token when
// told to, and returns 4xx/5xx with Teams' error bodies on demand, once, a few
// times or forever. It also serves attachments the way the connector keeps images
// pasted into a personal chat (GET /v3/attachments/{id}/views/original, behind the
// bearer token). It records every request it receives.
package fakeconnector

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limit allows at most N requests in any window of length Per.
type Limit struct {
	Per time.Duration
	N   int
}

// ConversationLimits are Teams' documented limits per bot per conversation.
var ConversationLimits = []Limit{{time.Second, 7}, {2 * time.Second, 8}, {30 * time.Second, 60}, {time.Hour, 1800}}

// TenantLimits are Teams' documented limits per app per tenant.
var TenantLimits = []Limit{{time.Second, 50}}

// Options configure a Fake.
type Options struct {
	// Token, if set, is the bearer token every request must carry (else 401).
	Token string
	// ConversationLimits and TenantLimits default to Teams' documented ones; set
	// NoLimits to switch limiting off.
	ConversationLimits []Limit
	TenantLimits       []Limit
	NoLimits           bool
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Failure is an error the fake returns instead of serving a request.
type Failure struct {
	Op           string // "create", "send", "update", "delete", "attachment", or "" for any
	Conversation string // "" for any
	Status       int
	Code         string        // Teams' error code in the body
	Message      string        // Teams' error message in the body; "injected failure" if empty
	RetryAfter   time.Duration // sets Retry-After (for 429)
	Times        int           // how many requests fail; 1 if zero
	// Forever keeps the failure in place however many requests it answers (a
	// conversation Teams refuses for good); Times is then ignored.
	Forever bool
}

// Request is one request the fake received.
type Request struct {
	At            time.Time
	Op            string
	Method        string
	Path          string
	Conversation  string
	ActivityID    string
	Authorization string
	Body          json.RawMessage
	Status        int
	// ReturnedID is the id the fake gave (new activity or conversation).
	ReturnedID string
}

// Activity is the current state of an activity in a conversation.
type Activity struct {
	ID      string
	Body    json.RawMessage // last body posted or put
	Updates int
	Deleted bool
}

type attachment struct {
	contentType string
	data        []byte
}

type conversation struct {
	tenant, user string
	activities   []*Activity
	byID         map[string]*Activity
}

// Fake is an http.Handler serving /v3/conversations… It is safe for concurrent use.
type Fake struct {
	opts Options
	now  func() time.Time

	mu        sync.Mutex
	convs     map[string]*conversation
	convTimes map[string][]time.Time
	tenTimes  map[string][]time.Time
	failures  []*Failure
	requests  []Request
	files     map[string]attachment
	nextID    int
	throttled int
}

// New returns a Fake.
func New(opts Options) *Fake {
	if opts.ConversationLimits == nil {
		opts.ConversationLimits = ConversationLimits
	}
	if opts.TenantLimits == nil {
		opts.TenantLimits = TenantLimits
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Fake{opts: opts, now: now, convs: map[string]*conversation{}, files: map[string]attachment{},
		convTimes: map[string][]time.Time{}, tenTimes: map[string][]time.Time{}}
}

// AddConversation makes a 1:1 conversation exist, as an app install does.
func (f *Fake) AddConversation(id, tenant, user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.convs[id] = &conversation{tenant: tenant, user: user, byID: map[string]*Activity{}}
}

// DropConversation makes a conversation disappear (requests to it get 404).
func (f *Fake) DropConversation(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.convs, id)
}

// AddAttachment stores content as the connector keeps an image a user pasted into
// the chat, and returns the path of its URL (/v3/attachments/{id}/views/original)
// to append to the fake's address.
func (f *Fake) AddAttachment(contentType string, data []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := fmt.Sprintf("0-att-%d", f.nextID)
	f.files[id] = attachment{contentType: contentType, data: slices.Clone(data)}
	return "/v3/attachments/" + id + "/views/original"
}

// Fail queues a failure; queued failures are used in order, first match wins.
func (f *Fake) Fail(fl Failure) {
	if fl.Times == 0 {
		fl.Times = 1
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, &fl)
}

// Requests returns a copy of every request received so far.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// Throttled returns how many requests got a 429 from the rate limits.
func (f *Fake) Throttled() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.throttled
}

// Activities returns the activities of a conversation in the order they were posted.
func (f *Fake) Activities(conversationID string) []Activity {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.convs[conversationID]
	if c == nil {
		return nil
	}
	out := make([]Activity, 0, len(c.activities))
	for _, a := range c.activities {
		out = append(out, *a)
	}
	return out
}

// Conversations returns the ids of the conversations that exist.
func (f *Fake) Conversations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, 0, len(f.convs))
	for id := range f.convs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// ServeHTTP implements the Bot Connector routes the bot uses.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	rec := Request{At: now, Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), Body: body}
	reply := func(status int, v any) {
		rec.Status = status
		f.requests = append(f.requests, rec)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		if v != nil {
			json.NewEncoder(w).Encode(v)
		}
	}
	fail := func(status int, code, msg string) {
		reply(status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
	}

	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/"), "/")
	for i := range parts {
		parts[i], _ = url.PathUnescape(parts[i]) // ids hold ':', '@', ';'
	}
	if len(parts) == 5 && parts[0] == "v3" && parts[1] == "attachments" && parts[3] == "views" && r.Method == http.MethodGet {
		rec.Op = "attachment"
		if f.opts.Token != "" && rec.Authorization != "Bearer "+f.opts.Token {
			fail(http.StatusUnauthorized, "Unauthorized", "Authorization has been denied for this request.")
			return
		}
		if fl := f.takeFailure(rec.Op, ""); fl != nil {
			fail(fl.Status, fl.Code, fl.message())
			return
		}
		a, ok := f.files[parts[2]]
		if !ok {
			fail(http.StatusNotFound, "NotFound", "no such attachment")
			return
		}
		rec.Status = http.StatusOK
		f.requests = append(f.requests, rec)
		w.Header().Set("Content-Type", a.contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(a.data)))
		w.Write(a.data)
		return
	}
	// Routes: v3/conversations, v3/conversations/{id}/activities[/{aid}]
	if len(parts) < 2 || parts[0] != "v3" || parts[1] != "conversations" {
		fail(http.StatusNotFound, "NotFound", "no such route")
		return
	}
	switch {
	case len(parts) == 2 && r.Method == http.MethodPost:
		rec.Op = "create"
	case len(parts) == 4 && parts[3] == "activities" && r.Method == http.MethodPost:
		rec.Op = "send"
	case len(parts) == 5 && parts[3] == "activities" && r.Method == http.MethodPut:
		rec.Op = "update"
	case len(parts) == 5 && parts[3] == "activities" && r.Method == http.MethodDelete:
		rec.Op = "delete"
	default:
		fail(http.StatusMethodNotAllowed, "BadArgument", "unsupported route")
		return
	}
	if len(parts) >= 3 {
		rec.Conversation = parts[2]
	}
	if len(parts) == 5 {
		rec.ActivityID = parts[4]
	}
	if f.opts.Token != "" && rec.Authorization != "Bearer "+f.opts.Token {
		fail(http.StatusUnauthorized, "Unauthorized", "Authorization has been denied for this request.")
		return
	}
	if fl := f.takeFailure(rec.Op, rec.Conversation); fl != nil {
		if fl.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(fl.RetryAfter.Seconds()))))
		}
		fail(fl.Status, fl.Code, fl.message())
		return
	}

	if rec.Op == "create" {
		var p struct {
			Bot     struct{ ID string }   `json:"bot"`
			Members []struct{ ID string } `json:"members"`
			Tenant  string                `json:"tenantId"`
			Channel struct {
				Tenant struct{ ID string } `json:"tenant"`
			} `json:"channelData"`
		}
		if err := json.Unmarshal(body, &p); err != nil || len(p.Members) != 1 || p.Channel.Tenant.ID == "" || p.Bot.ID == "" {
			fail(http.StatusBadRequest, "BadArgument", "a 1:1 conversation needs bot, one member and channelData.tenant.id")
			return
		}
		if wait := f.admit(nil, p.Channel.Tenant.ID, now); wait > 0 {
			f.throttle(w, wait, reply)
			return
		}
		// Teams returns the same id for the same bot and user.
		id := "a:" + p.Channel.Tenant.ID + ":" + p.Members[0].ID
		if _, ok := f.convs[id]; !ok {
			f.convs[id] = &conversation{tenant: p.Channel.Tenant.ID, user: p.Members[0].ID, byID: map[string]*Activity{}}
		}
		rec.ReturnedID = id
		reply(http.StatusCreated, map[string]string{"id": id})
		return
	}

	c := f.convs[rec.Conversation]
	if c == nil {
		fail(http.StatusNotFound, "ConversationNotFound", "Conversation not found.")
		return
	}
	var act struct {
		Type string `json:"type"`
	}
	if r.Method != http.MethodDelete {
		if err := json.Unmarshal(body, &act); err != nil || act.Type == "" {
			fail(http.StatusBadRequest, "BadArgument", "activity type is required")
			return
		}
	}
	var existing *Activity
	if rec.ActivityID != "" {
		existing = c.byID[rec.ActivityID]
		if existing == nil || existing.Deleted {
			fail(http.StatusNotFound, "ActivityNotFoundInConversation", "The activity was not found in the conversation.")
			return
		}
	}
	if wait := f.admit(&rec.Conversation, c.tenant, now); wait > 0 {
		f.throttle(w, wait, reply)
		return
	}
	switch rec.Op {
	case "send":
		f.nextID++
		a := &Activity{ID: fmt.Sprintf("1:%d", f.nextID), Body: body}
		c.activities = append(c.activities, a)
		c.byID[a.ID] = a
		rec.ReturnedID = a.ID
		reply(http.StatusCreated, map[string]string{"id": a.ID})
	case "update":
		existing.Body = body
		existing.Updates++
		reply(http.StatusOK, map[string]string{"id": existing.ID})
	case "delete":
		existing.Deleted = true
		reply(http.StatusOK, nil)
	}
}

func (f *Fake) takeFailure(op, conv string) *Failure {
	for i, fl := range f.failures {
		if (fl.Op == "" || fl.Op == op) && (fl.Conversation == "" || fl.Conversation == conv) {
			if fl.Forever {
				return fl
			}
			fl.Times--
			if fl.Times <= 0 {
				f.failures = slices.Delete(f.failures, i, i+1)
			}
			return fl
		}
	}
	return nil
}

func (fl *Failure) message() string {
	if fl.Message != "" {
		return fl.Message
	}
	return "injected failure"
}

// admit counts a request against the limits and returns how long the caller must
// wait if it is over any of them (the request is then not counted).
func (f *Fake) admit(conv *string, tenant string, now time.Time) time.Duration {
	if f.opts.NoLimits {
		return 0
	}
	var wait time.Duration
	if conv != nil {
		wait = max(wait, over(f.convTimes[*conv], f.opts.ConversationLimits, now))
	}
	wait = max(wait, over(f.tenTimes[tenant], f.opts.TenantLimits, now))
	if wait > 0 {
		return wait
	}
	if conv != nil {
		f.convTimes[*conv] = prune(append(f.convTimes[*conv], now), f.opts.ConversationLimits, now)
	}
	f.tenTimes[tenant] = prune(append(f.tenTimes[tenant], now), f.opts.TenantLimits, now)
	return 0
}

// over returns how long until one more request fits every limit, given the times
// of the requests accepted so far (sorted).
func over(times []time.Time, limits []Limit, now time.Time) time.Duration {
	var wait time.Duration
	for _, l := range limits {
		n := 0
		for i := len(times) - 1; i >= 0 && now.Sub(times[i]) < l.Per; i-- {
			n++
		}
		if n >= l.N {
			// The oldest request that keeps the window full must leave it.
			oldest := times[len(times)-l.N]
			wait = max(wait, oldest.Add(l.Per).Sub(now))
		}
	}
	return wait
}

func prune(times []time.Time, limits []Limit, now time.Time) []time.Time {
	var longest time.Duration
	for _, l := range limits {
		longest = max(longest, l.Per)
	}
	i := 0
	for i < len(times) && now.Sub(times[i]) >= longest {
		i++
	}
	return times[i:]
}

func (f *Fake) throttle(w http.ResponseWriter, wait time.Duration, reply func(int, any)) {
	f.throttled++
	// Teams sends whole seconds.
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	reply(http.StatusTooManyRequests, map[string]any{"error": map[string]string{"code": "Throttled", "message": "Too many requests."}})
}
