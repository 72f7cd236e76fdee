package fakewechat

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/multiline/multiline/wechat"
)

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /cgi-bin/gettoken", s.getTokenKf)
	m.HandleFunc("GET /cgi-bin/token", s.getTokenOA)
	kf, oa, both := wechat.SourceKf, wechat.SourceOfficialAccount, wechat.Source("")
	m.HandleFunc("POST /cgi-bin/kf/account/list", s.authed(kf, s.accountList))
	m.HandleFunc("POST /cgi-bin/kf/sync_msg", s.authed(kf, s.syncMsg))
	m.HandleFunc("POST /cgi-bin/kf/send_msg", s.authed(kf, s.sendMsg))
	m.HandleFunc("POST /cgi-bin/kf/send_msg_on_event", s.authed(kf, s.sendOnEvent))
	m.HandleFunc("POST /cgi-bin/kf/service_state/get", s.authed(kf, s.stateGet))
	m.HandleFunc("POST /cgi-bin/kf/service_state/trans", s.authed(kf, s.stateTrans))
	m.HandleFunc("POST /cgi-bin/kf/add_contact_way", s.authed(kf, s.addContactWay))
	m.HandleFunc("POST /cgi-bin/kf/customer/batchget", s.authed(kf, s.customerBatchGet))
	m.HandleFunc("POST /cgi-bin/message/custom/send", s.authed(oa, s.customSend))
	m.HandleFunc("POST /cgi-bin/qrcode/create", s.authed(oa, s.qrcodeCreate))
	m.HandleFunc("GET /cgi-bin/user/info", s.authed(oa, s.userInfo))
	m.HandleFunc("POST /cgi-bin/media/upload", s.authed(both, s.mediaUpload))
	m.HandleFunc("GET /cgi-bin/media/get", s.authed(both, s.mediaGet))
	m.HandleFunc("GET /fake/media/{id}", s.mediaFile)
	s.controlRoutes(m)
	s.mux = m
}

func (s *Server) issueToken(w http.ResponseWriter, product wechat.Source) {
	s.mu.Lock()
	tok := s.nextID("ACCESS_TOKEN_")
	s.tokens[tok] = issuedToken{product: product, expires: s.nowLocked().Add(s.cfg.TokenTTL)}
	s.mu.Unlock()
	writeJSON(w, ok(map[string]any{"access_token": tok, "expires_in": int64(s.cfg.TokenTTL / time.Second)}))
}

func (s *Server) getTokenKf(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case s.cfg.CorpID == "" || q.Get("corpid") != s.cfg.CorpID:
		writeErr(w, 40013, "invalid corpid")
	case q.Get("corpsecret") != s.cfg.KfSecret:
		writeErr(w, 40001, "invalid secret")
	default:
		s.issueToken(w, wechat.SourceKf)
	}
}

func (s *Server) getTokenOA(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("grant_type") != "client_credential":
		writeErr(w, 40002, "invalid grant_type")
	case s.cfg.AppID == "" || q.Get("appid") != s.cfg.AppID:
		writeErr(w, 40013, "invalid appid")
	case q.Get("secret") != s.cfg.AppSecret:
		writeErr(w, 40125, "invalid appsecret")
	default:
		s.issueToken(w, wechat.SourceOfficialAccount)
	}
}

// api is one API's handler: it answers the JSON to write, or nil when it wrote
// its own answer. product is whose token authorized the call.
type api func(w http.ResponseWriter, r *http.Request, body []byte, product wechat.Source) map[string]any

