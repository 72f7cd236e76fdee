package bot

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/multiline/multiline/bridge"
)

// fileHost stands in for OneDrive/SharePoint: it serves a file's pre-authorised
// downloadUrl (the tempauth query) and records every request's Authorization.
type fileHost struct {
	mu    sync.Mutex
	files map[string][]byte
	authz []string
}

func (h *fileHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.authz = append(h.authz, r.Header.Get("Authorization"))
	data, ok := h.files[r.URL.Path]
	if !ok || r.URL.Query().Get("tempauth") != "T0KEN-in-link" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(data)
}

func (h *fileHost) requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.authz...)
}

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 64)...)

// fileAttachment is a file as Teams delivers it in a personal chat.
func fileAttachment(host *httptest.Server, name, fileType string) map[string]any {
	return map[string]any{
		"contentType": FileDownloadInfoType,
		"contentUrl":  "https://contoso-my.sharepoint.com/personal/ann/Documents/Microsoft Teams Chat Files/" + name,
		"name":        name,
		"content": map[string]any{
			"downloadUrl": host.URL + "/" + name + "?tempauth=T0KEN-in-link",
			"uniqueId":    "1150D938-8870-4044-9F2C-5BBDEBA70C8C",
			"fileType":    fileType,
		},
	}
}

// withAttachments is a chat message with attachments; Teams adds the text/html
// copy of the message, which is not media.
func withAttachments(en *env, e bridge.Employee, text string, atts ...map[string]any) map[string]any {
	a := msgActivity(en, e, text)
	list := []any{}
	for _, at := range atts {
		list = append(list, at)
	}
	list = append(list, map[string]any{"contentType": "text/html", "content": "<div>" + text + "</div>"})
	a["attachments"] = list
	return a
}

