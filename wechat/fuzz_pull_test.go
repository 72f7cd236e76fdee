package wechat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/storage/memstore"
	"github.com/multiline/multiline/wechat"
)

// answers is a WeChat API in one function: every request gets the answer
// the test gives for its path, and no request leaves the process.
type answers func(r *http.Request) (status int, contentType string, body []byte)

func (a answers) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	status, ct, body := a(r)
	h := http.Header{}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h, Request: r,
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}, nil
}

const fuzzToken = "ACCESS-TOKEN-0123456789"

// tokenAnswer is gettoken's and token's answer.
var tokenAnswer = []byte(`{"errcode":0,"errmsg":"ok","access_token":"` + fuzzToken + `","expires_in":7200}`)

// syncPages are sync_msg answers shaped like WeCom's documentation.
var syncPages = []string{
	`{"errcode":0,"errmsg":"ok","next_cursor":"4gw7MepFLfgF2VC5npN","has_more":1,"msg_list":[` +
		`{"msgid":"from_msgid_4622416642169452483","open_kfid":"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q","external_userid":"wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw","send_time":1615478585,"origin":3,"msgtype":"text","text":{"content":"你好","menu_id":"101"}},` +
		`{"msgid":"m2","open_kfid":"wk1","external_userid":"wm1","send_time":1615478586,"origin":3,"msgtype":"image","image":{"media_id":"2iSLeVyqzk4eX0IB5kTi9Ljfa2rt9dwfq5WKRQ4Nvvgw"}},` +
		`{"msgid":"m3","open_kfid":"wk1","external_userid":"wm1","send_time":1615478587,"origin":3,"msgtype":"location","location":{"latitude":23.10647,"longitude":113.32446,"name":"广州国际媒体港(广州市海珠区)","address":"广东省广州市海珠区滨江东路"}}]}`,
	`{"errcode":0,"errmsg":"ok","next_cursor":"c2","has_more":0,"msg_list":[` +
		`{"msgid":"m4","send_time":1615478588,"origin":4,"msgtype":"event","event":{"event_type":"enter_session","open_kfid":"wk1","external_userid":"wm2","scene":"123","scene_param":"abc","welcome_code":"aaaaaa"}},` +
		`{"msgid":"m5","send_time":1615478589,"origin":4,"msgtype":"event","event":{"event_type":"msg_send_fail","open_kfid":"wk1","external_userid":"wm1","fail_msgid":"FAILMSGID","fail_type":4}},` +
		`{"msgid":"m6","open_kfid":"wk1","external_userid":"wm1","send_time":1615478590,"origin":5,"servicer_userid":"zhangsan","msgtype":"text","text":{"content":"from a servicer"}},` +
		`{"msgid":"m7","open_kfid":"wk1","external_userid":"wm1","send_time":1615478591,"origin":3,"msgtype":"file","file":{"media_id":"F1"}}]}`,
	`{"errcode":0,"errmsg":"ok","next_cursor":"","has_more":0,"msg_list":[]}`,
	`{"errcode":95000,"errmsg":"invalid open_kfid"}`,
	`{"errcode":0,"msg_list":[{"msgid":"x","msgtype":"text","text":{"content":""}},{"msgid":"x","msgtype":"text","text":{"content":"again"}}]}`,
}