// authed checks access_token and applies injected faults before the API runs.
// product is the API's product (empty: both have it): a token the other product
// issued is unknown here, as it would be on the other product's host.
func (s *Server) authed(product wechat.Source, next api) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("access_token")
		s.mu.Lock()
		it, known := s.tokens[tok]
		if known && product != "" && it.product != product {
			known = false
		}
		exp := it.expires
		now := s.nowLocked()
		var (
			fault    Fault
			hasFault bool
		)
		if known && now.Before(exp) {
			// A refused token does not use up a fault: the retry should meet it.
			fault, hasFault = s.takeFaultLocked(r.URL.Path)
		}
		s.mu.Unlock()
		switch {
		case tok == "":
			writeErr(w, 41001, "access_token missing")
			return
		case !known:
			writeErr(w, 40014, "invalid access_token")
			return
		case !now.Before(exp):
			writeErr(w, 42001, "access_token expired")
			return
		}
		if hasFault && fault.HTTPStatus != 0 {
			w.WriteHeader(fault.HTTPStatus)
			return
		}
		if hasFault && fault.Errcode != 0 {
			writeErr(w, fault.Errcode, "injected fault")
			return
		}
		var body []byte
		if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				writeErr(w, 40058, "unreadable body")
				return
			}
			body = b
		}
		if hasFault && fault.FailType != 0 {
			r = r.WithContext(withFailType(r.Context(), fault.FailType))
		}
		out := next(w, r, body, it.product)
		if out == nil {
			return // the API wrote its own answer (media/get)
		}
		if hasFault && fault.Delay > 0 {
			// The call has taken effect; only the answer is late.
			select {
			case <-time.After(fault.Delay):
			case <-r.Context().Done():
				return
			}
		}
		writeJSON(w, out)
	}
}

func decode(body []byte, v any) map[string]any {
	if err := json.Unmarshal(body, v); err != nil {
		return map[string]any{"errcode": 47001, "errmsg": "data format error"}
	}
	return nil
}

// errUnknownAccount is kf's answer for an open_kfid that is not the fake's account.
var errUnknownAccount = map[string]any{"errcode": 95000, "errmsg": "invalid open_kfid"}

// accountList serves kf/account/list: offset (0-based) and limit (1..100, default
// 100) page through the one account.
func (s *Server) accountList(_ http.ResponseWriter, _ *http.Request, body []byte, _ wechat.Source) map[string]any {
	var in struct {
		Offset int `json:"offset"`
		Limit  int `json:"limit"`
	}
	if len(body) > 0 {
		if e := decode(body, &in); e != nil {
			return e
		}
	}
	if in.Limit == 0 {
		in.Limit = wechat.MaxAccountPage
	}
	if in.Offset < 0 || in.Limit < 1 || in.Limit > wechat.MaxAccountPage {
		return map[string]any{"errcode": 40058, "errmsg": "invalid offset or limit"}
	}
	all := []map[string]any{{"open_kfid": s.cfg.OpenKfID, "name": s.cfg.KfAccountName,
		"avatar": "https://wework.qpic.cn/fake/avatar", "manage_privilege": true}}
	start := min(in.Offset, len(all))
	end := min(start+in.Limit, len(all))
	return ok(map[string]any{"account_list": all[start:end]})
}

func (s *Server) syncMsg(_ http.ResponseWriter, _ *http.Request, body []byte, _ wechat.Source) map[string]any {
	var in struct {
		Cursor   string `json:"cursor"`
		Token    string `json:"token"`
		Limit    int    `json:"limit"`
		OpenKfID string `json:"open_kfid"`
	}
	if e := decode(body, &in); e != nil {
		return e
	}
	if in.Limit == 0 {
		in.Limit = 1000
	}
	if in.Limit < 0 || in.Limit > 1000 {
		return map[string]any{"errcode": 40058, "errmsg": "invalid limit"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.Token != "" && !s.syncToks[in.Token] {
		return map[string]any{"errcode": 95007, "errmsg": "invalid msg token"}
	}
	if in.OpenKfID != "" && in.OpenKfID != s.cfg.OpenKfID {
		return errUnknownAccount
	}
	start := 0
	if in.Cursor != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.Cursor, "c"))
		if err != nil || n < 0 || n > len(s.syncLog) {
			return map[string]any{"errcode": 95006, "errmsg": "invalid cursor"}
		}
		start = n
	}
	end := min(start+in.Limit, len(s.syncLog))
	list := append([]map[string]any{}, s.syncLog[start:end]...)
	hasMore := 0
	if end < len(s.syncLog) {
		hasMore = 1
	}
	return ok(map[string]any{"next_cursor": "c" + strconv.Itoa(end), "has_more": hasMore, "msg_list": list})
}

