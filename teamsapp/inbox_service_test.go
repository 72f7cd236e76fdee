package teamsapp

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/memstore"
)

// quietWeChat accepts every send: the API's views are what is tested here,
// not WeChat's answers.
type quietWeChat struct{}

func (quietWeChat) Send(context.Context, bridge.OutboundMessage) error { return nil }
func (quietWeChat) Pull(context.Context, string, string, string) (bridge.PullBatch, error) {
	return bridge.PullBatch{}, nil
}
func (quietWeChat) ContactLink(context.Context, string, string, string) (string, error) {
	return "https://work.weixin.qq.com/kfid/kf1", nil
}
func (quietWeChat) EndSession(context.Context, string, bridge.ConsumerID) error { return nil }
func (quietWeChat) FetchMedia(context.Context, string, bridge.PendingMedia) (bridge.Content, error) {
	return bridge.Content{}, nil
}
func (quietWeChat) CanSend(bridge.Content) error { return nil }
func (quietWeChat) Profiles(context.Context, string, []bridge.ConsumerID) (map[bridge.ConsumerID]bridge.Profile, error) {
	return nil, nil
}

type quietTeams struct{}

func (quietTeams) Deliver(context.Context, bridge.Delivery) error { return nil }

// The tab over the real bridge (*bridge.Service on an in-memory store), with
// two colleagues of the same name: "You: " goes by id, unread counts and read
// marks are the bridge's, and people carry their ids.
func TestInboxOverTheBridge(t *testing.T) {
	ctx := context.Background()
	clock := &testClock{t: time.Date(2026, 6, 2, 10, 15, 0, 0, time.UTC)}
	svc := bridge.NewService(memstore.New(), bridge.Options{Now: clock.Now, AutoEnable: true, Account: "kf1"})
	svc.Attach(quietWeChat{}, quietTeams{})
	if err := svc.EnsureCompany(ctx, "Contoso", testTenant, bridge.English); err != nil {
		t.Fatal(err)
	}
	auth := tokenAuth{}
	ids := map[string]bridge.EmployeeID{}
	for _, tok := range []string{"sam1", "sam2"} {
		e, err := svc.EmployeeInstalled(ctx, bridge.Installation{TenantID: testTenant, AADObjectID: "oid-" + tok, TeamsUserID: "29:" + tok, Name: "Sam Lee"})
		if err != nil {
			t.Fatal(err)
		}
		ids[tok] = e.ID
		auth[tok] = Identity{TenantID: testTenant, ObjectID: "oid-" + tok, Name: "Sam Lee"}
	}
	if err := svc.Receive(ctx, []bridge.Inbound{{Kind: bridge.InboundMessage, WeChatMsgID: "m1", Account: "kf1", Consumer: "wm1",
		ConsumerName: "Emiliano Ceballos", At: clock.Now(), Body: bridge.Content{Text: "Joe, what's a nice movie?"}}}); err != nil {
		t.Fatal(err)
	}
	first, second := "sam1", "sam2"
	if list, _ := svc.Threads(ctx, ids[first]); len(list) == 0 {
		first, second = second, first
	}
	app := New(Config{Bridge: svc, Auth: auth, AppID: "app", TenantID: testTenant, Now: clock.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e := echo.New()
	app.Routes(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	f := &fixture{app: app, srv: srv, clock: clock}

	var cfg configJSON
	f.call(t, "GET", "/api/v1/config", "", nil, &cfg)
	if !cfg.Features.Unread || cfg.Features.Search != "full" {
		t.Fatalf("features = %+v, want the bridge's inbox", cfg.Features)
	}
	var list []threadJSON
	f.call(t, "GET", "/api/v1/threads", first, nil, &list)
	if len(list) != 1 || list[0].Unread != 2 || list[0].Preview == nil || list[0].Preview.From != bridge.FromConsumer {
		t.Fatalf("list = %+v (want the consumer's message and the welcome note unread)", list)
	}
	th := list[0].ID
	if code := f.call(t, "POST", "/api/v1/threads/"+string(th)+"/participants", first, map[string]string{"employee": string(ids[second])}, nil); code != 204 {
		t.Fatalf("add colleague: %d", code)
	}
	clock.Add(time.Minute)
	var sent sentJSON
	f.call(t, "POST", "/api/v1/threads/"+string(th)+"/messages", second, map[string]string{"text": "Extraction."}, &sent)
	if sent.Author != ids[second] {
		t.Fatalf("sent message's author = %q, want %q", sent.Author, ids[second])
	}
	for tok, mine := range map[string]bool{first: false, second: true} {
		f.call(t, "GET", "/api/v1/threads", tok, nil, &list)
		if p := list[0].Preview; p == nil || p.Text != "Extraction." || p.Mine != mine || p.AuthorName != "Sam Lee" {
			t.Errorf("%s's preview = %+v, want mine %v", tok, p, mine)
		}
	}
	var detail threadDetailJSON
	f.call(t, "GET", "/api/v1/threads/"+string(th), first, nil, &detail)
	if len(detail.People) != 2 || detail.People[0] != (participantJSON{ID: ids[first], Name: "Sam Lee", Me: true}) ||
		detail.People[1] != (participantJSON{ID: ids[second], Name: "Sam Lee"}) {
		t.Fatalf("people = %+v", detail.People)
	}
	last := detail.Messages[len(detail.Messages)-1]
	if code := f.call(t, "POST", "/api/v1/threads/"+string(th)+"/read", first, map[string]string{"up_to": string(last.ID)}, nil); code != 204 {
		t.Fatalf("read: %d", code)
	}
	f.call(t, "GET", "/api/v1/threads", first, nil, &list)
	if list[0].Unread != 0 {
		t.Fatalf("unread after reading = %d", list[0].Unread)
	}
	f.call(t, "GET", "/api/v1/threads?q=emiliano", second, nil, &list)
	if len(list) != 1 {
		t.Fatalf("search by contact: %+v", list)
	}
	f.call(t, "GET", "/api/v1/threads?q=nothing+like+it", second, nil, &list)
	if len(list) != 0 {
		t.Fatalf("search for nothing: %+v", list)
	}
}
