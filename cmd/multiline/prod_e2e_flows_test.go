package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiline/multiline/internal/prodfakes"
	"github.com/multiline/multiline/storage/pgtest"
	"github.com/multiline/multiline/wechat/fakewechat"
)

// TestProductionE2E runs the service as a company would on its first day, in
// production mode (`multiline serve` without --dev), against the fakes of
// prod_e2e_harness_test.go, and shows each item of issue 9 as a subtest.
func TestProductionE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	began := time.Now()
	buildBinary(t) // once, before any clock starts
	run := newProdRun(t)
	t.Run("wecom_kf", func(t *testing.T) { prodKf(t, run) })
	t.Run("06_concurrent_first_messages_make_one_thread", func(t *testing.T) {
		t.Run("sqlite", func(t *testing.T) { prodConcurrentFirst(t, run, "") })
		t.Run("postgres", func(t *testing.T) { prodConcurrentFirst(t, run, pgtest.Schema(t)) })
	})
	t.Run("11_cross_origin_state_change_with_dev_cookie_refused", func(t *testing.T) { prodCrossOrigin(t, run) })
	t.Run("startup_wecom_open_kfid", func(t *testing.T) { prodStartupAccount(t, run) })
	t.Run("12_no_secret_in_any_log", func(t *testing.T) { prodNoSecrets(t, run) })
	t.Logf("production e2e took %s", time.Since(began).Round(time.Millisecond))
}

