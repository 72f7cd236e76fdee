package wechat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/multiline/multiline/wechat"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// lister is a KfAccountLister with a fixed answer.
type lister struct {
	accounts []wechat.KfAccount
	err      error
}

func (l lister) ListAccounts(context.Context) ([]wechat.KfAccount, error) { return l.accounts, l.err }

func TestResolveOpenKfID(t *testing.T) {
	a := wechat.KfAccount{OpenKfID: "wkAAA", Name: "Sales", Manageable: true}
	b := wechat.KfAccount{OpenKfID: "wkBBB", Name: "Support", Manageable: true}
	locked := wechat.KfAccount{OpenKfID: "wkCCC", Name: "Other app's", Manageable: false}
	down := &wechat.TransportError{Op: "kf/account/list", Err: errors.New("connection refused")}
	refused := &wechat.APIError{Op: "gettoken", Code: 40001, Msg: "invalid secret"}
	tests := []struct {
		name       string
		configured string
		list       lister
		want       string
		err        error    // errors.Is target, nil: success
		mentions   []string // the error names these
	}{
		{name: "configured and listed", configured: "wkBBB", list: lister{accounts: []wechat.KfAccount{a, b}}, want: "wkBBB"},
		{name: "configured, spaces trimmed", configured: " wkAAA ", list: lister{accounts: []wechat.KfAccount{a}}, want: "wkAAA"},
		{name: "configured but unknown", configured: "wkZZZ", list: lister{accounts: []wechat.KfAccount{a, b}},
			err: wechat.ErrKfAccountUnknown, mentions: []string{"WECOM_OPEN_KFID", "wkZZZ", "wkAAA (Sales)", "wkBBB (Support)"}},
		{name: "configured, corp has none", configured: "wkZZZ", list: lister{},
			err: wechat.ErrKfAccountUnknown, mentions: []string{"WECOM_OPEN_KFID", "create one"}},
		{name: "configured, WeCom unreachable", configured: "wkAAA", list: lister{err: down}, want: "wkAAA"},
		{name: "configured, credentials refused", configured: "wkAAA", list: lister{err: refused},
			err: wechat.ErrBadCredentials, mentions: []string{"WECOM_OPEN_KFID", "40001"}},
		{name: "unset, one account", list: lister{accounts: []wechat.KfAccount{b}}, want: "wkBBB"},
		{name: "unset, one this app manages", list: lister{accounts: []wechat.KfAccount{locked, a}}, want: "wkAAA"},
		{name: "unset, several", list: lister{accounts: []wechat.KfAccount{a, b}},
			err: wechat.ErrKfAccountAmbiguous, mentions: []string{"WECOM_OPEN_KFID", "wkAAA (Sales)", "wkBBB (Support)"}},
		{name: "unset, none", list: lister{},
			err: wechat.ErrKfAccountNone, mentions: []string{"WECOM_OPEN_KFID", "create one"}},
		{name: "unset, the only one, not manageable", list: lister{accounts: []wechat.KfAccount{locked}}, want: "wkCCC"},
		{name: "unset, several, none manageable", list: lister{accounts: []wechat.KfAccount{locked, {OpenKfID: "wkDDD"}}},
			err: wechat.ErrKfAccountAmbiguous, mentions: []string{"WECOM_OPEN_KFID", "wkCCC (Other app's)", "wkDDD"}},
		{name: "unset, WeCom unreachable", list: lister{err: down},
			err: wechat.ErrTransient, mentions: []string{"WECOM_OPEN_KFID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wechat.ResolveOpenKfID(context.Background(), tt.list, tt.configured, quiet())
			if tt.err == nil {
				if err != nil || got != tt.want {
					t.Fatalf("got %q %v, want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.err) || got != "" {
				t.Fatalf("got %q %v, want %v", got, err, tt.err)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

// The resolver against the fake: it knows one account, whatever it is called.
func TestResolveOpenKfIDAgainstTheFake(t *testing.T) {
	e := newSideEnv(t, wechat.SourceKf)
	kf := wechat.NewKfClient(corpID, secret, wechat.ClientOptions{BaseURL: e.api.URL})
	ctx := context.Background()
	if got, err := wechat.ResolveOpenKfID(ctx, kf, "", quiet()); err != nil || got != realKfID {
		t.Fatalf("unset: %q %v", got, err)
	}
	if _, err := wechat.ResolveOpenKfID(ctx, kf, fakewechat.DefaultOpenKfID, quiet()); !errors.Is(err, wechat.ErrKfAccountUnknown) ||
		!strings.Contains(err.Error(), realKfID) {
		t.Fatalf("the simulator's account in production: %v", err)
	}
	bad := wechat.NewKfClient(corpID, "wrong-secret", wechat.ClientOptions{BaseURL: e.api.URL})
	if _, err := wechat.ResolveOpenKfID(ctx, bad, realKfID, quiet()); !errors.Is(err, wechat.ErrBadCredentials) || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("wrong secret: %v", err)
	}
}

// accountServer is kf/account/list as WeCom documents it: offset from 0, limit
// 1..100 (default 100); a page shorter than the limit is the last.
type accountServer struct {
	mu      sync.Mutex
	n       int
	offsets []int
	// ignoreOffset answers every page as the first (a broken or hostile server).
	ignoreOffset bool
}

func (s *accountServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/cgi-bin/gettoken":
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok","access_token":"T","expires_in":7200}`)
		return
	case "/cgi-bin/kf/account/list":
	default:
		http.NotFound(w, r)
		return
	}
	var in struct{ Offset, Limit int }
	if r.URL.Query().Get("access_token") != "T" || r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&in) != nil {
		fmt.Fprint(w, `{"errcode":40014,"errmsg":"invalid access_token"}`)
		return
	}
	if in.Limit == 0 {
		in.Limit = 100
	}
	if in.Limit < 1 || in.Limit > 100 || in.Offset < 0 {
		fmt.Fprint(w, `{"errcode":40058,"errmsg":"invalid limit"}`)
		return
	}
	s.mu.Lock()
	s.offsets = append(s.offsets, in.Offset)
	s.mu.Unlock()
	if s.ignoreOffset {
		in.Offset = 0
	}
	list := []map[string]any{}
	for i := in.Offset; i < min(in.Offset+in.Limit, s.n); i++ {
		list = append(list, map[string]any{"open_kfid": fmt.Sprintf("wk%04d", i), "name": fmt.Sprintf("kf %d", i), "avatar": "", "manage_privilege": i != 0})
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok", "account_list": list})
}

func TestKfListAccountsPages(t *testing.T) {
	for _, tc := range []struct {
		n       int
		offsets string
	}{{0, "0"}, {1, "0"}, {100, "0,100"}, {150, "0,100"}, {201, "0,100,200"}} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			srv := &accountServer{n: tc.n}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			kf := wechat.NewKfClient(corpID, secret, wechat.ClientOptions{BaseURL: hs.URL})
			got, err := kf.ListAccounts(context.Background())
			if err != nil || len(got) != tc.n {
				t.Fatalf("%d accounts, %v", len(got), err)
			}
			if tc.n > 1 && (got[0].Manageable || !got[1].Manageable || got[tc.n-1].OpenKfID != fmt.Sprintf("wk%04d", tc.n-1)) {
				t.Fatalf("accounts %+v … %+v", got[0], got[tc.n-1])
			}
			if o := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(srv.offsets)), ","), "[]"); o != tc.offsets {
				t.Fatalf("offsets asked %s, want %s", o, tc.offsets)
			}
		})
	}
	kf := wechat.NewKfClient(corpID, secret, wechat.ClientOptions{BaseURL: "http://127.0.0.1:1"})
	if _, err := kf.ListAccountsPage(context.Background(), 0, 101); !errors.Is(err, wechat.ErrPermanent) {
		t.Fatalf("limit 101: %v", err)
	}
}

// An answer whose pages never end (found by FuzzAPIAnswer: a server that
// ignores the offset kept start-up in ListAccounts for ever) ends the list
// with a transient error after a bounded number of pages.
func TestKfListAccountsEndsWhenThePagesDoNot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		srv   *accountServer
		pages int
	}{
		{"offset ignored", &accountServer{n: 100, ignoreOffset: true}, 2},
		{"endless", &accountServer{n: 1 << 30}, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := httptest.NewServer(tc.srv)
			defer hs.Close()
			kf := wechat.NewKfClient(corpID, secret, wechat.ClientOptions{BaseURL: hs.URL})
			got, err := kf.ListAccounts(context.Background())
			if !errors.Is(err, wechat.ErrTransient) || got != nil {
				t.Fatalf("%d accounts, %v; want a transient error", len(got), err)
			}
			if len(tc.srv.offsets) != tc.pages {
				t.Fatalf("%d pages asked, want %d", len(tc.srv.offsets), tc.pages)
			}
		})
	}
}