// content is the msgtype part shared by send requests.
type content struct {
	MsgType string `json:"msgtype"`
	Text    *struct {
		Content string `json:"content"`
	} `json:"text"`
	Image *struct {
		MediaID string `json:"media_id"`
	} `json:"image"`
	Voice *struct {
		MediaID string `json:"media_id"`
	} `json:"voice"`
	Video *struct {
		MediaID string `json:"media_id"`
	} `json:"video"`
	File *struct {
		MediaID string `json:"media_id"`
	} `json:"file"`
}

// sendable is what each product's send API accepts: kf/send_msg has file messages,
// message/custom/send has none.
var sendable = map[wechat.Source]map[string]bool{
	wechat.SourceKf:              {"text": true, "image": true, "voice": true, "video": true, "file": true},
	wechat.SourceOfficialAccount: {"text": true, "image": true, "voice": true, "video": true},
}

// deliveredLocked validates content and returns what the consumer would see.
func (s *Server) deliveredLocked(c content, product wechat.Source) (Delivered, map[string]any) {
	if !sendable[product][c.MsgType] {
		return Delivered{}, map[string]any{"errcode": 40008, "errmsg": "invalid message type"}
	}
	var mediaID string
	switch c.MsgType {
	case "text":
		if c.Text == nil || c.Text.Content == "" {
			return Delivered{}, map[string]any{"errcode": 44004, "errmsg": "empty content"}
		}
		if len(c.Text.Content) > wechat.MaxTextBytes {
			return Delivered{}, map[string]any{"errcode": 45002, "errmsg": "content size out of limit"}
		}
		return Delivered{Kind: "text", Text: c.Text.Content}, nil
	case "image":
		if c.Image != nil {
			mediaID = c.Image.MediaID
		}
	case "voice":
		if c.Voice != nil {
			mediaID = c.Voice.MediaID
		}
	case "video":
		if c.Video != nil {
			mediaID = c.Video.MediaID
		}
	case "file":
		if c.File != nil {
			mediaID = c.File.MediaID
		}
	}
	m, known := s.media[mediaID]
	// The media must have been uploaded as the type it is sent as (WeCom 40007).
	if !known || m.typ != c.MsgType {
		return Delivered{}, map[string]any{"errcode": 40007, "errmsg": "invalid media_id"}
	}
	return Delivered{Kind: c.MsgType, MediaID: mediaID, FileName: m.filename, ContentType: m.contentType, Size: len(m.data)}, nil
}