// prodKf is one WeCom kf deployment on SQLite, with WECOM_OPEN_KFID set, two
// employees (Ann and Bob) and the subtests that share it.
func prodKf(t *testing.T, run *prodRun) {
	w := run.world(t, prodOptions{name: "kf"})
	ann := w.install("ann", "Ann Lee", true)
	bob := w.install("bob", "Bob Chen", true)
	links := map[*prodEmployee]string{} // contact links, once the tab gave them

	// arrive brings a new consumer in through e's contact link, when there is one,
	// so that routing does not depend on the pool's round robin.
	arrive := func(w *prodWorld, consumer string, e *prodEmployee) {
		if l := links[e]; l != "" {
			w.arrive(consumer, l)
		}
	}

	t.Run("00_entra_through_proxy_and_signed_activities", func(t *testing.T) {
		w := w.in(t)
		// The welcome cards went out with a token from the Entra fake, fetched by
		// azidentity through the proxy after instance discovery.
		authorized, _, unauthed := w.cw.counts()
		if authorized == 0 || len(unauthed) > 0 {
			t.Fatalf("Bot Connector: %d authorized requests, refused %q", authorized, unauthed)
		}
		var seen []string
		for _, r := range run.entra.Requests() {
			seen = append(seen, fmt.Sprintf("%s %s %d %s", r.Method, r.Path, r.Status, r.Form.Get("scope")))
		}
		all := strings.Join(seen, "\n")
		for _, want := range []string{"GET /common/discovery/instance 200",
			"GET /" + run.tenant + "/v2.0/.well-known/openid-configuration 200",
			"POST /" + run.tenant + "/oauth2/v2.0/token 200 " + prodfakes.BotFrameworkScope} {
			if !strings.Contains(all, want) {
				t.Errorf("Entra never saw %q; it saw:\n%s", want, all)
			}
		}
		if !strings.Contains(strings.Join(run.proxy.Tunnels(), " "), prodfakes.EntraHost+":443") {
			t.Errorf("nothing went through the proxy to Entra: %q", run.proxy.Tunnels())
		}
		// Unsigned and mis-signed activities are refused, and nothing is posted.
		before := len(w.conn.Requests())
		a := w.activity(ann, "message", map[string]any{"text": "forged"})
		b, _ := json.Marshal(a)
		if st, _ := w.do("POST", "/api/messages", "", "application/json", bytes.NewReader(b), nil); st != 401 {
			t.Errorf("unsigned activity: %d, want 401", st)
		}
		other := run.bf.ChannelToken(run.appID, "https://smba.trafficmanager.net/emea/")
		if st, _ := w.do("POST", "/api/messages", "Bearer "+other, "application/json", bytes.NewReader(b), nil); st != 403 && st != 401 {
			t.Errorf("token for another service url: %d, want 401 or 403", st)
		}
		foreign := run.bf.ChannelToken(randGUID(), w.serviceURL())
		if st, _ := w.do("POST", "/api/messages", "Bearer "+foreign, "application/json", bytes.NewReader(b), nil); st != 401 {
			t.Errorf("token for another bot: %d, want 401", st)
		}
		time.Sleep(300 * time.Millisecond)
		if n := len(w.conn.Requests()); n != before {
			t.Errorf("the bot answered a refused activity (%d new requests)", n-before)
		}
	})

	t.Run("01_links_carry_the_real_account", func(t *testing.T) {
		w := w.in(t)
		for _, e := range []*prodEmployee{ann, bob} {
			var me struct {
				ContactLink      string `json:"contact_link"`
				ContactLinkError string `json:"contact_link_error"`
			}
			w.apiJSON(w.sso(e), "GET", "/api/v1/me", nil, 200, &me)
			if me.ContactLink == "" {
				t.Fatalf("%s has no contact link: %q", e.name, me.ContactLinkError)
			}
			if got := w.linkAccount(me.ContactLink); got != w.openKfID {
				t.Fatalf("%s's contact link %s was made for account %q, want WECOM_OPEN_KFID %q", e.name, me.ContactLink, got, w.openKfID)
			}
			links[e] = me.ContactLink
		}
		var opt struct {
			Thread string `json:"thread"`
		}
		w.apiJSON(w.sso(ann), "POST", "/api/v1/opt-in", nil, 201, &opt)
		var link string
		waitFor(t, prodSoon, "the opt-in link on the thread", func() bool {
			link = w.thread(ann, opt.Thread).OptInLink
			return link != ""
		})
		if got := w.linkAccount(link); got != w.openKfID {
			t.Fatalf("opt-in link %s was made for account %q, want %q", link, got, w.openKfID)
		}
		// A consumer coming in through Ann's link is Ann's.
		arrive(w, "wmThroughLink", ann)
		w.consumerSends("wmThroughLink", "hello through your link")
		if who := w.whoSees("hello through your link"); who != ann {
			t.Fatalf("a consumer who came in through Ann's link went to %s", who.name)
		}
		// The fake refuses any other account, and the service never named one.
		if code := w.kfCall("/cgi-bin/kf/add_contact_way", map[string]any{"open_kfid": "wk" + randHex(15), "scene": "x1"}); code != 95000 {
			t.Fatalf("the fake accepted a foreign open_kfid: errcode %d", code)
		}
		for _, c := range w.wx.Calls() {
			if c.OpenKfID != "" && c.OpenKfID != w.openKfID {
				t.Errorf("%s named account %q", c.Path, c.OpenKfID)
			}
		}
	})

	t.Run("07_admins_from_MULTILINE_ADMINS_and_the_app_role", func(t *testing.T) {
		w := w.in(t)
		admin := run.tab.SSOToken(run.appID, prodfakes.SSOUser{ObjectID: w.admin, Name: "Ada Admin"})
		var emps []struct {
			ID string `json:"id"`
		}
		w.apiJSON(admin, "GET", "/api/v1/admin/employees", nil, 200, &emps)
		found := false
		for _, e := range emps {
			found = found || e.ID == ann.id
		}
		if !found {
			t.Fatalf("the admin's employee list lacks Ann: %+v", emps)
		}
		w.apiJSON(admin, "GET", "/api/v1/admin/policy", nil, 200, nil)
		if st, b := w.api(w.sso(ann), "GET", "/api/v1/admin/policy", nil); st != 403 {
			t.Fatalf("a non-admin employee on the admin API: %d %s", st, b)
		}
		if st, b := w.api(w.sso(ann), "PUT", "/api/v1/admin/employees/"+bob.id, map[string]any{"enabled": false}); st != 403 {
			t.Fatalf("a non-admin disabling a colleague: %d %s", st, b)
		}
		role := run.tab.SSOToken(run.appID, prodfakes.SSOUser{ObjectID: randGUID(), Name: "Rita Role", Roles: []string{"MultiLine.Admin"}})
		w.apiJSON(role, "GET", "/api/v1/admin/policy", nil, 200, nil)
		// A token from an issuer the tab does not trust is not an admin's.
		rogue, err := prodfakes.NewTenantIssuer(run.tenant)
		if err != nil {
			t.Fatal(err)
		}
		defer rogue.Close()
		forged := rogue.SSOToken(run.appID, prodfakes.SSOUser{ObjectID: w.admin, Name: "Mallory"})
		run.secret(forged, "a forged SSO token")
		if st, b := w.api(forged, "GET", "/api/v1/admin/policy", nil); st != 401 {
			t.Fatalf("a token signed by an unknown key: %d %s", st, b)
		}
	})

	t.Run("02_a_conversation_answering_400_forever_does_not_stall_the_next_card", func(t *testing.T) {
		w := w.in(t)
		consumer, marker := "wmPoison", "POISON400x"+randHex(4)
		arrive(w, consumer, ann)
		w.consumerSends(consumer, "first words "+marker[10:])
		owner := w.whoSees("first words " + marker[10:])
		w.cw.poisonWith(marker)
		w.consumerSends(consumer, marker+" this card is refused by Teams")
		waitFor(t, prodSoon, "Teams refusing the poisoned card", func() bool { _, n, _ := w.cw.counts(); return n > 0 })
		next := "the next card " + randHex(4)
		w.consumerSends(consumer, next)
		w.waitChat(owner, 60*time.Second, next)
		th := w.threadWith(owner, next)
		t.Logf("dead jobs:\n%s", w.mustCLI("admin", "jobs", "--dead"))
		waitShow(t, prodSoon, "the tab showing that the refused card failed", func() bool {
			for _, m := range w.thread(owner, th.ID).Messages {
				if m.Notice == "teams_undelivered" || strings.Contains(m.Text, marker) && m.Status == "failed" {
					return true
				}
			}
			return false
		}, func() string { return w.showThread(owner, th.ID) })
		out := w.mustCLI("admin", "jobs", "--dead")
		if !strings.Contains(out, "teams.deliver") {
			t.Fatalf("`multiline admin jobs --dead` does not list the dead delivery:\n%s", out)
		}
	})

	t.Run("08_a_dropped_send_logs_no_access_token_and_is_delivered_once", func(t *testing.T) {
		w := w.in(t)
		consumer := "wmDrop"
		arrive(w, consumer, ann)
		w.consumerSends(consumer, "please answer me")
		owner := w.whoSees("please answer me")
		th := w.threadWith(owner, "please answer me")
		marker := "DROPPED" + randHex(4)
		w.wx.dropSend(marker)
		w.apiJSON(w.sso(owner), "POST", "/api/v1/threads/"+th.ID+"/messages", map[string]any{"text": marker + " here is your answer"}, 201, nil)
		w.waitInbox(consumer, prodSoon, marker)
		if !strings.Contains(strings.Join(w.wx.Dropped(), " "), marker) {
			t.Fatal("the send's connection was never dropped")
		}
		waitFor(t, prodSoon, "the resend after the dropped connection", func() bool { return w.sendsCarrying(marker) >= 2 })
		waitFor(t, prodSoon, "the message shown as sent", func() bool {
			for _, m := range w.thread(owner, th.ID).Messages {
				if strings.Contains(m.Text, marker) {
					return m.Status == "sent"
				}
			}
			return false
		})
		time.Sleep(2 * time.Second) // room for a wrong second delivery
		n := 0
		for _, m := range w.inbox(consumer) {
			if strings.Contains(m.Text, marker) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("delivered %d times", n)
		}
		log := w.proc.log.String()
		if excerpt, leaked := leakedParam(log); leaked {
			t.Fatalf("the log holds a secret parameter: …%s…", excerpt)
		}
		for _, tok := range w.wx.Tokens() {
			if strings.Contains(log, tok) {
				t.Fatalf("the log holds access token %s", tok)
			}
		}
	})

	t.Run("expired_wechat_access_token_is_renewed", func(t *testing.T) {
		w := w.in(t)
		consumer := "wmExpiry"
		arrive(w, consumer, ann)
		w.consumerSends(consumer, "are you still there?")
		owner := w.whoSees("are you still there?")
		th := w.threadWith(owner, "are you still there?")
		w.waitInbox(consumer, prodSoon, "Thank you! You can now start messaging")
		issued := len(w.wx.Tokens())
		// WeChat's clock passes the token's life; the service's cached token is refused.
		w.fake.Advance(fakewechat.DefaultTokenTTL + time.Minute)
		reply := "still here " + randHex(3)
		w.apiJSON(w.sso(owner), "POST", "/api/v1/threads/"+th.ID+"/messages", map[string]any{"text": reply}, 201, nil)
		w.waitInbox(consumer, prodSoon, reply)
		refused := false
		for _, c := range w.wx.Calls() {
			refused = refused || bytes.Contains(c.Resp, []byte(`"errcode":42001`))
		}
		if !refused || len(w.wx.Tokens()) <= issued {
			t.Fatalf("the expired token was not refused and renewed (42001 seen: %t, tokens %d -> %d)", refused, issued, len(w.wx.Tokens()))
		}
	})

	t.Run("09_file_with_caption_voice_and_video_reach_wechat", func(t *testing.T) {
		w := w.in(t)
		consumer := "wmMedia"
		arrive(w, consumer, ann)
		w.consumerSends(consumer, "send me the brochure please")
		owner := w.whoSees("send me the brochure please")
		th := w.threadWith(owner, "send me the brochure please")
		caption := "Here is the brochure " + randHex(3)
		pdf := append([]byte("%PDF-1.4\n1 0 obj<<>>endobj\n"), bytes.Repeat([]byte("0"), 2048)...)
		if st, b := w.upload(owner, th.ID, "brochure.pdf", "application/pdf", pdf, caption); st != 201 {
			t.Fatalf("file upload: %d %s", st, b)
		}
		waitFor(t, prodSoon, "the file and its caption in WeChat", func() bool {
			return w.inboxKind(consumer, "file") > 0 && w.inboxHas(consumer, caption)
		})
		for _, m := range w.inbox(consumer) {
			if m.Kind == "file" && (m.Text != "" || m.FileName != "" && m.FileName != "brochure.pdf") {
				t.Fatalf("the file arrived as %+v", m)
			}
		}
		// The consumer answers, which opens a new window for the voice and video.
		w.consumerSends(consumer, "thanks, and the voice note and video?")
		w.waitChat(owner, prodSoon, "thanks, and the voice note and video?")
		amr := append([]byte("#!AMR\n"), bytes.Repeat([]byte{0x3c, 0x48, 0xf5, 0x1f}, 256)...)
		if st, b := w.upload(owner, th.ID, "note.amr", "audio/amr", amr, ""); st != 201 {
			t.Fatalf("voice upload: %d %s", st, b)
		}
		mp4 := append([]byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'm', 'p', '4', '2', 0, 0, 0, 0, 'm', 'p', '4', '2', 'i', 's', 'o', 'm'}, bytes.Repeat([]byte{0}, 4096)...)
		if st, b := w.upload(owner, th.ID, "clip.mp4", "video/mp4", mp4, ""); st != 201 {
			t.Fatalf("video upload: %d %s", st, b)
		}
		waitFor(t, prodSoon, "the voice and the video in WeChat", func() bool {
			return w.inboxKind(consumer, "voice") == 1 && w.inboxKind(consumer, "video") == 1
		})
	})

	t.Run("10_oversized_bodies_get_413_and_a_refused_upload_stores_nothing", func(t *testing.T) {
		w := w.in(t)
		consumer := "wmDoor"
		arrive(w, consumer, ann)
		w.consumerSends(consumer, "knock knock")
		owner := w.whoSees("knock knock")
		other := bob
		if owner == bob {
			other = ann
		}
		th := w.threadWith(owner, "knock knock")
		isJSONError := func(b []byte) bool {
			var e map[string]any
			return json.Unmarshal(b, &e) == nil && len(e) > 0
		}
		big := `{"text":"` + strings.Repeat("a", 2<<20) + `"}`
		if st, b := w.api(w.sso(owner), "POST", "/api/v1/threads/"+th.ID+"/messages", strings.NewReader(big)); st != 413 || !isJSONError(b) {
			t.Errorf("2 MiB JSON message: %d %.200s", st, b)
		}
		if st, b := w.api(w.sso(owner), "PUT", "/api/v1/admin/policy", strings.NewReader(big)); st != 413 && st != 403 {
			t.Errorf("2 MiB JSON policy: %d %.200s", st, b)
		}
		act := w.activity(owner, "message", map[string]any{"text": strings.Repeat("b", 1<<20)})
		if st, _ := w.postActivity(act); st != 413 {
			t.Errorf("1 MiB activity: %d", st)
		}
		cb := fmt.Sprintf("/wechat/callback?msg_signature=%s&timestamp=%d&nonce=%s", randHex(20), time.Now().Unix(), randHex(4))
		if st, b := w.do("POST", cb, "", "text/xml", strings.NewReader("<xml><Encrypt>"+strings.Repeat("c", 2<<20)+"</Encrypt></xml>"), nil); st != 413 {
			t.Errorf("2 MiB WeChat callback: %d %.200s", st, b)
		}
		rows := w.mediaRows()
		if st, b := w.upload(owner, th.ID, "huge.bin", "application/octet-stream", bytes.Repeat([]byte{7}, 21<<20), ""); st != 413 || !isJSONError(b) {
			t.Errorf("21 MiB upload: %d %.200s", st, b)
		}
		if st, b := w.upload(other, th.ID, "notmine.pdf", "application/pdf", []byte("%PDF-1.4 not my thread"), ""); st/100 != 4 {
			t.Errorf("upload to a thread %s is not in: %d %s", other.name, st, b)
		}
		if st, b := w.upload(owner, th.ID, "long.pdf", "application/pdf", []byte("%PDF-1.4 caption too long"), strings.Repeat("长", 1000)); st/100 != 4 {
			t.Errorf("upload with a 3000-byte caption: %d %s", st, b)
		}
		if got := w.mediaRows(); got != rows {
			t.Errorf("refused uploads left %d media rows", got-rows)
		}
	})

	t.Run("05_wechat_send_time_drives_the_clock", func(t *testing.T) {
		w := w.in(t)
		old := "OLD30x" + randHex(3)
		w.wx.age(old, 30*time.Hour)
		arrive(w, "wmOld30", ann)
		w.consumerSends("wmOld30", old+" written during the outage")
		owner := w.whoSees(old)
		notice := "Your contact has not responded for 24 hours"
		if n := strings.Count(w.chat(owner), notice); n > 0 {
			t.Fatalf("%s's chat showed the 24 h notice %d times before", owner.name, n)
		}
		w.waitChat(owner, prodSoon, notice)

		older := "OLD49x" + randHex(3)
		w.wx.age(older, 49*time.Hour)
		arrive(w, "wmOld49", ann)
		w.consumerSends("wmOld49", older+" written long ago")
		owner = w.whoSees(older)
		th := w.threadWith(owner, older)
		var sent struct {
			Status string `json:"status"`
		}
		w.apiJSON(w.sso(owner), "POST", "/api/v1/threads/"+th.ID+"/messages", map[string]any{"text": "sorry for the wait"}, 201, &sent)
		if sent.Status != "queued" {
			t.Errorf("a reply after the 48 h window is %q, want queued", sent.Status)
		}
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			if in := w.inbox("wmOld49"); len(in) > 0 {
				t.Fatalf("a consumer whose message is 49 h old got %+v", in)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("03_disable_and_reenable_an_employee", func(t *testing.T) {
		w := w.in(t)
		shared, alone := "wmShared", "wmAlone"
		arrive(w, shared, ann)
		w.consumerSends(shared, "a question for two")
		o := w.whoSees("a question for two")
		p := bob
		if o == bob {
			p = ann
		}
		th1 := w.threadWith(o, "a question for two")
		if st, b := w.api(w.sso(o), "POST", "/api/v1/threads/"+th1.ID+"/participants", map[string]any{"employee": p.id}); st != 204 {
			t.Fatalf("adding %s: %d %s", p.name, st, b)
		}
		arrive(w, alone, o)
		w.consumerSends(alone, "a question for one")
		if who := w.whoSees("a question for one"); who != o {
			t.Fatalf("the second consumer went to %s, not %s (routing through the contact link)", who.name, o.name)
		}
		th2 := w.threadWith(o, "a question for one")

		w.mustCLI("admin", "disable", o.id)
		left := o.name + " left the conversation"
		w.waitInbox(shared, prodSoon, left)
		w.waitChat(p, prodSoon, left)
		w.waitInbox(alone, prodSoon, left)
		// With nobody left, the thread is routed again: to the only enabled employee.
		w.consumerSends(alone, "is anyone there?")
		w.waitChat(p, prodSoon, "is anyone there?")

		n := len(w.conn.Activities(o.conv))
		w.say(o, "hello, can I still reply?")
		disabled := regexp.MustCompile(`(?i)wechat is (disabled|not enabled)`)
		waitFor(t, prodSoon, "the bot telling "+o.name+" that WeChat is disabled", func() bool {
			acts := w.conn.Activities(o.conv)
			for _, a := range acts[min(n, len(acts)):] {
				if disabled.MatchString(texts(a.Body)) {
					return true
				}
			}
			return false
		})
		if st, b := w.api(w.sso(o), "GET", "/api/v1/threads", nil); st != 403 || !disabled.Match(b) {
			t.Errorf("the tab for a disabled employee: %d %s", st, b)
		}

		w.mustCLI("admin", "enable", o.id)
		for _, s := range w.threads(o) {
			if s.ID == th1.ID || s.ID == th2.ID {
				t.Errorf("re-enabling %s gave back thread %s", o.name, s.ID)
			}
		}
	})

	t.Run("04_a_zh_CN_company_sends_chinese_notices", func(t *testing.T) {
		w := w.in(t)
		w.mustCLI("admin", "policy", "consumer_language=zh-CN")
		defer w.mustCLI("admin", "policy", "consumer_language=auto")
		arrive(w, "wmZhang", ann)
		w.consumerSends("wmZhang", "你好，我想咨询一下")
		owner := w.whoSees("你好，我想咨询一下")
		w.waitInbox("wmZhang", prodSoon, "谢谢！您现在可以开始与您的联系人发消息了。")
		th := w.threadWith(owner, "你好，我想咨询一下")
		if st, b := w.api(w.sso(owner), "POST", "/api/v1/threads/"+th.ID+"/leave", nil); st != 204 {
			t.Fatalf("leave: %d %s", st, b)
		}
		w.waitInbox("wmZhang", prodSoon, owner.name+" 已退出对话。")
		for _, m := range w.inbox("wmZhang") {
			if strings.Contains(m.Text, "Thank you!") || strings.Contains(m.Text, "left the conversation") {
				t.Errorf("an English notice reached a zh-CN company's consumer: %q", m.Text)
			}
		}
	})
}

// linkAccount is the open_kfid that the add_contact_way call which made link named.
func (w *prodWorld) linkAccount(link string) string {
	for _, c := range w.wx.Calls() {
		if c.Path != "/cgi-bin/kf/add_contact_way" {
			continue
		}
		var out struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(c.Resp, &out) == nil && out.URL != "" && out.URL == withoutSceneParam(link) {
			return c.OpenKfID
		}
	}
	return "(no add_contact_way call made " + link + ")"
}

// withoutSceneParam is a kf link without the scene_param that an opt-in adds
// (WeCom: append scene_param to the contact way's url).
func withoutSceneParam(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	q := u.Query()
	if q.Get("scene_param") == "" {
		return link
	}
	q.Del("scene_param")
	u.RawQuery = q.Encode()
	return u.String()
}

// secretParam finds a URL or form parameter that carries a secret.
var secretParam = regexp.MustCompile(`\b(access_token|corpsecret|secret|client_secret|appsecret)=([^&"'\s\\]*)`)

// leakedParam returns an excerpt around the first secret parameter in s whose
// value is not a redaction.
func leakedParam(s string) (string, bool) {
	for _, m := range secretParam.FindAllStringSubmatchIndex(s, -1) {
		switch v := s[m[4]:m[5]]; v {
		case "", "REDACTED", "%5BREDACTED%5D", "[REDACTED]", "xxx", "***":
		default:
			return s[max(0, m[0]-200):min(len(s), m[1]+40)], true
		}
	}
	return "", false
}

// kfCall calls a kf API on the fake itself (not through the recording wire) with
// a fresh token; it returns the errcode.
func (w *prodWorld) kfCall(path string, body any) int {
	w.t.Helper()
	rec := httptest.NewRecorder()
	w.fake.ServeHTTP(rec, httptest.NewRequest("GET", "/cgi-bin/gettoken?corpid="+url.QueryEscape(w.corpID)+"&corpsecret="+url.QueryEscape(w.kfSecret), nil))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(rec.Body.Bytes(), &tok)
	b, _ := json.Marshal(body)
	req := httptest.NewRequest("POST", path+"?access_token="+tok.AccessToken, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	w.fake.ServeHTTP(rec, req)
	var st struct {
		ErrCode int `json:"errcode"`
	}
	json.Unmarshal(rec.Body.Bytes(), &st)
	return st.ErrCode
}

// sendsCarrying counts the kf/send_msg calls whose body holds marker.
func (w *prodWorld) sendsCarrying(marker string) int {
	n := 0
	for _, c := range w.wx.Calls() {
		if c.Path == "/cgi-bin/kf/send_msg" && bytes.Contains(c.Req, []byte(marker)) {
			n++
		}
	}
	return n
}

func (w *prodWorld) inboxKind(consumer, kind string) int {
	n := 0
	for _, m := range w.inbox(consumer) {
		if m.Kind == kind {
			n++
		}
	}
	return n
}

// upload sends a file through the tab's upload API (multipart "file", caption "text").
func (w *prodWorld) upload(e *prodEmployee, thread, name, contentType string, data []byte, caption string) (int, []byte) {
	w.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if caption != "" {
		mw.WriteField("text", caption)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", contentType)
	part, _ := mw.CreatePart(h)
	part.Write(data)
	mw.Close()
	return w.do("POST", "/api/v1/threads/"+thread+"/media", "Bearer "+w.sso(e), mw.FormDataContentType(), &body, nil)
}

// mediaRows counts the stored media in the world's SQLite file.
func (w *prodWorld) mediaRows() int {
	w.t.Helper()
	db, err := sql.Open("sqlite", "file:"+w.db+"?mode=ro")
	if err != nil {
		w.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM media").Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// prodConcurrentFirst: two first messages of a new Official Account consumer,
// signed and encrypted by WeChat (the fake), arrive at the same moment. They make
// one thread, and the consumer is welcomed once.
func prodConcurrentFirst(t *testing.T, run *prodRun, dbURL string) {
	name := "oa-sqlite"
	if dbURL != "" {
		name = "oa-postgres"
	}
	w := run.world(t, prodOptions{name: name, mode: "official-account", dbURL: dbURL})
	olive := w.install("olive", "Olive Wu", true)

	// WeChat seals the two callbacks; the test holds them and lets them go together.
	type held struct {
		query string
		body  []byte
	}
	var mu sync.Mutex
	var got []held
	hold := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, held{query: r.URL.RawQuery, body: b})
		mu.Unlock()
		io.WriteString(rw, "success")
	}))
	defer hold.Close()
	w.fake.SetCallbackURL(hold.URL + "/wechat/callback")
	consumer := "oNew" + randHex(10)
	first, second := "first message A "+randHex(3), "first message B "+randHex(3)
	for _, text := range []string{first, second} {
		if _, err := w.fake.ConsumerSends(context.Background(), consumer, text); err != nil {
			t.Fatal(err)
		}
	}
	w.fake.SetCallbackURL("http://" + w.addr + "/wechat/callback")
	if len(got) != 2 {
		t.Fatalf("held %d callbacks", len(got))
	}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	status := make([]int, 2)
	for i, h := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", "http://"+w.addr+"/wechat/callback?"+h.query, bytes.NewReader(h.body))
			req.Header.Set("Content-Type", "text/xml")
			<-gate
			// WeChat waits 5 s for the answer, then retries.
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
			if err != nil {
				t.Errorf("callback %d: %v", i, err)
				return
			}
			resp.Body.Close()
			status[i] = resp.StatusCode
		}()
	}
	close(gate)
	wg.Wait()
	if status[0] != 200 || status[1] != 200 {
		t.Fatalf("callbacks answered %v", status)
	}
	w.waitChat(olive, prodSoon, first)
	w.waitChat(olive, prodSoon, second)
	n := 0
	for _, s := range w.threads(olive) {
		th := w.thread(olive, s.ID)
		for _, m := range th.Messages {
			if m.Text == first || m.Text == second {
				n++
				break
			}
		}
	}
	if n != 1 {
		t.Fatalf("the two first messages are in %d threads", n)
	}
	waitFor(t, prodSoon, "the welcome", func() bool { return len(w.inbox(consumer)) > 0 })
	time.Sleep(2 * time.Second)
	welcomes := 0
	for _, m := range w.inbox(consumer) {
		if strings.HasPrefix(m.Text, "Thank you! You can now start messaging") {
			welcomes++
		}
	}
	if welcomes != 1 {
		t.Fatalf("the consumer was welcomed %d times: %+v", welcomes, w.inbox(consumer))
	}
}

