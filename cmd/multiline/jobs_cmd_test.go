package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage"
	"github.com/multiline/multiline/storage/jobs"
)

// TestAdminJobs runs `multiline admin jobs` against a SQLite file the way an
// operator would, while the test holds a second handle on it like a server.
func TestAdminJobs(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "data", "multiline.db")
	t.Setenv("MULTILINE_DATABASE_URL", url)
	ctx := t.Context()
	db, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(ctx, func(tx bridge.Tx) error {
		for _, j := range []bridge.Job{
			{Lane: "send:t1", Kind: bridge.JobSend},
			{Lane: "deliver:e1", Kind: bridge.JobDeliver, RunAt: time.Now().Add(time.Hour)},
		} {
			if err := tx.Enqueue(ctx, j); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	all, err := db.Jobs(ctx, storage.JobFilter{})
	if err != nil || len(all) != 2 {
		t.Fatalf("Jobs = %v, %v", all, err)
	}
	deadID, liveID := all[1].ID, all[0].ID
	bury := func() {
		t.Helper()
		if err := db.Tx(ctx, func(tx bridge.Tx) error {
			return tx.BuryJob(ctx, deadID, 8, "wechat send: Post \"https://qyapi.weixin.qq.com/cgi-bin/kf/send_msg?access_token=TOPSECRET\":\n\tconnection reset")
		}); err != nil {
			t.Fatal(err)
		}
	}
	bury()

	run := func(args ...string) (string, error) {
		t.Helper()
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append([]string{"admin", "jobs"}, args...))
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
	lines := func(out string) []string { return strings.Split(strings.TrimSpace(out), "\n") }

	out, err := run("--dead")
	if err != nil {
		t.Fatal(err)
	}
	if l := lines(out); len(l) != 2 || !strings.HasPrefix(l[0], "ID") || !strings.Contains(l[0], "LAST ERROR") ||
		!strings.Contains(l[1], bridge.JobSend) || !strings.Contains(l[1], "send:t1") || !strings.Contains(l[1], " yes ") ||
		!strings.Contains(l[1], "connection reset") {
		t.Errorf("admin jobs --dead:\n%s", out)
	}
	if strings.Contains(out, "TOPSECRET") {
		t.Errorf("admin jobs printed a token:\n%s", out)
	}
	if out, err := run(); err != nil || len(lines(out)) != 3 || !strings.Contains(out, "deliver:e1") {
		t.Errorf("admin jobs = %v:\n%s", err, out)
	}

	cases := []struct {
		name string
		args []string
		want error  // nil: success
		out  string // what success prints
	}{
		{"a live job is not discarded", []string{"discard", jobIDArg(liveID)}, jobs.ErrJobAlive, ""},
		{"a live job is not retried", []string{"retry", jobIDArg(liveID)}, jobs.ErrJobAlive, ""},
		{"an unknown job", []string{"retry", "999999"}, bridge.ErrNotFound, ""},
		{"not a number", []string{"discard", "seven"}, errBadJobID, ""},
		{"retry revives the dead job", []string{"retry", jobIDArg(deadID)}, nil, "will run again"},
	}
	for _, c := range cases {
		out, err := run(c.args...)
		if c.want != nil && !errors.Is(err, c.want) || c.want == nil && (err != nil || !strings.Contains(out, c.out)) {
			t.Errorf("%s: admin jobs %s = %v:\n%s", c.name, strings.Join(c.args, " "), err, out)
		}
	}
	if out, err := run("--dead"); err != nil || strings.TrimSpace(out) != "no dead jobs" {
		t.Errorf("after retry: %v:\n%s", err, out)
	}
	if js, err := db.PendingJobs(ctx, "send:"); err != nil || len(js) != 1 || js[0].Attempts != 0 {
		t.Errorf("retried job: %+v, %v", js, err)
	}

	bury()
	if out, err := run("discard", jobIDArg(deadID)); err != nil || !strings.Contains(out, "discarded") {
		t.Errorf("discard = %v:\n%s", err, out)
	}
	if js, err := db.Jobs(ctx, storage.JobFilter{}); err != nil || len(js) != 1 || js[0].ID != liveID {
		t.Errorf("after discard: %+v, %v", js, err)
	}
}

func TestFormatAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                  "0s",
		45 * time.Second:              "45s",
		12*time.Minute + time.Second:  "12m",
		3*time.Hour + 5*time.Minute:   "3h5m",
		52*time.Hour + 30*time.Minute: "2d4h",
	} {
		if got := formatAge(d); got != want {
			t.Errorf("formatAge(%s) = %q, want %q", d, got, want)
		}
	}
}

// jobIDArg is how an operator types a job id.
func jobIDArg(id int64) string { return strconv.FormatInt(id, 10) }
