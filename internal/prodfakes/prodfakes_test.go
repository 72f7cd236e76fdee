package prodfakes

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/multiline/multiline/bot/auth"
	"github.com/multiline/multiline/teamsapp"
)

const (
	testTenant = "6f1c2a4e-8a55-4d8e-9d0b-3c1f0e2a7b91"
	testApp    = "0b7e5a43-1f2d-4c3b-a8e9-5d6c7b8a9f01"
	testSecret = "Wq8~s3cr3t.not-for-logs_0123456789abcdef"
)

type cloud struct {
	ca    *CA
	entra *Entra
	graph *Graph
	proxy *Proxy
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	entra, err := NewEntra(ca, EntraConfig{TenantID: testTenant, ClientID: testApp, ClientSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	graph, err := NewGraph(ca, entra)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := NewProxy(map[string]string{EntraHost + ":443": entra.Addr(), GraphHost + ":443": graph.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close(); graph.Close(); entra.Close() })
	return &cloud{ca: ca, entra: entra, graph: graph, proxy: proxy}
}

func (c *cloud) credential(t *testing.T, secret string) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(testTenant, testApp, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: c.ca.Client(c.proxy)}})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// TestAzidentityThroughProxy: the SDK the service uses gets a Bot Framework token
// from the fake, with instance discovery, over TLS trusted only through the CA.
func TestAzidentityThroughProxy(t *testing.T) {
	c := newCloud(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := c.credential(t, testSecret).GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{BotFrameworkScope}, TenantID: testTenant})
	if err != nil {
		t.Fatal(err)
	}
	if !c.entra.Valid(tok.Token, BotFrameworkScope) || c.entra.Valid(tok.Token, GraphScope) {
		t.Fatalf("token not recorded for its scope")
	}
	var paths []string
	for _, r := range c.entra.Requests() {
		paths = append(paths, r.Method+" "+r.Path)
		if r.Form.Get("client_secret") != "" {
			t.Fatal("the secret was recorded")
		}
	}
	for _, want := range []string{"GET /common/discovery/instance", "GET /" + testTenant + "/v2.0/.well-known/openid-configuration", "POST /" + testTenant + "/oauth2/v2.0/token"} {
		if !strings.Contains(strings.Join(paths, "\n"), want) {
			t.Errorf("no %s in %q", want, paths)
		}
	}
	if got := c.proxy.Tunnels(); len(got) == 0 || got[0] != EntraHost+":443" {
		t.Errorf("tunnels %q", got)
	}
}

func TestEntraRefusesWhatEntraRefuses(t *testing.T) {
	c := newCloud(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.credential(t, "wrong").GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{BotFrameworkScope}})
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Fatal("the error names the secret")
	}
	_, err = c.credential(t, testSecret).GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err == nil || !strings.Contains(err.Error(), "AADSTS500011") {
		t.Fatalf("foreign resource: %v", err)
	}
	hc := c.ca.Client(c.proxy)
	for name, form := range map[string]url.Values{
		"grant":        {"grant_type": {"password"}, "client_id": {testApp}, "client_secret": {testSecret}, "scope": {BotFrameworkScope}},
		"client":       {"grant_type": {"client_credentials"}, "client_id": {"someone-else"}, "client_secret": {testSecret}, "scope": {BotFrameworkScope}},
		"no /.default": {"grant_type": {"client_credentials"}, "client_id": {testApp}, "client_secret": {testSecret}, "scope": {"https://api.botframework.com"}},
	} {
		resp, err := hc.PostForm("https://"+EntraHost+"/"+testTenant+"/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"error_codes"`) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
	if n := len(c.entra.Issued()); n != 0 {
		t.Fatalf("%d tokens issued for refused requests", n)
	}
}

func TestProxyRefusesOtherHosts(t *testing.T) {
	c := newCloud(t)
	hc := c.ca.Client(c.proxy)
	hc.Timeout = 5 * time.Second
	if _, err := hc.Get("https://example.com/"); err == nil {
		t.Fatal("example.com was reached")
	}
	if got := c.proxy.Refused(); len(got) != 1 || got[0] != "example.com:443" {
		t.Fatalf("refused %q", got)
	}
}

func TestGraphRefusesWithoutPermissions(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	graphTok, err := c.credential(t, testSecret).GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{GraphScope}})
	if err != nil {
		t.Fatal(err)
	}
	botTok, err := c.credential(t, testSecret).GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{BotFrameworkScope}})
	if err != nil {
		t.Fatal(err)
	}
	hc := c.ca.Client(c.proxy)
	for tok, want := range map[string]int{"": 401, botTok.Token: 401, graphTok.Token: 403} {
		req, _ := http.NewRequest("GET", "https://"+GraphHost+"/v1.0/users/x/teamwork/installedApps", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || !strings.Contains(string(b), `"code"`) {
			t.Errorf("token %.10q: %d %s", tok, resp.StatusCode, b)
		}
	}
}