// Files and images sent in the 1:1 chat reach the thread in focus, stored first;
// the bot's token goes to the connector's host only; every refusal is answered in
// words and leaves nothing behind where the bridge can check first.
func TestFilesFromTheChat(t *testing.T) {
	const botToken = "tok-BOT-secret"
	type want struct {
		sent      []bridge.Content // Send calls, MediaRef ignored
		stored    int
		fetched   int      // requests to the file host
		replyHas  []string // the bot's last reply says these
		storedCT  string   // content type of the first stored item
		storedLen int
	}
	cases := []struct {
		name  string
		opts  envOptions
		setup func(en *env, e bridge.Employee)
		msg   func(en *env, e bridge.Employee, host *httptest.Server) map[string]any
		want  want
	}{
		{
			name: "file with an HTML caption",
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				return withAttachments(en, e, "<p>please sign &amp; return</p>", fileAttachment(host, "contract.pdf", "pdf"))
			},
			want: want{sent: []bridge.Content{{MediaKind: "file", FileName: "contract.pdf", Text: "please sign & return"}}, stored: 1, fetched: 1,
				replyHas: []string{"contract.pdf", "please sign", "Delivered"}, storedCT: "application/pdf", storedLen: 14},
		},
		{
			name: "picture sent as a file goes as an image",
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				return withAttachments(en, e, "", fileAttachment(host, "photo.png", "png"))
			},
			want: want{sent: []bridge.Content{{MediaKind: "image", FileName: "photo.png"}}, stored: 1, fetched: 1, storedCT: "image/png", storedLen: len(pngBytes)},
		},
		{
			name: "pasted image on the connector's host, with the bot's token",
			opts: envOptions{token: botToken},
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				img := map[string]any{"contentType": "image/png", "contentUrl": en.srv.URL + en.fake.AddAttachment("image/png", pngBytes)}
				return withAttachments(en, e, "<at>MultiLine</at> look", img)
			},
			want: want{sent: []bridge.Content{{MediaKind: "image", FileName: "image.png", Text: "look"}}, stored: 1, storedCT: "image/png", storedLen: len(pngBytes)},
		},
		{
			name: "image elsewhere is fetched without the token",
			opts: envOptions{token: botToken},
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				img := map[string]any{"contentType": "image/*", "contentUrl": host.URL + "/photo.png?tempauth=T0KEN-in-link"}
				return withAttachments(en, e, "", img)
			},
			want: want{sent: []bridge.Content{{MediaKind: "image", FileName: "image.png"}}, stored: 1, fetched: 1, storedCT: "image/png", storedLen: len(pngBytes)},
		},
		{
			name: "too large",
			opts: envOptions{maxMedia: 10},
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				return withAttachments(en, e, "caption", fileAttachment(host, "contract.pdf", "pdf"))
			},
			want: want{fetched: 1, replyHas: []string{"too large"}},
		},
		{
			name: "download fails",
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				return withAttachments(en, e, "", fileAttachment(host, "gone.pdf", "pdf"))
			},
			want: want{fetched: 1, replyHas: []string{"could not be downloaded"}},
		},
		{
			name:  "account cannot send files: refused by Send",
			setup: func(en *env, e bridge.Employee) { en.core.refuse = refuseFiles },
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				return withAttachments(en, e, "", fileAttachment(host, "contract.pdf", "pdf"))
			},
			// Without a ContentChecker the file is stored before the bridge refuses it.
			want: want{stored: 1, fetched: 1, replyHas: []string{"cannot send files"}},
		},
		{
			name:  "account cannot send files: refused before a byte is fetched",
			opts:  envOptions{checker: true},
			setup: func(en *env, e bridge.Employee) { en.core.refuse = refuseFiles },
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				return withAttachments(en, e, "", fileAttachment(host, "contract.pdf", "pdf"))
			},
			want: want{replyHas: []string{"cannot send files"}},
		},
		{
			name:  "a refused file does not take the image with it",
			opts:  envOptions{checker: true},
			setup: func(en *env, e bridge.Employee) { en.core.refuse = refuseFiles },
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				return withAttachments(en, e, "both", fileAttachment(host, "contract.pdf", "pdf"), fileAttachment(host, "photo.png", "png"))
			},
			want: want{sent: []bridge.Content{{MediaKind: "image", FileName: "photo.png", Text: "both"}}, stored: 1, fetched: 1, replyHas: []string{"photo.png", "both"}},
		},
		{
			name: "no thread in focus: asks, fetches nothing",
			setup: func(en *env, e bridge.Employee) {
				en.core.addThread(thread("t2", "Wang Fang", bridge.StatusActive), e.ID)
			},
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				return withAttachments(en, e, "", fileAttachment(host, "contract.pdf", "pdf"))
			},
			want: want{replyHas: []string{"Which conversation"}},
		},
		{
			name: "caption too long: nothing fetched",
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				return withAttachments(en, e, strings.Repeat("x", bridge.MaxTextBytes+1), fileAttachment(host, "contract.pdf", "pdf"))
			},
			want: want{replyHas: []string{"too long"}},
		},
		{
			name:  "no media store",
			setup: func(en *env, e bridge.Employee) { en.bot.media = nil },
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				return withAttachments(en, e, "", fileAttachment(host, "contract.pdf", "pdf"))
			},
			want: want{replyHas: []string{"cannot be sent from this chat"}},
		},
		{
			name:  "disabled employee",
			setup: func(en *env, e bridge.Employee) { en.core.with(e.ID, func(e *bridge.Employee) { e.Enabled = false }) },
			msg: func(en *env, e bridge.Employee, host *httptest.Server) map[string]any {
				return withAttachments(en, e, "", fileAttachment(host, "contract.pdf", "pdf"))
			},
			want: want{replyHas: []string{"WeChat is disabled for you"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			en := newEnvWith(t, tc.opts)
			host := &fileHost{files: map[string][]byte{"/contract.pdf": []byte("%PDF-1.7 test!"), "/photo.png": pngBytes}}
			hs := httptest.NewServer(host)
			defer hs.Close()
			e := en.employee("ann")
			en.core.addThread(thread("t1", "Li Wei", bridge.StatusActive), e.ID)
			if tc.setup != nil {
				tc.setup(en, e)
			}
			if rec := en.post(t, tc.msg(en, e, hs)); rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			var sent []bridge.Content
			for _, c := range en.core.sent {
				if c.MediaRef == "" {
					t.Errorf("sent without a stored ref: %+v", c)
				}
				c.MediaRef = ""
				sent = append(sent, c)
			}
			if len(sent) != len(tc.want.sent) {
				t.Fatalf("sent %+v, want %+v", sent, tc.want.sent)
			}
			for i := range sent {
				if sent[i] != tc.want.sent[i] {
					t.Errorf("sent %+v, want %+v", sent[i], tc.want.sent[i])
				}
			}
			if n := en.media.count(); n != tc.want.stored {
				t.Errorf("stored %d, want %d", n, tc.want.stored)
			}
			if tc.want.storedCT != "" {
				m := en.media.items["m1"]
				if m.contentType != tc.want.storedCT || len(m.data) != tc.want.storedLen || m.company != string(e.Company) {
					t.Errorf("stored %q, %d bytes, company %q", m.contentType, len(m.data), m.company)
				}
				if len(sent) > 0 && m.fileName != sent[0].FileName {
					t.Errorf("stored as %q, sent as %q", m.fileName, sent[0].FileName)
				}
			}
			reqs := host.requests()
			if len(reqs) != tc.want.fetched {
				t.Errorf("%d requests to the file host, want %d", len(reqs), tc.want.fetched)
			}
			for _, h := range reqs {
				if h != "" {
					t.Errorf("the file host got Authorization %q", h)
				}
			}
			if len(tc.want.replyHas) > 0 {
				got := en.lastText(t, e.Conversation.ConversationID)
				for _, w := range tc.want.replyHas {
					if !strings.Contains(got, w) {
						t.Errorf("reply lacks %q: %s", w, got)
					}
				}
				if strings.Contains(got, botToken) || strings.Contains(got, "T0KEN-in-link") {
					t.Errorf("reply shows a credential: %s", got)
				}
			}
			if logs := en.logs.String(); strings.Contains(logs, botToken) || strings.Contains(logs, "T0KEN-in-link") {
				t.Errorf("the log shows a credential:\n%s", logs)
			}
		})
	}
}

