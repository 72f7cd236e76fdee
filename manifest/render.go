package manifest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"text/template"
)

// Activity types declared in the manifest. sendActivityNotification only
// accepts types the installed manifest declares, so Graph callers must use
// these constants rather than their own strings.
const (
	// ActivityNewMessage announces a consumer's WeChat message; its template
	// parameter is TemplateParamContact.
	ActivityNewMessage = "wechatMessage"
	// ActivityThreadAssigned announces that a thread was routed to the
	// employee or that they were added to it.
	ActivityThreadAssigned = "wechatThreadAssigned"
	// ActivityComplianceAlert tells a compliance reviewer that a lexicon rule
	// blocked or flagged a message; its template parameters are
	// TemplateParamRule, TemplateParamAction, TemplateParamContact and
	// TemplateParamEmployee.
	ActivityComplianceAlert = "complianceAlert"
	// TemplateParamContact names the WeChat contact in the templates above.
	// It is not {actor}: Teams fills {actor} itself with the app's name for
	// application-permission calls.
	TemplateParamContact = "contact"
	// TemplateParamRule names the lexicon rules of a compliance alert.
	TemplateParamRule = "rule"
	// TemplateParamAction is what the rules did ("blocked" or "flagged").
	TemplateParamAction = "action"
	// TemplateParamEmployee names the thread's employees in a compliance alert.
	TemplateParamEmployee = "employee"
)

// ComplianceAlertTemplate is the reason line of ActivityComplianceAlert, as
// the manifest declares it.
const ComplianceAlertTemplate = "Lexicon rule {" + TemplateParamRule + "} {" + TemplateParamAction + "} a message between {" +
	TemplateParamContact + "} and {" + TemplateParamEmployee + "}"

// TabEntityID is the entityId of the MultiLine static tab; deep links
// address the tab through it.
const TabEntityID = "multiline"

// AccentColor is WeChat-like green, also the icons' background.
const AccentColor = "#07C160"

// The template declares no resource-specific consent (authorization
// section): notifications use the tenant-wide TeamsActivity.Send application
// permission instead of TeamsActivity.Send.User, because an app that asks
// for RSC can only be installed proactively with the broader
// TeamsAppInstallation.ReadWriteAndConsent… permissions.
//
//go:embed manifest.json.tmpl
var manifestTemplate string

// tmpl escapes every value through encoding/json so no option can break
// the JSON structure, whatever characters it holds.
var tmpl = template.Must(template.New("manifest.json").Funcs(template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}).Option("missingkey=error").Parse(manifestTemplate))

type templateData struct {
	Options
	AccentColor             string
	TabEntityID             string
	TabURL                  string
	ActivityNewMessage      string
	ActivityThreadAssigned  string
	ActivityComplianceAlert string
	ComplianceAlertTemplate string
}

// Manifest renders manifest.json for o after validating it.
func Manifest(o Options) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	var buf bytes.Buffer
	err := tmpl.Execute(&buf, templateData{
		Options:                 o,
		AccentColor:             AccentColor,
		TabEntityID:             TabEntityID,
		TabURL:                  "https://" + o.Domain + "/tab/",
		ActivityNewMessage:      ActivityNewMessage,
		ActivityThreadAssigned:  ActivityThreadAssigned,
		ActivityComplianceAlert: ActivityComplianceAlert,
		ComplianceAlertTemplate: ComplianceAlertTemplate,
	})
	if err != nil {
		return nil, fmt.Errorf("render manifest.json: %w", err)
	}
	// Re-indent so the file is canonical JSON whatever the template's layout.
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("render manifest.json: template produced invalid JSON: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// TabDeepLink returns the Teams deep link that opens the MultiLine tab of
// the app teamsAppID on the given thread. The tab reads the thread id from
// the Teams context's subPageId (subEntityId in older SDKs).
func TabDeepLink(teamsAppID, threadID string) string {
	return entityLink(teamsAppID, threadID)
}

// ReviewSubEntity is the subEntityId that sends the tab to its compliance
// review page on one message of a thread: "review?thread=…&message=…". No
// thread id can be mistaken for it (thread ids are [0-9a-zA-Z]); the tab
// (teamsapp/ui/src/deeplink.ts) reads it back.
func ReviewSubEntity(threadID, messageID string) string {
	return "review?" + url.Values{"thread": {threadID}, "message": {messageID}}.Encode()
}

// ReviewDeepLink returns the Teams deep link that opens the MultiLine tab of
// the app teamsAppID on its review page, at the message messageID of thread
// threadID (a lexicon block or flag).
func ReviewDeepLink(teamsAppID, threadID, messageID string) string {
	return entityLink(teamsAppID, ReviewSubEntity(threadID, messageID))
}

// entityLink is the deep link to the MultiLine tab with subEntityID in its context.
func entityLink(teamsAppID, subEntityID string) string {
	// Without HTML escaping: "&" stays "&" (%26), not "\u0026", in the link.
	var ctx bytes.Buffer
	enc := json.NewEncoder(&ctx)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"subEntityId": subEntityID})
	// %20 rather than "+" for spaces: Teams clients decode the context
	// with decodeURIComponent, which leaves "+" as is.
	return "https://teams.microsoft.com/l/entity/" + url.PathEscape(teamsAppID) + "/" + TabEntityID +
		"?context=" + strings.ReplaceAll(url.QueryEscape(strings.TrimSuffix(ctx.String(), "\n")), "+", "%20")
}
