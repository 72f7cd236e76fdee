package manifest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/multiline/multiline/internal/testenv"
)

func validOptions() Options {
	return Options{
		AppID:   "3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21",
		BotID:   "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		Version: "1.2.3",
		Domain:  "multiline.example.com",
	}
}

func unzip(t *testing.T, pkg []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatalf("package is not a zip: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
	}
	return files
}

func TestBuildLayoutAndContent(t *testing.T) {
	pkg, err := Build(validOptions())
	if err != nil {
		t.Fatal(err)
	}
	files := unzip(t, pkg)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	if got, want := strings.Join(names, ","), "color.png,manifest.json,outline.png"; got != want {
		t.Fatalf("zip holds %s, want exactly %s at the root", got, want)
	}
	checkIcons(t, files[ColorFile], files[OutlineFile])

	var m map[string]any
	if err := json.Unmarshal(files[ManifestFile], &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	// Values that other parts of the product depend on, read by JSON path.
	tests := []struct {
		path string
		want any
	}{
		{"$schema", "https://developer.microsoft.com/json-schemas/teams/v1.30/MicrosoftTeams.schema.json"},
		{"manifestVersion", "1.30"},
		{"id", "3f2c6a1e-8d4b-4c1a-9e2f-0b7d5a6c4e21"},
		{"version", "1.2.3"},
		{"name.short", "MultiLine"},
		{"icons.color", "color.png"},
		{"icons.outline", "outline.png"},
		{"bots.0.botId", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
		{"bots.0.scopes.0", "personal"},
		{"bots.0.commandLists.0.scopes.0", "personal"},
		{"bots.0.commandLists.0.commands.0.title", "help"},
		{"bots.0.commandLists.0.commands.1.title", "threads"},
		{"bots.0.commandLists.0.commands.2.title", "leave"},
		{"staticTabs.0.name", "MultiLine"},
		{"staticTabs.0.entityId", TabEntityID},
		{"staticTabs.0.contentUrl", "https://multiline.example.com/tab/"},
		{"staticTabs.0.scopes.0", "personal"},
		{"validDomains.0", "multiline.example.com"},
		{"webApplicationInfo.id", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
		{"webApplicationInfo.resource", "api://multiline.example.com/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
		{"activities.activityTypes.0.type", ActivityNewMessage},
		{"activities.activityTypes.0.templateText", "New WeChat message from {" + TemplateParamContact + "}"},
		{"activities.activityTypes.1.type", ActivityThreadAssigned},
		{"activities.activityTypes.2.type", ActivityComplianceAlert},
		{"activities.activityTypes.2.templateText", "Lexicon rule {rule} {action} a message between {contact} and {employee}"},
		// No resource-specific permissions: with them, proactive install
		// would need the broader ReadWriteAndConsent… permission.
		{"authorization", nil},
	}
	for _, tt := range tests {
		if got := jsonPath(m, tt.path); got != tt.want {
			t.Errorf("%s = %#v, want %#v", tt.path, got, tt.want)
		}
	}

	again, err := Build(validOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pkg, again) {
		t.Error("two builds with the same options differ; the package must be reproducible")
	}
}

func jsonPath(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func TestValidateRefusesInvalidOptions(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Options)
		field string
	}{
		{"app id not a guid", func(o *Options) { o.AppID = "multiline" }, "app-id"},
		{"app id missing", func(o *Options) { o.AppID = "" }, "app-id"},
		{"bot id braces", func(o *Options) { o.BotID = "{9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d}" }, "bot-id"},
		{"version prerelease", func(o *Options) { o.Version = "1.0.0-beta" }, "version"},
		{"version two parts", func(o *Options) { o.Version = "1.0" }, "version"},
		{"version leading zero", func(o *Options) { o.Version = "1.02.0" }, "version"},
		{"domain with scheme", func(o *Options) { o.Domain = "https://multiline.example.com" }, "domain"},
		{"domain with path", func(o *Options) { o.Domain = "example.com/multiline" }, "domain"},
		{"domain with port", func(o *Options) { o.Domain = "example.com:8443" }, "domain"},
		{"domain ip", func(o *Options) { o.Domain = "10.0.0.1" }, "domain"},
		{"domain localhost", func(o *Options) { o.Domain = "localhost" }, "domain"},
		{"domain bad label", func(o *Options) { o.Domain = "multi_line.example.com" }, "domain"},
		{"domain empty", func(o *Options) { o.Domain = "" }, "domain"},
		{"name too long", func(o *Options) { o.ShortName = strings.Repeat("M", 31) }, "name"},
		{"privacy url http", func(o *Options) { o.PrivacyURL = "http://example.com/privacy" }, "privacy-url"},
		{"sso resource other app", func(o *Options) { o.SSOResource = "api://multiline.example.com/other" }, "sso-resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOptions()
			tt.edit(&o)
			err := o.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want a *FieldError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, tt.field, err)
			}
			if !errors.Is(err, ErrInvalidOptions) {
				t.Error("error does not match ErrInvalidOptions")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message spans lines: %q", err)
			}
			if _, err := Build(o); !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("Build accepted invalid options: %v", err)
			}
		})
	}
	if err := validOptions().Validate(); err != nil {
		t.Fatalf("valid options refused: %v", err)
	}
}

// TestMicrosoftValidator runs Microsoft's own schema validator
// (@microsoft/app-manifest, bundled v1.30 schema, offline) on the manifest.
func TestMicrosoftValidator(t *testing.T) {
	node := testenv.Node(t)
	modules := filepath.Join(testenv.Root(t), "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@microsoft", "app-manifest", "package.json")); err != nil {
		t.Fatalf("@microsoft/app-manifest is not installed in %s (run npm ci at the repo root): %v", modules, err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "validate.js"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts Options
	}{
		{"defaults", validOptions()},
		{"custom texts", func() Options {
			o := validOptions()
			o.ShortName = "微信客服 \"MultiLine\""
			o.FullDescription = "Line one.\nLine <two> & \\ three."
			o.DeveloperName = "Contoso Ltd"
			o.PrivacyURL = "https://contoso.example/privacy?x=1&y=2"
			return o
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pkg, err := Build(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), ManifestFile)
			if err := os.WriteFile(file, unzip(t, pkg)[ManifestFile], 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(node, script, modules, file).CombinedOutput()
			if err != nil {
				t.Fatalf("Microsoft's validator rejected the manifest (%v):\n%s", err, out)
			}
			if !strings.Contains(string(out), ": 0 error(s)") {
				t.Fatalf("validator output unexpected:\n%s", out)
			}
		})
	}
}

// TestMicrosoftValidatorCatchesErrors proves the validator harness can fail:
// a manifest broken in a way our Validate cannot produce must be rejected.
func TestMicrosoftValidatorCatchesErrors(t *testing.T) {
	node := testenv.Node(t)
	modules := filepath.Join(testenv.Root(t), "node_modules")
	m, err := Manifest(validOptions())
	if err != nil {
		t.Fatal(err)
	}
	broken := bytes.Replace(m, []byte(`"accentColor": "#07C160"`), []byte(`"accentColor": "green"`), 1)
	if bytes.Equal(broken, m) {
		t.Fatal("test setup: accentColor not found in manifest")
	}
	file := filepath.Join(t.TempDir(), ManifestFile)
	if err := os.WriteFile(file, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, filepath.Join("testdata", "validate.js"), modules, file).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "accentColor") {
		t.Fatalf("validator accepted a bad accentColor (err %v):\n%s", err, out)
	}
}
