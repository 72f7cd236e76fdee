package prodfakes

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The activity feed of the fake Graph, from Microsoft's documentation of
// userTeamwork: sendActivityNotification and "Send activity feed notifications
// to users in Microsoft Teams":
//
//   - the app needs the application permission TeamsActivity.Send;
//   - the activity type must be declared in the app's manifest, and
//     templateParameters give a value to each {parameter} of its templateText
//     ({actor} Teams fills itself);
//   - a topic of source "text" needs a value and a webUrl, a Teams deep link;
//     Teams refuses a webUrl longer than 1024 characters (BadRequest
//     UnknownError, as reported on Microsoft's Teams developer forum);
//   - the app must be installed for the recipient; for a user the directory
//     does not hold, Graph answers 404;
//   - success is 204 No Content.
//
// Throttling is Graph's 429 with Retry-After, on the test's demand (Throttle).

// PermissionSendActivity is the application permission sendActivityNotification needs.
const PermissionSendActivity = "TeamsActivity.Send"

var activityPath = regexp.MustCompile(`^/v1\.0/users/([^/]+)/teamwork/sendActivityNotification$`)

// ActivityNotification is a notification the fake accepted.
type ActivityNotification struct {
	At time.Time
	// User is the recipient as the request's path named them.
	User         string
	ActivityType string
	ChainID      int64
	Preview      string
	// Params are the template parameters by name.
	Params map[string]string
	// Topic is the topic's value, WebURL the link a click opens.
	Topic  string
	WebURL string
}

// activityFeed is what the tenant's admin and users did, as far as the feed
// goes, and what it received. Guarded by Graph.mu.
type activityFeed struct {
	granted   map[string]bool
	users     map[string]bool // lower-case object id → the app is installed for them
	templates map[string]string
	throttle  map[string]throttle // lower-case object id
	got       []ActivityNotification
}

type throttle struct {
	n     int
	after time.Duration
}

// Grant gives the app application permissions, with admin consent.
func (g *Graph) Grant(permissions ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.feed.granted == nil {
		g.feed.granted = map[string]bool{}
	}
	for _, p := range permissions {
		g.feed.granted[p] = true
	}
}

func (g *Graph) granted(p string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.feed.granted[p]
}

// AddUser puts the Entra user objectID in the directory, with the MultiLine
// app installed for them or not.
func (g *Graph) AddUser(objectID string, appInstalled bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.feed.users == nil {
		g.feed.users = map[string]bool{}
	}
	g.feed.users[strings.ToLower(objectID)] = appInstalled
}

