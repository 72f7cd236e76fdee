package manifest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunBuild(t *testing.T) {
	const bot = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	envOf := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // substring; empty means success
		check   func(t *testing.T, o map[string]any)
	}{
		{
			name: "defaults from environment",
			env:  map[string]string{"MicrosoftAppId": bot, "MULTILINE_PUBLIC_URL": "https://chat.contoso.example/"},
			check: func(t *testing.T, m map[string]any) {
				if got := jsonPath(m, "validDomains.0"); got != "chat.contoso.example" {
					t.Errorf("domain = %v", got)
				}
				if got := jsonPath(m, "id"); got != DefaultAppID(bot) {
					t.Errorf("id = %v, want the id derived from the bot id", got)
				}
				if got := jsonPath(m, "version"); got != "1.0.0" {
					t.Errorf("version = %v", got)
				}
			},
		},
		{
			name: "flags override environment",
			args: []string{"--app-id", "3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21", "--domain", "m.example.org", "--version", "2.0.1"},
			env:  map[string]string{"MicrosoftAppId": bot, "MULTILINE_PUBLIC_URL": "https://chat.contoso.example"},
			check: func(t *testing.T, m map[string]any) {
				if got := jsonPath(m, "id"); got != "3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21" {
					t.Errorf("id = %v", got)
				}
				if got := jsonPath(m, "staticTabs.0.contentUrl"); got != "https://m.example.org/tab/" {
					t.Errorf("contentUrl = %v", got)
				}
			},
		},
		{name: "no bot id", env: map[string]string{"MULTILINE_PUBLIC_URL": "https://chat.contoso.example"}, wantErr: "invalid bot-id"},
		{name: "no domain", env: map[string]string{"MicrosoftAppId": bot}, wantErr: "pass --domain or set MULTILINE_PUBLIC_URL"},
		{name: "public url with path", env: map[string]string{"MicrosoftAppId": bot, "MULTILINE_PUBLIC_URL": "https://contoso.example/multiline"}, wantErr: "no path"},
		{name: "public url http", env: map[string]string{"MicrosoftAppId": bot, "MULTILINE_PUBLIC_URL": "http://contoso.example"}, wantErr: "must use https"},
		{name: "bad version", args: []string{"--version", "v1"}, env: map[string]string{"MicrosoftAppId": bot, "MULTILINE_PUBLIC_URL": "https://chat.contoso.example"}, wantErr: "invalid version \"v1\""},
		{name: "unknown flag", args: []string{"--colour", "red"}, wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "appPackage.zip")
			var stdout bytes.Buffer
			err := RunBuild(append([]string{"--out", out}, tt.args...), envOf(tt.env), &stdout)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans lines: %q", err)
				}
				if _, statErr := os.Stat(out); statErr == nil {
					t.Error("a package was written despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(stdout.String(), "wrote "+out) {
				t.Errorf("stdout = %q", stdout.String())
			}
			pkg, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(unzip(t, pkg)[ManifestFile], &m); err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
}

func TestDefaultAppIDIsStable(t *testing.T) {
	a := DefaultAppID("9A8B7C6D-5E4F-4A3B-8C2D-1E0F9A8B7C6D")
	b := DefaultAppID("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
	if a != b || !guidRE.MatchString(a) {
		t.Fatalf("DefaultAppID not a stable GUID: %q vs %q", a, b)
	}
	if a == DefaultAppID("00000000-0000-0000-0000-000000000001") {
		t.Fatal("different bots share an app id")
	}
}

func TestTabDeepLink(t *testing.T) {
	got := TabDeepLink("3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21", "thread 42")
	want := "https://teams.microsoft.com/l/entity/3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21/multiline?context=%7B%22subEntityId%22%3A%22thread%2042%22%7D"
	if got != want {
		t.Fatalf("TabDeepLink = %s\nwant            %s", got, want)
	}
}

// TestReviewDeepLink: the review page's address on a message, in the deep
// link's context as Teams decodes it (decodeURIComponent, then JSON): "&" and
// "?" escaped once, no "\u0026" and no "+".
func TestReviewDeepLink(t *testing.T) {
	if got, want := ReviewSubEntity("aB3dE5", "aB3dE5-12"), "review?message=aB3dE5-12&thread=aB3dE5"; got != want {
		t.Fatalf("ReviewSubEntity = %q, want %q", got, want)
	}
	got := ReviewDeepLink("3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21", "aB3dE5", "aB3dE5-12")
	want := "https://teams.microsoft.com/l/entity/3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21/multiline?context=" +
		"%7B%22subEntityId%22%3A%22review%3Fmessage%3DaB3dE5-12%26thread%3DaB3dE5%22%7D"
	if got != want {
		t.Fatalf("ReviewDeepLink = %s\nwant             %s", got, want)
	}
}