func TestChannelTokenPassesTheBotValidator(t *testing.T) {
	iss, err := NewBotFrameworkIssuer()
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	v, err := auth.New(auth.Config{AppID: testApp, AppType: auth.SingleTenant, TenantID: testTenant, MetadataURL: iss.MetadataURL()})
	if err != nil {
		t.Fatal(err)
	}
	svc := "http://127.0.0.1:9/"
	ctx := context.Background()
	if _, err := v.Validate(ctx, "Bearer "+iss.ChannelToken(testApp, svc), svc, "msteams"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(ctx, "Bearer "+iss.ChannelToken(testApp, svc), "http://127.0.0.1:10/", "msteams"); err == nil {
		t.Fatal("a token for another service url passed")
	}
	if _, err := v.Validate(ctx, "Bearer "+iss.ChannelToken(testApp, svc), svc, "webchat"); err == nil {
		t.Fatal("a token for a channel the key is not endorsed for passed")
	}
	if _, err := v.Validate(ctx, "Bearer "+iss.ChannelToken("another-app", svc), svc, "msteams"); err == nil {
		t.Fatal("a token for another app passed")
	}
}

func TestSSOTokenPassesTheTab(t *testing.T) {
	iss, err := NewTenantIssuer(testTenant)
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	a, err := teamsapp.NewEntraAuthenticator(teamsapp.EntraConfig{TenantID: testTenant, AppID: testApp, MetadataURL: iss.MetadataURL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, aud := range []string{"", "api://multiline.example.test/" + testApp} {
		id, err := a.Authenticate(ctx, iss.SSOToken(testApp, SSOUser{ObjectID: "11111111-2222-3333-4444-555555555555", Name: "Ann", Audience: aud}))
		if err != nil || id.ObjectID != "11111111-2222-3333-4444-555555555555" || id.TenantID != testTenant {
			t.Fatalf("aud %q: %+v %v", aud, id, err)
		}
	}
	if _, err := a.Authenticate(ctx, iss.SSOToken(testApp, SSOUser{ObjectID: "x", TenantID: "00000000-0000-0000-0000-000000000000"})); err == nil {
		t.Fatal("a foreign tenant's token passed")
	}
}

// TestManagedIdentity: the SDK's managed identity credential, finding App
// Service's endpoint in the environment, gets a Bot Framework token of the
// user-assigned identity; the endpoint refuses what App Service refuses.
func TestManagedIdentity(t *testing.T) {
	c := newCloud(t)
	mi := NewManagedIdentity(c.entra, testApp)
	t.Cleanup(mi.Close)
	for k, v := range mi.Env() {
		t.Setenv(k, v) // the SDK reads them when the credential is made
	}
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(testApp)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{BotFrameworkScope}})
	if err != nil {
		t.Fatal(err)
	}
	if !c.entra.Valid(tok.Token, BotFrameworkScope) || c.entra.Valid(tok.Token, GraphScope) {
		t.Fatal("the managed identity's token is not Entra's for the Bot Framework")
	}
	if rs := mi.Requests(); len(rs) != 1 || rs[0].Status != 200 || rs[0].Query.Get("client_id") != testApp {
		t.Fatalf("requests %+v, want one granted for the identity", rs)
	}

	endpoint := mi.Env()["IDENTITY_ENDPOINT"]
	ok := url.Values{"api-version": {"2019-08-01"}, "resource": {"https://api.botframework.com"}, "client_id": {testApp}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for key, vs := range ok {
			q[key] = vs
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	for _, tc := range []struct {
		name   string
		header string
		query  url.Values
		want   int
	}{
		{"granted", mi.Header(), ok, 200},
		{"no header", "", ok, 401},
		{"wrong header", "x" + mi.Header(), ok, 401},
		{"old api-version", mi.Header(), with("api-version", "2017-09-01"), 400},
		{"no resource", mi.Header(), with("resource", ""), 400},
		{"no client_id (system-assigned)", mi.Header(), with("client_id", ""), 400},
		{"another identity", mi.Header(), with("client_id", testTenant), 400},
		{"a resource not granted", mi.Header(), with("resource", "https://vault.azure.net"), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", endpoint+"?"+tc.query.Encode(), nil)
			if tc.header != "" {
				req.Header.Set("X-IDENTITY-HEADER", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
		})
	}
}
