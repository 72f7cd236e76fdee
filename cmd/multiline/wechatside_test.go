package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/wechat"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// An Official Account send has no msgid: a send that may have arrived is reported,
// never repeated; one that never left is retried.
func TestOfficialAccountSendIsNeverRepeated(t *testing.T) {
	fake, err := fakewechat.New(fakewechat.Config{Mode: wechat.SourceOfficialAccount, AppID: "wxapp", AppSecret: "s", CallbackToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx := context.Background()
	if _, err := fake.ConsumerSends(ctx, "o1", "hi"); err != nil && !errors.Is(err, fakewechat.ErrNoCallback) {
		t.Fatal(err)
	}
	side := &wechatSide{oa: wechat.NewOAClient("wxapp", "s", wechat.ClientOptions{BaseURL: srv.URL, HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}})}
	msg := bridge.OutboundMessage{ID: "t-1", Consumer: "o1", Body: bridge.Content{Text: "hello"}}

	if err := side.Send(ctx, msg); err != nil {
		t.Fatalf("plain send: %v", err)
	}
	fake.InjectFault(fakewechat.Fault{Path: "/cgi-bin/message/custom/send", Delay: time.Second})
	var se *bridge.SendError
	if err := side.Send(ctx, msg); !errors.As(err, &se) || se.Reason != bridge.FailTransient {
		t.Fatalf("timed-out send must be final, got %v", err)
	}
	time.Sleep(1100 * time.Millisecond)
	if n := len(fake.Inbox("o1")); n != 2 {
		t.Fatalf("the consumer got %d messages, want 2 (the late one arrived, once)", n)
	}

	down := &wechatSide{oa: wechat.NewOAClient("wxapp", "s", wechat.ClientOptions{BaseURL: "http://127.0.0.1:1", HTTPClient: &http.Client{Timeout: time.Second}})}
	if err := down.Send(ctx, msg); err == nil || errors.As(err, &se) {
		t.Fatalf("a send that never left must be retried (non-final error), got %v", err)
	}
}