// prodCrossOrigin: the dev sign-in exists only in local mode, so this runs
// `serve --dev`. A state change carrying a valid dev cookie from another origin is
// refused; the same request from the tab's own origin is not.
func prodCrossOrigin(t *testing.T, run *prodRun) {
	addr := freeAddr(t)
	r := startReplica(t, addr, []string{"MULTILINE_DATABASE_URL=sqlite:" + t.TempDir() + "/dev.db"})
	defer func() {
		r.stop()
		run.log("serve --dev").Write(r.log.Bytes())
	}()
	base := "http://" + addr
	c := &http.Client{Timeout: prodSoon, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", base+"/tab/dev-login", strings.NewReader(url.Values{"new_name": {"Dee Dev"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "multiline_dev_session" && ck.Value != "" {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatalf("dev sign-in: %d, no session cookie", resp.StatusCode)
	}
	optIn := func(origin string) int {
		req, _ := http.NewRequest("POST", base+"/api/v1/opt-in", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(cookie)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	otherPort := "http://127.0.0.1:" + strings.Split(freeAddr(t), ":")[1]
	for _, origin := range []string{otherPort, "https://evil.example", "null"} {
		if st := optIn(origin); st != 403 {
			t.Errorf("opt-in with the dev cookie from origin %s: %d, want 403", origin, st)
		}
	}
	if st := optIn(base); st != 201 {
		t.Errorf("opt-in with the dev cookie from the tab's own origin: %d, want 201", st)
	}
}

// prodStartupAccount: without WECOM_OPEN_KFID the service uses the only account
// kf/account/list returns, and refuses to start, naming the setting, when there
// are several or none.
func prodStartupAccount(t *testing.T, run *prodRun) {
	for _, tc := range []struct {
		name  string
		extra int // accounts besides the fake's
		none  bool
	}{{name: "two_accounts", extra: 1}, {name: "no_account", none: true}} {
		t.Run("refuses_with_"+tc.name, func(t *testing.T) {
			w := run.world(t, prodOptions{name: tc.name, unsetOpenKfID: true, noStart: true})
			accounts := []string{}
			if !tc.none {
				accounts = append(accounts, w.openKfID)
				for range tc.extra {
					accounts = append(accounts, "wk"+randHex(15))
				}
			}
			w.wx.setAccounts(accounts)
			p := run.startProc(t, "serve "+tc.name, w.env, "serve")
			select {
			case <-p.done:
			case <-time.After(prodStart):
				t.Fatalf("still running with %d kf accounts:\n%s", len(accounts), tail(p.log.String(), 2000))
			}
			if p.cmd.ProcessState.ExitCode() == 0 {
				t.Fatalf("exited 0 with %d kf accounts", len(accounts))
			}
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(p.log.String()), "\n") {
				if strings.TrimSpace(l) != "" {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || !strings.Contains(lines[0], "WECOM_OPEN_KFID") {
				t.Fatalf("start-up with %d kf accounts said, in %d lines:\n%s", len(accounts), len(lines), strings.Join(lines, "\n"))
			}
		})
	}
	t.Run("uses_the_only_account", func(t *testing.T) {
		w := run.world(t, prodOptions{name: "only account", unsetOpenKfID: true})
		w.install("una", "Una Only", true)
		w.consumerSends("wmOnly", "hello only account")
		w.whoSees("hello only account")
		w.waitInbox("wmOnly", prodSoon, "Thank you! You can now start messaging")
		listed := false
		for _, c := range w.wx.Calls() {
			listed = listed || c.Path == "/cgi-bin/kf/account/list"
			if c.OpenKfID != "" && c.OpenKfID != w.openKfID {
				t.Errorf("%s named account %q", c.Path, c.OpenKfID)
			}
		}
		if !listed {
			t.Error("the service never asked kf/account/list")
		}
	})
}

// prodNoSecrets scans the output of every process the run started for the
// secrets of the configuration and every token any fake issued or signed.
func prodNoSecrets(t *testing.T, run *prodRun) {
	run.mu.Lock()
	worlds := append([]*prodWorld(nil), run.worlds...)
	run.mu.Unlock()
	if len(worlds) > 0 {
		// `multiline config` shows the settings; secrets stay hidden.
		w := worlds[0].in(t)
		w.cli("config")
	}
	secrets := map[string]string{}
	run.mu.Lock()
	for k, v := range run.secrets {
		secrets[k] = v
	}
	logs := append([]prodLog(nil), run.logs...)
	run.mu.Unlock()
	for _, tok := range run.entra.Issued() {
		secrets[tok.Token] = "an Entra access token (" + tok.Scope + ")"
	}
	for _, tok := range run.bf.Signed() {
		secrets[tok] = "a Bot Framework channel token"
	}
	for _, tok := range run.tab.Signed() {
		secrets[tok] = "a tab SSO token"
	}
	for _, w := range worlds {
		for _, tok := range w.wx.Tokens() {
			secrets[tok] = "a WeChat access token"
		}
	}
	if len(logs) < 5 || len(secrets) < 10 {
		t.Fatalf("only %d logs and %d secrets to scan: the run did not get far", len(logs), len(secrets))
	}
	total := 0
	for _, l := range logs {
		s := l.buf.String()
		total += len(s)
		for _, p := range scanLog(s, secrets) {
			t.Errorf("%s: %s", l.name, p)
		}
	}
	t.Logf("scanned %d bytes of %d logs for %d secrets", total, len(logs), len(secrets))
	// Offline by construction: anything but Entra and Graph is refused; the
	// service must not have tried (a new outside dependency needs a fake).
	if refused := run.proxy.Refused(); len(refused) > 0 {
		t.Errorf("the service tried to reach hosts no fake stands in for: %q", refused)
	}
}

// scanLog returns every secret found in a log: the values in secrets (value ->
// what it is, which the report names instead of the value), secret URL or form
// parameters that are not redacted, bearer tokens and JWTs.
func scanLog(s string, secrets map[string]string) []string {
	var problems []string
	for v, what := range secrets {
		if i := strings.Index(s, v); i >= 0 {
			line := s[strings.LastIndex(s[:i], "\n")+1:]
			if j := strings.Index(line, "\n"); j >= 0 {
				line = line[:j]
			}
			problems = append(problems, fmt.Sprintf("the log holds %s: %.300s", what, strings.ReplaceAll(line, v, "«"+what+"»")))
		}
	}
	if excerpt, leaked := leakedParam(s); leaked {
		problems = append(problems, fmt.Sprintf("the log holds a secret parameter: …%s…", excerpt))
	}
	for _, p := range []string{"Bearer ey", "eyJhbGciOi"} {
		if i := strings.Index(s, p); i >= 0 {
			problems = append(problems, fmt.Sprintf("the log holds %q: …%.200s…", p, s[max(0, i-100):min(len(s), i+100)]))
		}
	}
	slices.Sort(problems)
	return problems
}

// TestScanLogFindsSecrets: the scan of the production e2e finds what it must.
func TestScanLogFindsSecrets(t *testing.T) {
	secrets := map[string]string{"s3cr3t-kf": "WECOM_KF_SECRET"}
	for _, tc := range []struct {
		log  string
		want int
	}{
		{`level=INFO msg="multiline serving" addr=127.0.0.1:1`, 0},
		{`err="Post \"http://127.0.0.1:1/cgi-bin/kf/send_msg?access_token=REDACTED\": EOF"`, 0},
		{`err="Get \"http://x/cgi-bin/gettoken?corpid=ww1&corpsecret=REDACTED\": EOF"`, 0},
		{`err="Post \"http://127.0.0.1:1/cgi-bin/kf/send_msg?access_token=ACCESS_TOKEN_000007\": EOF"`, 1},
		{`err="Get \"http://x/cgi-bin/gettoken?corpid=ww1&corpsecret=s3cr3t-kf\": EOF"`, 2},
		{`msg=request authorization="Bearer eyJhbGciOiJSUzI1NiJ9.e30.x"`, 2},
	} {
		if got := scanLog(tc.log, secrets); len(got) != tc.want {
			t.Errorf("%s: %d problems, want %d: %q", tc.log, len(got), tc.want, got)
		}
	}
}
