package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// Defaults for the public Microsoft cloud.
const (
	DefaultGraphBaseURL  = "https://graph.microsoft.com/v1.0"
	DefaultAuthorityHost = "https://login.microsoftonline.com/"
	// graphScope is the app-only scope: whatever application permissions
	// the admin consented to are in the token.
	graphScope = "https://graph.microsoft.com/.default"
)

// Config configures a Client. TenantID, ClientID and ClientSecret are those
// of the bot's Entra app registration (MicrosoftAppTenantId, MicrosoftAppId,
// MicrosoftAppPassword).
type Config struct {
	TenantID     string
	ClientID     string
	ClientSecret string
	// GraphBaseURL replaces https://graph.microsoft.com/v1.0 (tests,
	// national clouds). Hosts other than graph.microsoft.com get the token
	// too, so only point it at a Graph you trust.
	GraphBaseURL string
	// AuthorityHost replaces https://login.microsoftonline.com/. When set,
	// instance discovery is disabled: the host is taken as authoritative.
	AuthorityHost string
	// HTTPClient carries both token and Graph requests; nil means
	// NewHTTPClient(30 s). Either way its answers are counted in
	// multiline_http_client_responses_total (service graph or entra).
	HTTPClient *http.Client
	// TeamsAppID is the Teams app id of the MultiLine manifest, used to
	// build deep links to the tab when a Notification has no WebURL.
	TeamsAppID string
	// MaxAttempts bounds the tries of one call when Graph throttles
	// (default 3). MaxRetryAfter is the longest Retry-After honoured by
	// waiting (default 30 s); a longer one is returned to the caller as a
	// *Error with ErrThrottled so a job queue can reschedule instead.
	MaxAttempts   int
	MaxRetryAfter time.Duration
}

// Client calls Microsoft Graph with the bot's application identity. It is
// safe for concurrent use.
type Client struct {
	sdk        *msgraphsdk.GraphServiceClient
	baseURL    string
	teamsAppID string
	attempts   int
	maxWait    time.Duration
	// sleep waits between attempts; tests replace it to record the waits.
	sleep func(ctx context.Context, d time.Duration) error

	// catalogID is the org catalog's id of the app teamsAppID, found once
	// (InstallForUser); catalogMu makes concurrent first installs look it up once.
	catalogMu sync.Mutex
	catalogID string
}

// ErrConfig reports a Config that cannot work; the message names the field.
var ErrConfig = errors.New("graph: invalid configuration")

// New validates cfg and returns a Client. It does not contact Entra or
// Graph: the first token is fetched by the first call.
func New(cfg Config) (*Client, error) {
	for _, f := range []struct{ name, value string }{
		{"TenantID (MicrosoftAppTenantId)", cfg.TenantID},
		{"ClientID (MicrosoftAppId)", cfg.ClientID},
		{"ClientSecret (MicrosoftAppPassword)", cfg.ClientSecret},
	} {
		if strings.TrimSpace(f.value) == "" {
			return nil, fmt.Errorf("%w: %s is empty", ErrConfig, f.name)
		}
	}
	base := strings.TrimRight(cfg.GraphBaseURL, "/")
	if base == "" {
		base = DefaultGraphBaseURL
	}
	bu, err := url.Parse(base)
	if err != nil || bu.Host == "" || (bu.Scheme != "https" && bu.Scheme != "http") {
		return nil, fmt.Errorf("%w: GraphBaseURL %q is not an absolute URL", ErrConfig, cfg.GraphBaseURL)
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = NewHTTPClient(30 * time.Second)
	}
	httpClient = withCounting(httpClient, bu.Host)

	credOpts := &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{Transport: httpClient},
	}
	if cfg.AuthorityHost != "" {
		credOpts.ClientOptions.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: cfg.AuthorityHost}
		credOpts.DisableInstanceDiscovery = true
	}
	cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret, credOpts)
	if err != nil {
		return nil, fmt.Errorf("%w: client secret credential: %v", ErrConfig, err)
	}
	// Kiota silently sends no token to hosts outside this list, so the
	// configured Graph host must be in it.
	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{graphScope}, []string{bu.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("%w: authentication provider: %v", ErrConfig, err)
	}

	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, nil, nil, sdkHTTPClient(httpClient))
	if err != nil {
		return nil, fmt.Errorf("graph: request adapter: %w", err)
	}
	adapter.SetBaseUrl(base)

	c := &Client{
		sdk:        msgraphsdk.NewGraphServiceClient(adapter),
		baseURL:    base,
		teamsAppID: cfg.TeamsAppID,
		attempts:   cfg.MaxAttempts,
		maxWait:    cfg.MaxRetryAfter,
		sleep:      sleepCtx,
	}
	if c.attempts <= 0 {
		c.attempts = 3
	}
	if c.maxWait <= 0 {
		c.maxWait = 30 * time.Second
	}
	return c, nil
}

// sdkHTTPClient wraps base's transport in the SDK's default middleware,
// except that its retry handler never retries: retries are done by
// Client.call so Retry-After is bounded and surfaced as a typed error.
func sdkHTTPClient(base *http.Client) *http.Client {
	opts := msgraphsdk.GetDefaultClientOptions()
	kiotaMW, _ := khttp.GetDefaultMiddlewaresWithOptions(&khttp.RetryHandlerOptions{
		ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false },
	})
	mw := append([]khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&opts),
		khttp.NewUrlReplaceHandler(true, msgraphcore.ReplacementPairs),
	}, kiotaMW...)
	parent := base.Transport
	if parent == nil {
		parent = http.DefaultTransport
	}
	return &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(parent, mw...),
		Timeout:   base.Timeout,
		// Graph answers with redirects only for content downloads, which
		// the SDK's redirect handler follows itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Jar:           base.Jar,
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var _ policy.Transporter = (*http.Client)(nil)
