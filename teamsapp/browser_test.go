package teamsapp

import (
	"context"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/internal/testenv"
)

func TestBrowser(t *testing.T) {
	root := testenv.Root(t)
	node, err := exec.LookPath("node")
	testenv.Require(t, err == nil, "node")
	modules := filepath.Join(root, "node_modules")
	_, err = os.Stat(filepath.Join(modules, "playwright-core", "package.json"))
	if err != nil {
		t.Fatalf("playwright-core is not installed in %s (npm install): %v", modules, err)
	}
	_, err = os.Stat("/usr/bin/chromium")
	testenv.Require(t, err == nil, "/usr/bin/chromium")
	if _, err := fs.Stat(distFS, "tab.js"); err != nil {
		t.Fatal("the tab's UI is not built into this test binary: run `make bundle` first (make test does)")
	}

	// The consumer's side for the live-update step: a message arriving as if through
	// WeChat on another replica.
	f := newFixtureRoutes(t, true, nil, func(f *fixture, e *echo.Echo) {
		e.POST("/test/consumer-writes", func(c echo.Context) error {
			f.b.consumerWrites(c.QueryParam("thread"), c.QueryParam("text"))
			return c.NoContent(http.StatusNoContent)
		})
	})
	// Real time: the page's clock and the server's must agree on "today".
	f.clock.Add(time.Since(f.clock.Now()))

	out := filepath.Join(root, "test-artifacts")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "browser.mjs"), f.srv.URL, out, modules)
	logs, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", logs)
	if err != nil {
		t.Fatalf("browser script: %v", err)
	}
	th, err := f.b.Thread(t.Context(), "alice", "t1")
	if err == nil {
		t.Fatalf("alice is still in t1 after leaving: %+v", th.Participants)
	}
	sum, _ := f.b.Threads(t.Context(), "alice")
	if len(sum) != 0 {
		t.Fatalf("alice still has threads: %+v", sum)
	}
	var left bool
	f.b.mu.Lock()
	for _, m := range f.b.threads["t1"].msgs {
		left = left || m.Notice == bridge.NoticeConsumerEmployeeLeft
	}
	f.b.mu.Unlock()
	if !left {
		t.Fatal("the consumer was not told that alice left")
	}
	if co, _ := f.b.CompanySettings(t.Context()); co.Policy.QueueLimit != 4 {
		t.Fatalf("admin page did not save the queue limit: %+v", co.Policy)
	}
	if dead, _ := f.jobs.Jobs(t.Context(), true); len(dead) != 0 {
		t.Fatalf("admin page left dead jobs: %+v", dead)
	}
	if all, _ := f.jobs.Jobs(t.Context(), false); len(all) != 2 || all[1].ID != 7 || all[1].Dead {
		t.Fatalf("the retried job is not alive again: %+v", all)
	}
}
