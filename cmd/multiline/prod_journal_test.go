package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/internal/testenv"
)

// TestProductionJournal: `multiline serve` starts with SMTP journaling set,
// captures a WeChat/Teams exchange, and `multiline archive journal --day`
// sends that day's conversation to the journaling mailbox of a real SMTP
// server (npm smtp-server, AUTH required), once per run, with the same
// Message-ID when sent again.
func TestProductionJournal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	node, modules := testenv.Node(t), testenv.Modules(t, "smtp-server")
	cmd := exec.Command(node, filepath.Join(testenv.Root(t), "journal", "testdata", "smtp_server.js"), modules, "archiver", "pw-"+randHex(6), "0")
	pass := cmd.Args[len(cmd.Args)-2]
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	var mu sync.Mutex
	var accepted []string
	port := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line struct {
				Port     int
				Accepted *string
			}
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			if line.Port != 0 {
				port <- line.Port
			}
			if line.Accepted != nil {
				mu.Lock()
				accepted = append(accepted, *line.Accepted)
				mu.Unlock()
			}
		}
	}()
	var p int
	select {
	case p = <-port:
	case <-time.After(prodStart):
		t.Fatal("smtp-server did not start")
	}

	buildBinary(t)
	run := newProdRun(t)
	smtpURL := "smtp://archiver:" + pass + "@127.0.0.1:" + strconv.Itoa(p)
	run.secret(pass, "MULTILINE_ARCHIVE_SMTP_URL")
	w := run.world(t, prodOptions{name: "journal", env: map[string]string{
		"MULTILINE_ARCHIVE_SMTP_URL": smtpURL, "MULTILINE_ARCHIVE_JOURNAL_TO": "journal@archive.example"}})
	ann := w.install("ann", "Ann Lee", true)
	consumer := "wmJournal" + randHex(6)
	w.consumerSends(consumer, "Please archive this "+randHex(3))
	w.waitChat(ann, prodSoon, "Please archive this")
	w.say(ann, "Archived, thank you "+randHex(3))
	w.waitInbox(consumer, prodSoon, "Archived, thank you")

	day := time.Now().UTC().Format("2006-01-02")
	for round := 1; round <= 2; round++ {
		out := w.mustCLI("archive", "journal", "--day", day)
		if !strings.Contains(out, "1 conversations of "+day+" journaled") {
			t.Fatalf("journal printed:\n%s", out)
		}
		// The server prints what it accepted a moment after it answered.
		var got []string
		waitFor(t, prodSoon, "the mailbox to show the message", func() bool {
			mu.Lock()
			defer mu.Unlock()
			got = append([]string(nil), accepted...)
			return len(got) >= round
		})
		if len(got) != round || !strings.HasPrefix(got[0], "<ml."+strings.ReplaceAll(day, "-", "")+".") || got[round-1] != got[0] ||
			!strings.Contains(out, "sent "+got[0]) {
			t.Fatalf("after run %d the mailbox has %q; journal printed:\n%s", round, got, out)
		}
	}
}