// DeclareActivityTypes reads the activity types of an app manifest
// (manifest.json's activities.activityTypes), as Teams does when the app is
// uploaded.
func (g *Graph) DeclareActivityTypes(manifestJSON []byte) error {
	var m struct {
		Activities struct {
			ActivityTypes []struct {
				Type         string `json:"type"`
				TemplateText string `json:"templateText"`
			} `json:"activityTypes"`
		} `json:"activities"`
	}
	if err := json.Unmarshal(manifestJSON, &m); err != nil {
		return fmt.Errorf("fake graph: manifest: %w", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.feed.templates = map[string]string{}
	for _, a := range m.Activities.ActivityTypes {
		g.feed.templates[a.Type] = a.TemplateText
	}
	return nil
}

// Throttle answers the next n notifications to objectID with 429 and
// Retry-After.
func (g *Graph) Throttle(objectID string, n int, retryAfter time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.feed.throttle == nil {
		g.feed.throttle = map[string]throttle{}
	}
	g.feed.throttle[strings.ToLower(objectID)] = throttle{n: n, after: retryAfter}
}

// Notifications returns the notifications accepted so far.
func (g *Graph) Notifications() []ActivityNotification {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.feed.got)
}

// activityBody is sendActivityNotification's request body.
type activityBody struct {
	Topic *struct {
		Source string `json:"source"`
		Value  string `json:"value"`
		WebURL string `json:"webUrl"`
	} `json:"topic"`
	ActivityType string `json:"activityType"`
	ChainID      *int64 `json:"chainId"`
	PreviewText  *struct {
		Content string `json:"content"`
	} `json:"previewText"`
	TemplateParameters []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"templateParameters"`
	TeamsAppID string `json:"teamsAppId"`
	IconID     string `json:"iconId"`
}

var templateParam = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

// sendActivity checks and records one notification; reply writes Graph's
// error answers.
func (g *Graph) sendActivity(w http.ResponseWriter, r *http.Request, rec *GraphRequest, reply func(int, string, string)) {
	user := activityPath.FindStringSubmatch(r.URL.Path)[1]
	bad := func(format string, a ...any) { reply(http.StatusBadRequest, "BadRequest", fmt.Sprintf(format, a...)) }
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		bad("Content-Type must be application/json, not %q", ct)
		return
	}
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			bad("the body is not gzip: %v", err)
			return
		}
		rd = zr
	}
	raw, err := io.ReadAll(io.LimitReader(rd, 1<<20))
	if err != nil {
		bad("reading the body: %v", err)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var b activityBody
	if err := dec.Decode(&b); err != nil {
		bad("Invalid request body: %v", err)
		return
	}
	g.mu.Lock()
	tmpl, declared := g.feed.templates[b.ActivityType]
	installed, known := g.feed.users[strings.ToLower(user)]
	th := g.feed.throttle[strings.ToLower(user)]
	throttled := th.n > 0
	if throttled {
		th.n--
		g.feed.throttle[strings.ToLower(user)] = th
	}
	g.mu.Unlock()
	switch {
	case throttled:
		w.Header().Set("Retry-After", strconv.Itoa(int(th.after/time.Second)))
		reply(http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
		return
	case b.Topic == nil:
		bad("topic is required")
		return
	case b.Topic.Source != "text" && b.Topic.Source != "entityUrl":
		bad("topic.source must be entityUrl or text, not %q", b.Topic.Source)
		return
	case b.Topic.Source == "text" && (strings.TrimSpace(b.Topic.Value) == "" || b.Topic.WebURL == ""):
		bad("a topic of source text needs a value and a webUrl")
		return
	case b.Topic.Source == "text" && !strings.HasPrefix(b.Topic.WebURL, "https://teams.microsoft.com/l/"):
		bad("topic.webUrl must be a Teams deep link, not %q", b.Topic.WebURL)
		return
	case len(b.Topic.WebURL) > 1024:
		bad("UnknownError")
		return
	case !declared:
		bad("Activity type %q is not declared in the app manifest.", b.ActivityType)
		return
	case b.PreviewText == nil:
		bad("previewText is required")
		return
	}
	params := map[string]string{}
	for _, p := range b.TemplateParameters {
		if _, twice := params[p.Name]; twice {
			bad("template parameter %q is given twice", p.Name)
			return
		}
		params[p.Name] = p.Value
	}
	want := map[string]bool{}
	for _, m := range templateParam.FindAllStringSubmatch(tmpl, -1) {
		if m[1] != "actor" {
			want[m[1]] = true
		}
	}
	if got := slices.Sorted(maps.Keys(params)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		bad("templateParameters %v do not match the template %q of activity type %q", got, tmpl, b.ActivityType)
		return
	}
	switch {
	case !known:
		reply(http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", user))
		return
	case !installed:
		reply(http.StatusForbidden, "Forbidden", "The Teams app is not installed for the recipient user.")
		return
	}
	n := ActivityNotification{At: time.Now(), User: user, ActivityType: b.ActivityType, Params: params,
		Topic: b.Topic.Value, WebURL: b.Topic.WebURL, Preview: b.PreviewText.Content}
	if b.ChainID != nil {
		n.ChainID = *b.ChainID
	}
	g.mu.Lock()
	g.feed.got = append(g.feed.got, n)
	g.mu.Unlock()
	rec.Status = http.StatusNoContent
	g.mu.Lock()
	g.requests = append(g.requests, *rec)
	g.mu.Unlock()
	w.Header().Set("request-id", uuid())
	w.WriteHeader(http.StatusNoContent)
}
