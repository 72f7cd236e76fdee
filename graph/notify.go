package graph

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/multiline/multiline/manifest"
)

// Notification is an activity feed notification about a WeChat thread.
type Notification struct {
	// ThreadID identifies the thread; the deep link opens the tab on it.
	ThreadID string
	// Preview is the start of the consumer's message; Teams shows up to
	// 150 characters.
	Preview string
	// Actor is the WeChat contact's display name, shown in the title
	// ("New WeChat message from {contact}").
	Actor string
	// WebURL is the Teams deep link opened on click; empty means the
	// MultiLine tab on ThreadID (needs Config.TeamsAppID).
	WebURL string
	// ActivityType defaults to manifest.ActivityNewMessage; it must be one
	// the manifest declares.
	ActivityType string
	// Params are the activity type's template parameters besides
	// TemplateParamContact (which Actor fills), by name.
	Params map[string]string
	// ChainKey groups notifications: a newer one of the same key replaces the
	// older one in the feed. Empty means ThreadID.
	ChainKey string
}

// previewMax is what Teams displays of previewText.
const previewMax = 150

// PermissionSendActivity is the application permission sendActivityNotification needs.
const PermissionSendActivity = "TeamsActivity.Send"

// ErrInvalidNotification reports a Notification that cannot be sent.
var ErrInvalidNotification = errors.New("graph: invalid notification")

// NotifyNewMessage posts an activity feed notification to the Teams user
// userID (Entra object id or UPN). The MultiLine app must be installed for
// the user (see InstallAppForUser). Notifications of one chain (by default,
// of one thread) share a chain id, so a newer one replaces the older one in
// the feed instead of piling up.
func (c *Client) NotifyNewMessage(ctx context.Context, userID string, n Notification) error {
	const op = "send activity notification"
	if strings.TrimSpace(userID) == "" {
		return fmt.Errorf("%w: empty user id", ErrInvalidNotification)
	}
	if n.ThreadID == "" {
		return fmt.Errorf("%w: empty thread id", ErrInvalidNotification)
	}
	link := n.WebURL
	if link == "" {
		if c.teamsAppID == "" {
			return fmt.Errorf("%w: no WebURL and no Config.TeamsAppID to build the deep link", ErrInvalidNotification)
		}
		link = manifest.TabDeepLink(c.teamsAppID, n.ThreadID)
	}
	activity := n.ActivityType
	if activity == "" {
		activity = manifest.ActivityNewMessage
	}
	actor := n.Actor
	if strings.TrimSpace(actor) == "" {
		actor = "a WeChat contact"
	}

	body := users.NewItemTeamworkSendActivityNotificationPostRequestBody()
	topic := models.NewTeamworkActivityTopic()
	source := models.TEXT_TEAMWORKACTIVITYTOPICSOURCE
	topic.SetSource(&source)
	topic.SetValue(ptr("MultiLine"))
	topic.SetWebUrl(&link)
	body.SetTopic(topic)
	body.SetActivityType(&activity)
	chain := n.ChainKey
	if chain == "" {
		chain = n.ThreadID
	}
	body.SetChainId(ptr(chainID(chain)))
	preview := models.NewItemBody()
	preview.SetContent(ptr(truncate(n.Preview, previewMax)))
	body.SetPreviewText(preview)
	params := []models.KeyValuePairable{keyValue(manifest.TemplateParamContact, actor)}
	for _, name := range slices.Sorted(maps.Keys(n.Params)) {
		if name == manifest.TemplateParamContact {
			return fmt.Errorf("%w: parameter %q is Actor's", ErrInvalidNotification, name)
		}
		params = append(params, keyValue(name, n.Params[name]))
	}
	body.SetTemplateParameters(params)

	return c.call(ctx, op, PermissionSendActivity, func(ctx context.Context) error {
		return c.sdk.Users().ByUserId(userID).Teamwork().SendActivityNotification().Post(ctx, body, nil)
	})
}

func keyValue(name, value string) models.KeyValuePairable {
	kv := models.NewKeyValuePair()
	kv.SetName(&name)
	kv.SetValue(&value)
	return kv
}

// chainID derives a stable positive chain id from a chain key.
func chainID(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int64(h.Sum64() >> 1)
}

// truncate cuts s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func ptr[T any](v T) *T { return &v }