func (s *Server) sendMsg(_ http.ResponseWriter, r *http.Request, body []byte, _ wechat.Source) map[string]any {
	var in struct {
		ToUser   string `json:"touser"`
		OpenKfID string `json:"open_kfid"`
		MsgID    string `json:"msgid"`
		content
	}
	if e := decode(body, &in); e != nil {
		return e
	}
	if in.MsgID != "" && wechat.ValidateMsgID(in.MsgID) != nil {
		return map[string]any{"errcode": 40058, "errmsg": "invalid msgid"}
	}
	if in.OpenKfID != s.cfg.OpenKfID {
		return errUnknownAccount
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.MsgID != "" {
		if _, dup := s.sent[in.MsgID]; dup {
			// A resend of a delivered msgid succeeds without a second delivery.
			return ok(map[string]any{"msgid": in.MsgID})
		}
	}
	c := s.consumers[in.ToUser]
	if c == nil {
		return errUnknownConsumer
	}
	switch c.state {
	case wechat.StateEnded:
		return map[string]any{"errcode": 95013, "errmsg": "session ended"}
	case wechat.StatePool, wechat.StateServicer:
		return map[string]any{"errcode": 95018, "errmsg": "session state does not allow sending"}
	}
	d, e := s.deliveredLocked(in.content, wechat.SourceKf)
	if e != nil {
		return e
	}
	now := s.nowLocked()
	if e := ruleLocked(c, now, kfLimits); e != nil {
		return e
	}
	if in.MsgID == "" {
		in.MsgID = s.nextID("MSG")
	}
	c.sends++
	s.sent[in.MsgID] = c.id
	if ft := failTypeFrom(r.Context()); ft != 0 {
		s.appendEventLocked(c.id, map[string]any{"event_type": "msg_send_fail", "fail_msgid": in.MsgID, "fail_type": ft})
		go s.notifyKf()
	} else {
		d.MsgID, d.At, d.Via = in.MsgID, now, "kf/send_msg"
		c.inbox = append(c.inbox, d)
	}
	return ok(map[string]any{"msgid": in.MsgID})
}

func (s *Server) sendOnEvent(_ http.ResponseWriter, _ *http.Request, body []byte, _ wechat.Source) map[string]any {
	var in struct {
		Code  string `json:"code"`
		MsgID string `json:"msgid"`
		content
	}
	if e := decode(body, &in); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wc, found := s.welcome[in.Code]
	if !found || !s.nowLocked().Before(wc.expires) {
		return map[string]any{"errcode": 95016, "errmsg": "invalid or expired code"}
	}
	d, e := s.deliveredLocked(in.content, wechat.SourceKf)
	if e != nil {
		return e
	}
	delete(s.welcome, in.Code) // one message per code
	if in.MsgID == "" {
		in.MsgID = s.nextID("MSG")
	}
	d.MsgID, d.At, d.Via = in.MsgID, s.nowLocked(), "kf/send_msg_on_event"
	c := s.consumerLocked(wc.consumer)
	c.inbox = append(c.inbox, d)
	return ok(map[string]any{"msgid": in.MsgID})
}

func (s *Server) stateGet(_ http.ResponseWriter, _ *http.Request, body []byte, _ wechat.Source) map[string]any {
	var in struct {
		OpenKfID       string `json:"open_kfid"`
		ExternalUserID string `json:"external_userid"`
	}
	if e := decode(body, &in); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.kfConsumerLocked(in.OpenKfID, in.ExternalUserID)
	if e != nil {
		return e
	}
	return ok(map[string]any{"service_state": int(c.state), "servicer_userid": c.servicer})
}

func (s *Server) stateTrans(_ http.ResponseWriter, _ *http.Request, body []byte, _ wechat.Source) map[string]any {
	var in struct {
		OpenKfID       string `json:"open_kfid"`
		ExternalUserID string `json:"external_userid"`
		ServiceState   int    `json:"service_state"`
		ServicerUserID string `json:"servicer_userid"`
	}
	if e := decode(body, &in); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.kfConsumerLocked(in.OpenKfID, in.ExternalUserID)
	if e != nil {
		return e
	}
	st := wechat.ServiceState(in.ServiceState)
	if st < wechat.StateUntreated || st > wechat.StateEnded || (st == wechat.StateServicer) != (in.ServicerUserID != "") {
		return map[string]any{"errcode": 95014, "errmsg": "invalid service_state transition"}
	}
	c.state, c.servicer = st, in.ServicerUserID
	code := s.nextID("MSGCODE")
	s.welcome[code] = welcomeCode{consumer: c.id, expires: s.nowLocked().Add(welcomeCodeTTL)}
	return ok(map[string]any{"msg_code": code})
}

func (s *Server) addContactWay(_ http.ResponseWriter, _ *http.Request, body []byte, _ wechat.Source) map[string]any {
	var in struct {
		OpenKfID string `json:"open_kfid"`
		Scene    string `json:"scene"`
	}
	if e := decode(body, &in); e != nil {
		return e
	}
	if in.OpenKfID != s.cfg.OpenKfID {
		return errUnknownAccount
	}
	if in.Scene != "" && wechat.ValidateMsgID(in.Scene) != nil {
		return map[string]any{"errcode": 40058, "errmsg": "invalid scene"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("kfc")
	s.links[id] = in.Scene
	return ok(map[string]any{"url": "https://work.weixin.qq.com/kf/" + id + "?enc_scene=" + url.QueryEscape(in.Scene)})
}

func (s *Server) customSend(_ http.ResponseWriter, _ *http.Request, body []byte, _ wechat.Source) map[string]any {
	var in struct {
		ToUser string `json:"touser"`
		content
	}
	if e := decode(body, &in); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.consumers[in.ToUser]
	if c == nil {
		return map[string]any{"errcode": 40003, "errmsg": "invalid openid"}
	}
	d, e := s.deliveredLocked(in.content, wechat.SourceOfficialAccount)
	if e != nil {
		return e
	}
	now := s.nowLocked()
	if e := ruleLocked(c, now, oaLimits); e != nil {
		return e
	}
	c.sends++
	d.MsgID, d.At, d.Via = s.nextID("MSG"), now, "message/custom/send"
	c.inbox = append(c.inbox, d)
	return ok(nil)
}

func (s *Server) qrcodeCreate(_ http.ResponseWriter, _ *http.Request, body []byte, _ wechat.Source) map[string]any {
	var in struct {
		ExpireSeconds int64  `json:"expire_seconds"`
		ActionName    string `json:"action_name"`
		ActionInfo    struct {
			Scene struct {
				SceneStr string `json:"scene_str"`
			} `json:"scene"`
		} `json:"action_info"`
	}
	if e := decode(body, &in); e != nil {
		return e
	}
	scene := in.ActionInfo.Scene.SceneStr
	if scene == "" || len(scene) > 64 {
		return map[string]any{"errcode": 40058, "errmsg": "invalid scene_str"}
	}
	var expire int64
	switch in.ActionName {
	case "QR_STR_SCENE":
		expire = in.ExpireSeconds
		if expire == 0 {
			expire = 30
		}
		if expire < 0 || expire > 2592000 {
			return map[string]any{"errcode": 40058, "errmsg": "invalid expire_seconds"}
		}
	case "QR_LIMIT_STR_SCENE":
	default:
		return map[string]any{"errcode": 40058, "errmsg": "invalid action_name"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("q")
	s.links[id] = scene
	out := ok(map[string]any{"ticket": "gQ" + id, "url": "http://weixin.qq.com/q/" + id})
	if expire > 0 {
		out["expire_seconds"] = expire
	}
	return out
}

// mediaLimit is a media type's largest file and the errcode for a file outside it.
type mediaLimit struct {
	max  int
	code int
}

// uploadLimits are each product's media/upload types and size limits, as
// documented: WeCom image 10 MB, voice 2 MB, video 10 MB, file 20 MB; Official
// Account image 10 MB, voice 2 MB, video 10 MB, thumb 64 KB, and no file type.
// WeCom also refuses files of 5 bytes or less.
var uploadLimits = map[wechat.Source]map[string]mediaLimit{
	wechat.SourceKf: {
		"image": {10 << 20, 40009}, "voice": {2 << 20, 40006}, "video": {10 << 20, 40011}, "file": {20 << 20, 40006},
	},
	wechat.SourceOfficialAccount: {
		"image": {10 << 20, 40009}, "voice": {2 << 20, 40010}, "video": {10 << 20, 40011}, "thumb": {64 << 10, 40012},
	},
}

func (s *Server) mediaUpload(_ http.ResponseWriter, r *http.Request, _ []byte, product wechat.Source) map[string]any {
	typ := r.URL.Query().Get("type")
	limit, known := uploadLimits[product][typ]
	if !known {
		if product == wechat.SourceKf {
			return map[string]any{"errcode": 40005, "errmsg": "invalid type"}
		}
		return map[string]any{"errcode": 40004, "errmsg": "invalid media type"}
	}
	f, hdr, err := r.FormFile("media")
	if err != nil {
		return map[string]any{"errcode": 41005, "errmsg": "media data missing"}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(limit.max)+1))
	if err != nil || len(data) == 0 || len(data) > limit.max || product == wechat.SourceKf && len(data) <= 5 {
		return map[string]any{"errcode": limit.code, "errmsg": "invalid " + typ + " size"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.storeMediaLocked(typ, hdr.Filename, data)
	return ok(map[string]any{"type": typ, "media_id": id, "created_at": strconv.FormatInt(s.nowLocked().Unix(), 10)})
}

func (s *Server) storeMediaLocked(typ, filename string, data []byte) string {
	id := s.nextID("MEDIA_")
	s.media[id] = mediaItem{typ: typ, filename: filename, contentType: http.DetectContentType(data), data: data}
	return id
}

func (s *Server) mediaGet(w http.ResponseWriter, r *http.Request, _ []byte, product wechat.Source) map[string]any {
	id := r.URL.Query().Get("media_id")
	s.mu.Lock()
	m, found := s.media[id]
	s.mu.Unlock()
	if !found {
		return map[string]any{"errcode": 40007, "errmsg": "invalid media_id"}
	}
	if product == wechat.SourceOfficialAccount && m.typ == "video" {
		// An Official Account answers a video with a link to it, not the file.
		return ok(map[string]any{"video_url": selfURL(r) + "/fake/media/" + url.PathEscape(id)})
	}
	writeMedia(w, m)
	return nil
}

// mediaFile serves a video_url: the file, without an access token.
func (s *Server) mediaFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m, found := s.media[r.PathValue("id")]
	s.mu.Unlock()
	if !found || m.typ != "video" {
		http.NotFound(w, r)
		return
	}
	writeMedia(w, m)
}

func writeMedia(w http.ResponseWriter, m mediaItem) {
	w.Header().Set("Content-Type", m.contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": m.filename}))
	_, _ = w.Write(m.data)
}

// selfURL is where this request reached the fake, mount prefix included (local
// mode serves it under a prefix that http.StripPrefix removed from r.URL.Path).
func selfURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	prefix := ""
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		prefix = strings.TrimSuffix(u.Path, r.URL.Path)
	}
	return scheme + "://" + r.Host + prefix
}

// customerBatchGet serves kf/customer/batchget: 1..100 external_userids; those
// the fake does not know come back in invalid_external_userid.
func (s *Server) customerBatchGet(_ http.ResponseWriter, _ *http.Request, body []byte, _ wechat.Source) map[string]any {
	var in struct {
		IDs []string `json:"external_userid_list"`
	}
	if e := decode(body, &in); e != nil {
		return e
	}
	if len(in.IDs) == 0 || len(in.IDs) > wechat.MaxCustomerBatch {
		return map[string]any{"errcode": 40058, "errmsg": "invalid external_userid_list size"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list, invalid := []map[string]any{}, []string{}
	for _, id := range in.IDs {
		c := s.consumers[id]
		if c == nil {
			invalid = append(invalid, id)
			continue
		}
		list = append(list, map[string]any{"external_userid": id, "nickname": c.profile.Nickname, "avatar": c.profile.AvatarURL, "gender": 0})
	}
	return ok(map[string]any{"customer_list": list, "invalid_external_userid": invalid})
}

// userInfo serves the Official Account's user/info: a follower's nickname, avatar
// and language; for a consumer who does not follow, subscribe 0 and nothing else.
func (s *Server) userInfo(_ http.ResponseWriter, r *http.Request, _ []byte, _ wechat.Source) map[string]any {
	id := r.URL.Query().Get("openid")
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.consumers[id]
	if c == nil {
		return map[string]any{"errcode": 40003, "errmsg": "invalid openid"}
	}
	if !c.follower {
		return map[string]any{"subscribe": 0, "openid": id}
	}
	return map[string]any{"subscribe": 1, "openid": id, "nickname": c.profile.Nickname, "headimgurl": c.profile.AvatarURL,
		"language": c.profile.Language, "sex": 0}
}

// limitErrors are a product's answers when WeChat's rule refuses a send.
type limitErrors struct{ window, count map[string]any }

var (
	kfLimits = limitErrors{
		window: map[string]any{"errcode": 95002, "errmsg": "send msg time limit"},
		count:  map[string]any{"errcode": 95001, "errmsg": "send msg count limit"},
	}
	oaLimits = limitErrors{
		window: map[string]any{"errcode": 45015, "errmsg": "response out of time limit"},
		count:  map[string]any{"errcode": 45047, "errmsg": "out of response count limit"},
	}
)

// ruleLocked applies WeChat's rule: at most SendLimit messages within Window of the
// consumer's last message. It returns the refusal, or nil when the send may go.
func ruleLocked(c *consumer, now time.Time, errs limitErrors) map[string]any {
	if c.lastMsg.IsZero() || now.Sub(c.lastMsg) > Window {
		return errs.window
	}
	if c.sends >= SendLimit {
		return errs.count
	}
	return nil
}

// errUnknownConsumer is kf's answer for an external_userid it does not know.
var errUnknownConsumer = map[string]any{"errcode": 40096, "errmsg": "invalid external_userid"}

// kfConsumerLocked finds a consumer of the kf account, or WeChat's refusal.
func (s *Server) kfConsumerLocked(openKfID, externalUserID string) (*consumer, map[string]any) {
	if openKfID != s.cfg.OpenKfID {
		return nil, errUnknownAccount
	}
	c := s.consumers[externalUserID]
	if c == nil {
		return nil, errUnknownConsumer
	}
	return c, nil
}