// FuzzSyncMsgPage: an arbitrary kf/sync_msg answer, read by the kf client and
// applied by the bridge (on the in-memory store) the way a pull job does.
// SyncMsg returns the page exactly as the JSON says (every msg_list entry
// parsed by ParseKfMessage, the cursor, has_more) or a typed error, never a
// half page; the bridge applies any page that parsed without an error (one
// odd message must not block the cursor); and a page applied a second time
// (WeChat redelivers after a lost answer) stores nothing more.
func FuzzSyncMsgPage(f *testing.F) {
	for _, p := range syncPages {
		f.Add([]byte(p))
	}
	ctx := context.Background()
	now := time.Date(2021, 3, 11, 16, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, page []byte) {
		api := syncAnswers(page)
		opts := wechat.ClientOptions{BaseURL: "https://qyapi.example", HTTPClient: &http.Client{Transport: api}, Now: func() time.Time { return now }}
		kf := wechat.NewKfClient(corpID, secret, opts)

		var want struct {
			ErrCode    int               `json:"errcode"`
			NextCursor string            `json:"next_cursor"`
			HasMore    int               `json:"has_more"`
			MsgList    []json.RawMessage `json:"msg_list"`
		}
		decodeErr := json.Unmarshal(page, &want)
		got, err := kf.SyncMsg(ctx, wechat.SyncRequest{Token: "T", OpenKfID: "wk1", Limit: wechat.MaxSyncLimit})
		if err != nil {
			var apiErr *wechat.APIError
			var te *wechat.TransportError
			switch {
			case errors.As(err, &apiErr):
				if decodeErr != nil && apiErr.Code != want.ErrCode {
					t.Fatalf("errcode %d reported as %d", want.ErrCode, apiErr.Code)
				}
			case errors.As(err, &te):
			case strings.HasPrefix(err.Error(), "wechat: kf/sync_msg"):
			default:
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if decodeErr != nil || want.ErrCode != 0 {
			t.Fatalf("accepted a page that is not one (errcode %d, %v)", want.ErrCode, decodeErr)
		}
		if got.NextCursor != want.NextCursor || got.HasMore != (want.HasMore == 1) || len(got.Messages) != len(want.MsgList) {
			t.Fatalf("page %+v from %s", got, page)
		}
		for i, raw := range want.MsgList {
			m, err := wechat.ParseKfMessage(raw)
			if err != nil || !reflect.DeepEqual(m, got.Messages[i]) {
				t.Fatalf("message %d: %+v, want %+v (%v)", i, got.Messages[i], m, err)
			}
		}

		side, svc, store := pullWorld(t, kf, now)
		batch, err := side.Pull(ctx, "wk1", "T", "")
		if err != nil {
			t.Fatalf("pull of a page that parsed: %v", err)
		}
		if len(batch.Messages) > len(got.Messages) || batch.Cursor != got.NextCursor || batch.More != got.HasMore {
			t.Fatalf("pulled %d messages (cursor %q) from a page of %d", len(batch.Messages), batch.Cursor, len(got.Messages))
		}
		if err := svc.Receive(ctx, batch.Messages); err != nil {
			t.Fatalf("applying the page: %v", err)
		}
		before := storedState(ctx, t, store)
		if err := svc.Receive(ctx, batch.Messages); err != nil {
			t.Fatalf("applying the page again: %v", err)
		}
		if after := storedState(ctx, t, store); !reflect.DeepEqual(before, after) {
			t.Fatalf("the page applied twice stored more:\n%v\n%v", before, after)
		}
	})
}

// pullWorld is the bridge on the in-memory store with one employee, Ann, and
// the kf side over kf, as a pull job sees them.
func pullWorld(t *testing.T, kf *wechat.KfClient, now time.Time) (*wechat.Side, *bridge.Service, *memstore.Store) {
	t.Helper()
	ctx := context.Background()
	store := memstore.New()
	svc := bridge.NewService(store, bridge.Options{Now: func() time.Time { return now }, AutoEnable: true, Account: "wk1", Log: quiet()})
	side, err := wechat.NewSide(wechat.SideConfig{Kf: kf, OpenKfID: "wk1", Bridge: svc, Media: store, Company: "default", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	svc.Attach(side, nopTeams{})
	if err := svc.EnsureCompany(ctx, "Contoso", "tenant", bridge.English); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.EmployeeInstalled(ctx, bridge.Installation{TenantID: "tenant", AADObjectID: "oid-ann", TeamsUserID: "29:ann", Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	return side, svc, store
}

// syncAnswers is a WeChat that answers sync_msg with page.
func syncAnswers(page []byte) answers {
	return answers(func(r *http.Request) (int, string, []byte) {
		switch r.URL.Path {
		case "/cgi-bin/gettoken":
			return 200, "application/json", tokenAnswer
		case "/cgi-bin/kf/sync_msg":
			return 200, "application/json; charset=utf-8", page
		case "/cgi-bin/media/get":
			return 200, "image/jpeg", []byte("\xff\xd8\xff\xe0 a consumer's photo")
		}
		return 404, "text/plain", nil
	})
}

// A message whose send_time names no time (here the year 33658, found by
// FuzzSyncMsgPage) is applied as received now, with the rest of its page;
// it used to fail the page's pull job for ever.
func TestPageWithAnImpossibleSendTimeIsApplied(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2021, 3, 11, 16, 0, 0, 0, time.UTC)
	page := []byte(`{"errcode":0,"next_cursor":"c1","has_more":0,"msg_list":[` +
		`{"msgid":"a","open_kfid":"wk1","external_userid":"wm1","send_time":1000000000000,"origin":3,"msgtype":"text","text":{"content":"from the future"}},` +
		`{"msgid":"b","open_kfid":"wk1","external_userid":"wm2","send_time":-62135596801,"origin":3,"msgtype":"text","text":{"content":"from before year 1"}},` +
		`{"msgid":"c","open_kfid":"wk1","external_userid":"wm3","send_time":1615478585,"origin":3,"msgtype":"text","text":{"content":"on time"}}]}`)
	kf := wechat.NewKfClient(corpID, secret, wechat.ClientOptions{BaseURL: "https://qyapi.example", HTTPClient: &http.Client{Transport: syncAnswers(page)}})
	side, svc, store := pullWorld(t, kf, now)
	batch, err := side.Pull(ctx, "wk1", "T", "")
	if err != nil || len(batch.Messages) != 3 {
		t.Fatalf("pulled %d messages: %v", len(batch.Messages), err)
	}
	if err := svc.Receive(ctx, batch.Messages); err != nil {
		t.Fatalf("applying the page: %v", err)
	}
	if !batch.Messages[0].At.IsZero() || !batch.Messages[1].At.IsZero() || !batch.Messages[2].At.Equal(time.Unix(1615478585, 0)) {
		t.Fatalf("times %v (zero: now) %v %v", batch.Messages[0].At, batch.Messages[1].At, batch.Messages[2].At)
	}
	texts := 0
	for _, e := range store.ArchiveEvents() {
		if e.Kind == "message.in" {
			texts++
		}
	}
	if texts != 3 {
		t.Fatalf("%d consumer messages stored, want 3", texts)
	}
}

// storedState is what a store holds that a message changes: the archive
// (every message and notice is an event) and the pending jobs.
func storedState(ctx context.Context, t *testing.T, s *memstore.Store) []string {
	t.Helper()
	var out []string
	for _, e := range s.ArchiveEvents() {
		out = append(out, e.Thread+"/"+string(e.Kind)+"/"+string(e.Body))
	}
	jobs, err := s.PendingJobs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		out = append(out, "job "+j.Lane+" "+j.Kind)
	}
	return out
}

type nopTeams struct{}

func (nopTeams) Deliver(context.Context, bridge.Delivery) error { return nil }

// apiCalls are the WeChat APIs FuzzAPIAnswer answers, by the fuzzer's op byte:
// the path that gets the fuzzed answer, and the call that makes the request.
var apiCalls = []struct {
	path string
	call func(ctx context.Context, kf *wechat.KfClient, oa *wechat.OAClient) error
}{
	{"/cgi-bin/gettoken", func(ctx context.Context, kf *wechat.KfClient, _ *wechat.OAClient) error {
		_, err := kf.ServiceStateTrans(ctx, "wk1", "wm1", wechat.StateEnded, "")
		return err
	}},
	{"/cgi-bin/kf/send_msg", func(ctx context.Context, kf *wechat.KfClient, _ *wechat.OAClient) error {
		_, err := kf.SendMsg(ctx, wechat.KfSend{ToUser: "wm1", OpenKfID: "wk1", MsgID: "m1", Outgoing: wechat.Outgoing{Kind: wechat.KindText, Text: "hi"}})
		return err
	}},
	{"/cgi-bin/kf/customer/batchget", func(ctx context.Context, kf *wechat.KfClient, _ *wechat.OAClient) error {
		_, _, err := kf.Customers(ctx, []string{"wm1", "wm2"})
		return err
	}},
	{"/cgi-bin/kf/service_state/get", func(ctx context.Context, kf *wechat.KfClient, _ *wechat.OAClient) error {
		_, _, err := kf.ServiceStateGet(ctx, "wk1", "wm1")
		return err
	}},
	{"/cgi-bin/media/get", func(ctx context.Context, kf *wechat.KfClient, _ *wechat.OAClient) error {
		_, err := kf.GetMedia(ctx, "MEDIA1")
		return err
	}},
	{"/cgi-bin/kf/account/list", func(ctx context.Context, kf *wechat.KfClient, _ *wechat.OAClient) error {
		_, err := kf.ListAccounts(ctx)
		return err
	}},
	{"/cgi-bin/kf/add_contact_way", func(ctx context.Context, kf *wechat.KfClient, _ *wechat.OAClient) error {
		_, err := kf.AddContactWay(ctx, "wk1", "emp1")
		return err
	}},
	{"/cgi-bin/token", func(ctx context.Context, _ *wechat.KfClient, oa *wechat.OAClient) error {
		return oa.SendCustom(ctx, "o1", wechat.Outgoing{Kind: wechat.KindText, Text: "hi"})
	}},
	{"/cgi-bin/user/info", func(ctx context.Context, _ *wechat.KfClient, oa *wechat.OAClient) error {
		_, err := oa.UserInfo(ctx, "o1")
		return err
	}},
	{"/cgi-bin/qrcode/create", func(ctx context.Context, _ *wechat.KfClient, oa *wechat.OAClient) error {
		_, err := oa.CreateQRCode(ctx, "emp1", time.Hour)
		return err
	}},
	{"/cgi-bin/media/upload", func(ctx context.Context, _ *wechat.KfClient, oa *wechat.OAClient) error {
		_, err := oa.UploadMedia(ctx, wechat.MediaImage, "a.png", strings.NewReader("\x89PNG"))
		return err
	}},
}

// FuzzAPIAnswer: whatever a WeChat API answers (status, content type, body),
// each client call ends with a typed error or a result, never a panic or a
// hang: an HTTP 5xx is a *TransportError with its status, an errcode is an
// *APIError with that code, a success is an HTTP 200 whose errcode is 0, and
// no error repeats the secret or the access token.
func FuzzAPIAnswer(f *testing.F) {
	for op, body := range []string{
		`{"errcode":0,"errmsg":"ok","access_token":"accesstoken000001","expires_in":7200}`,
		`{"errcode":0,"errmsg":"ok","msgid":"m1"}`,
		`{"errcode":0,"errmsg":"ok","customer_list":[{"external_userid":"wm1","nickname":"张三","avatar":"http://xxxxx","gender":1,"unionid":"oxasdaosaosdasdasdasd"}],"invalid_external_userid":["wm2"]}`,
		`{"errcode":0,"errmsg":"ok","service_state":3,"servicer_userid":"zhangsan"}`,
		`{"errcode":40007,"errmsg":"invalid media_id"}`,
		`{"errcode":0,"errmsg":"ok","account_list":[{"open_kfid":"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q","name":"咨询客服","avatar":"https://wework.qpic.cn/wwhead/duc2TvpEgSSjibPZlNR6chpx9W3dtd9Ogp8XEmSNKGa6uufMWn2239HUPuwIFoYYZ7Ph580FPvo8/0"}]}`,
		`{"errcode":0,"errmsg":"ok","url":"https://work.weixin.qq.com/kf/kfcbf8f8d07ac7215f?enc_scene=ENCGFSDF567DF"}`,
		`{"access_token":"ACCESS_TOKEN","expires_in":7200}`,
		`{"subscribe":1,"openid":"o6_bmjrPTlm6_2sgVt7hMZOPfL2M","language":"zh_CN","nickname":"Band","headimgurl":"http://thirdwx.qlogo.cn/mmopen/g3MonUZtNHkdmzicIlibx6iaFqAc56vxLSUfpb6n5WKSYVY0ChQKkiaJSgQ1dZuTOgvLLrhJbERQQ4eMsv84eavHiaiceqxibJxCfHe/0","unionid":"o6_bmasdasdsad6_2sgVt7hMZOPfL"}`,
		`{"ticket":"gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw==","expire_seconds":3600,"url":"http://weixin.qq.com/q/kZgfwMTm72WWPkovabbI"}`,
		`{"type":"image","media_id":"MEDIA_ID","created_at":123456789}`,
	} {
		f.Add(uint8(op), uint16(200), "application/json; encoding=utf-8", []byte(body))
	}
	f.Add(uint8(4), uint16(200), "image/jpeg", []byte("\xff\xd8\xff\xe0"))
	f.Add(uint8(4), uint16(200), "text/plain", []byte(`{"video_url":"http://weixin.qq.com/video.mp4"}`))
	f.Add(uint8(1), uint16(200), "application/json", []byte(`{"errcode":42001,"errmsg":"access_token expired"}`))
	f.Add(uint8(1), uint16(503), "text/html", []byte(`<html>busy</html>`))
	f.Add(uint8(2), uint16(404), "", []byte(``))
	// testdata/fuzz/FuzzAPIAnswer holds what the target found.
	ctx := context.Background()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, op uint8, status uint16, contentType string, body []byte) {
		c := apiCalls[int(op)%len(apiCalls)]
		code := int(status)
		if code < 100 || code > 599 {
			code = 100 + code%500
		}
		calls := 0
		api := answers(func(r *http.Request) (int, string, []byte) {
			calls++
			if calls > 1000 {
				t.Fatalf("%s: more than 1000 requests for one call", c.path)
			}
			switch r.URL.Path {
			case c.path:
				return code, contentType, body
			case "/cgi-bin/gettoken", "/cgi-bin/token":
				return 200, "application/json", tokenAnswer
			}
			return 404, "text/plain", []byte("not found")
		})
		opts := wechat.ClientOptions{BaseURL: "https://api.example", HTTPClient: &http.Client{Transport: api}, Now: func() time.Time { return now }}
		err := c.call(ctx, wechat.NewKfClient(corpID, secret, opts), wechat.NewOAClient(appID, appSec, opts))
		var answer struct {
			ErrCode *int `json:"errcode"`
		}
		isJSON := json.Unmarshal(body, &answer) == nil
		file := c.path == "/cgi-bin/media/get" && code == 200 && !strings.HasPrefix(contentType, "application/json") && !strings.HasPrefix(contentType, "text/plain")
		if err == nil {
			if code != 200 || (!file && isJSON && answer.ErrCode != nil && *answer.ErrCode != 0) {
				t.Fatalf("%s: http %d %s accepted", c.path, code, body)
			}
			return
		}
		if !bytes.Contains(body, []byte(secret)) && !bytes.Contains(body, []byte(appSec)) && !bytes.Contains(body, []byte(fuzzToken)) {
			for _, s := range []string{secret, appSec, fuzzToken} {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error repeats a secret: %v", err)
				}
			}
		}
		var apiErr *wechat.APIError
		var te *wechat.TransportError
		switch {
		case code >= 500:
			if !errors.As(err, &te) || te.Status != code {
				t.Fatalf("%s: http %d gave %v", c.path, code, err)
			}
		case !file && isJSON && answer.ErrCode != nil && *answer.ErrCode != 0:
			if !errors.As(err, &apiErr) || apiErr.Code != *answer.ErrCode {
				t.Fatalf("%s: errcode %d gave %v", c.path, *answer.ErrCode, err)
			}
		case !strings.HasPrefix(err.Error(), "wechat: "):
			t.Fatalf("%s: error without the package's prefix: %v", c.path, err)
		}
	})
}
