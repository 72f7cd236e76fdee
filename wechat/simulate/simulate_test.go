package simulate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/wechat"
	"github.com/multiline/multiline/wechat/fakewechat"
	"github.com/multiline/multiline/wechat/simulate"
)

// echoBridge stands in for the bridge: on each pull it syncs and answers every
// consumer message with "echo: ..." and every arrival with the scene it came through.
type echoBridge struct {
	kf     *wechat.KfClient
	mu     sync.Mutex // one sync at a time, as the bridge's job queue would do
	cursor string
}

func (b *echoBridge) PullRequested(_ context.Context, p wechat.PullRequest) error {
	go func() {
		ctx := context.Background()
		b.mu.Lock()
		defer b.mu.Unlock()
		b.cursor, _ = b.kf.SyncAll(ctx, wechat.SyncRequest{Cursor: b.cursor, Token: p.Token}, func(ctx context.Context, page wechat.SyncPage) error {
			for _, m := range page.Messages {
				switch m.Kind {
				case wechat.KindText:
					_, _ = b.kf.SendMsg(ctx, wechat.KfSend{ToUser: m.Consumer, OpenKfID: m.Account, MsgID: "re-" + m.MsgID,
						Outgoing: wechat.Outgoing{Kind: wechat.KindText, Text: "echo: " + m.Text}})
				case wechat.KindEnterSession:
					_, _ = b.kf.SendOnEvent(ctx, m.WelcomeCode, "", wechat.Outgoing{Kind: wechat.KindText,
						Text: fmt.Sprintf("welcome via %s/%s", m.Scene, m.SceneParam)})
				}
			}
			return nil
		})
	}()
	return nil
}

func (b *echoBridge) Received(context.Context, wechat.Message) error { return nil }

func setup(t *testing.T) string {
	t.Helper()
	const key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	fake, err := fakewechat.New(fakewechat.Config{CorpID: "wwC", KfSecret: "s", CallbackToken: "tok", EncodingAESKey: key})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	bridge := &echoBridge{kf: wechat.NewKfClient("wwC", "s", wechat.ClientOptions{BaseURL: api.URL})}
	h, err := wechat.NewCallbackHandler(wechat.CallbackConfig{Mode: wechat.SourceKf, Token: "tok", EncodingAESKey: key,
		ReceiveID: "wwC", Sink: bridge, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cb := httptest.NewServer(h)
	t.Cleanup(cb.Close)
	fake.SetCallbackURL(cb.URL)
	return api.URL
}

func TestSimulate(t *testing.T) {
	server := setup(t)
	img := filepath.Join(t.TempDir(), "cat.png")
	if err := os.WriteFile(img, []byte("\x89PNG\r\n\x1a\nxx"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"arrive via link", []string{"--via-link", "emp-alice", "--wait", "2s"}, []string{"opened the chat", "welcome via emp-alice/"}},
		{"opt-in", []string{"--opt-in", "req-7", "--wait", "2s"}, []string{"welcome via /req-7"}},
		{"text", []string{"--text", "你好", "--wait", "2s"}, []string{"→ c1: 你好", "echo: 你好"}},
		{"leave", []string{"--leave", "--wait", "2s"}, []string{"echo: #LEAVE"}},
		{"image", []string{"--image", img, "--wait", "1s"}, []string{"sent image cat.png", "nothing received"}},
		{"advance", []string{"--advance", "48h", "--wait", "100ms"}, []string{"clock advanced by 48h"}},
		{"inbox", []string{"--inbox"}, []string{"inbox of c1 (4 messages)", "echo: #LEAVE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"--server", server, "--consumer", "c1"}, tt.args...)
			if err := simulate.Run(context.Background(), args, &out); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Fatalf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestSimulateUsageAndUnreachable(t *testing.T) {
	var out bytes.Buffer
	if err := simulate.Run(context.Background(), nil, &out); !errors.Is(err, simulate.ErrUsage) {
		t.Fatalf("no action: %v", err)
	}
	if err := simulate.Run(context.Background(), []string{"--leave", "--text", "x"}, &out); !errors.Is(err, simulate.ErrUsage) {
		t.Fatalf("leave and text: %v", err)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := simulate.Run(ctx, []string{"--server", srv.URL, "--inbox"}, &out); err == nil {
		t.Fatal("unreachable server: want error")
	}
}