func refuseFiles(c bridge.Content) error {
	if c.MediaKind == "file" {
		return bridge.ErrUnsupportedContent
	}
	return nil
}

func TestCaption(t *testing.T) {
	cases := map[string]string{
		"plain text":                            "plain text",
		"<at>MultiLine</at> hi":                 "hi",
		"<p>one</p><p>two&nbsp;&amp; three</p>": "one\ntwo & three",
		"a < b > c":                             "a < b > c",
		"line<br/>break":                        "line\nbreak",
		"<div><img src=\"x\" alt=\"\"></div>":   "",
	}
	for in, want := range cases {
		if got := caption(in); got != want {
			t.Errorf("caption(%q) = %q, want %q", in, got, want)
		}
	}
}

// A disabled employee who writes, asks for help or acts on a card is told
// plainly that WeChat is disabled for them, and nothing else happens.
func TestDisabledEmployee(t *testing.T) {
	en := newEnv(t, false)
	e := en.employee("ann")
	th := thread("t1", "Li Wei", bridge.StatusActive)
	en.core.addThread(th, e.ID)
	en.core.with(e.ID, func(e *bridge.Employee) { e.Enabled = false; e.Blocked = true })
	conv := e.Conversation.ConversationID
	for _, text := range []string{"hello there", "help", "threads", "leave"} {
		if rec := en.post(t, msgActivity(en, e, text)); rec.Code != 200 {
			t.Fatalf("%s: status %d", text, rec.Code)
		}
		acts := en.fake.Activities(conv)
		var a struct {
			Text        string `json:"text"`
			Attachments []any  `json:"attachments"`
		}
		json.Unmarshal(acts[len(acts)-1].Body, &a)
		if !strings.Contains(a.Text, "WeChat is disabled for you") || len(a.Attachments) != 0 {
			t.Errorf("%s: reply %s", text, acts[len(acts)-1].Body)
		}
	}
	zh := msgActivity(en, e, "你好")
	zh["locale"] = "zh-CN"
	en.post(t, zh)
	if got := en.lastText(t, conv); !strings.Contains(got, "微信功能已停用") {
		t.Errorf("zh-CN reply: %s", got)
	}
	rec := en.post(t, invokeActivity(en, e, "1:1", "send", map[string]any{"thread": "t1", "reply": "hi"}))
	var r InvokeResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.StatusCode != 200 || r.Type != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("invoke answer %s", rec.Body)
	}
	if body, _ := json.Marshal(r.Value); !strings.Contains(string(body), "WeChat is disabled for you") {
		t.Errorf("card action answered %s", body)
	}
	got := en.core.employee(e.ID)
	if len(en.core.sent) != 0 || got.Focus != "" || !got.Blocked || len(en.core.cards) != 0 {
		t.Errorf("something happened for a disabled employee: sent %v, focus %q, blocked %v, cards %d", en.core.sent, got.Focus, got.Blocked, len(en.core.cards))
	}

	// Installing the app while disabled says so instead of welcoming.
	en.fake.AddConversation("a:new", "tenant", "29:zoe")
	en.core.addEmployee(bridge.Employee{ID: "zoe", TenantID: "tenant", TeamsUserID: "29:zoe"})
	en.post(t, activity(en, "29:zoe", "a:new", "installationUpdate", map[string]any{"action": "add"}))
	if got := en.lastText(t, "a:new"); !strings.Contains(got, "WeChat is disabled for you") || strings.Contains(got, "Welcome") {
		t.Errorf("install while disabled: %s", got)
	}
}

// The bridge may find an employee disabled between the lookup and the send; its
// error reads the same.
func TestDisabledBySend(t *testing.T) {
	en := newEnv(t, false)
	e := en.employee("ann")
	en.core.addThread(thread("t1", "Li Wei", bridge.StatusActive), e.ID)
	en.core.refuse = func(bridge.Content) error { return bridge.ErrEmployeeDisabled }
	en.post(t, msgActivity(en, e, "hello"))
	if got := en.lastText(t, e.Conversation.ConversationID); !strings.Contains(got, "WeChat is disabled for you") {
		t.Errorf("reply: %s", got)
	}
}
