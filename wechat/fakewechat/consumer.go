package fakewechat

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/multiline/multiline/wechat"
)

// ErrNoCallback means no callback URL is configured, so nobody was told.
var ErrNoCallback = errors.New("fakewechat: no callback url configured")

// CallbackError is a callback our endpoint did not acknowledge with 200.
type CallbackError struct {
	Status int
	Err    error
}

func (e *CallbackError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("fakewechat: callback failed: %v", e.Err)
	}
	return fmt.Sprintf("fakewechat: callback answered %d", e.Status)
}

func (e *CallbackError) Unwrap() error { return e.Err }

// ConsumerSends is a consumer writing text. It reopens the 5-send / 48 h window and
// tells the callback URL. It returns WeChat's msgid for the message.
func (s *Server) ConsumerSends(ctx context.Context, consumerID, text string) (string, error) {
	return s.consumerMessage(ctx, consumerID, "text", map[string]any{"content": text}, text, "")
}

// ConsumerSendsImage is a consumer sending a picture (stored as media, fetchable with media/get).
func (s *Server) ConsumerSendsImage(ctx context.Context, consumerID, filename string, data []byte) (string, error) {
	return s.ConsumerSendsMedia(ctx, consumerID, "image", filename, data)
}

// ConsumerSendsMedia is a consumer sending an image, voice, video or (kf only) a
// file. The media is fetchable with media/get; an Official Account answers a
// video's media/get with a video_url, as WeChat does.
func (s *Server) ConsumerSendsMedia(ctx context.Context, consumerID, kind, filename string, data []byte) (string, error) {
	switch kind {
	case "image", "voice", "video":
	case "file":
		if s.cfg.Mode == wechat.SourceOfficialAccount {
			return "", errors.New("fakewechat: an Official Account receives no files from consumers")
		}
	default:
		return "", fmt.Errorf("fakewechat: consumers send no %q messages", kind)
	}
	if len(data) == 0 {
		return "", errors.New("fakewechat: empty media")
	}
	s.mu.Lock()
	id := s.storeMediaLocked(kind, filename, data)
	s.mu.Unlock()
	return s.consumerMessage(ctx, consumerID, kind, map[string]any{"media_id": id}, "", id)
}

func (s *Server) consumerMessage(ctx context.Context, consumerID, msgType string, body map[string]any, text, mediaID string) (string, error) {
	if consumerID == "" {
		return "", errors.New("fakewechat: consumer id required")
	}
	s.mu.Lock()
	c := s.consumerLocked(consumerID)
	now := s.nowLocked()
	c.lastMsg, c.sends = now, 0
	if c.state == wechat.StateEnded {
		c.state = wechat.StateUntreated // a new message opens a new session
	}
	msgID := s.nextID("CMSG")
	if s.cfg.Mode == wechat.SourceOfficialAccount {
		c.follower = true // only followers can write to an Official Account
		x := oaXML{To: s.cfg.AppID, From: consumerID, Created: now.Unix(), Type: msgType, MsgID: msgID, Content: text, MediaID: mediaID}
		switch msgType {
		case "image":
			x.PicURL = "http://mmbiz.qpic.cn/fake/" + mediaID
		case "voice":
			x.Format = "amr"
		case "video":
			x.ThumbMediaID = mediaID
		}
		s.mu.Unlock()
		return msgID, s.postOA(ctx, x)
	}
	entry := s.kfEntryLocked(consumerID, msgID, now)
	entry["origin"] = int(wechat.OriginConsumer)
	entry["msgtype"] = msgType
	entry[msgType] = body
	s.syncLog = append(s.syncLog, entry)
	s.mu.Unlock()
	return msgID, s.notifyKf()
}

// Arrive is a consumer opening the chat through a contact link or QR code. For kf,
// scene (or the enc_scene of link) and sceneParam come back in enter_session with a
// welcome_code; for an Official Account, scene comes back in subscribe or SCAN.
func (s *Server) Arrive(ctx context.Context, consumerID, link, scene, sceneParam string) error {
	if consumerID == "" {
		return errors.New("fakewechat: consumer id required")
	}
	if link != "" {
		u, err := url.Parse(link)
		if err != nil {
			return fmt.Errorf("fakewechat: link: %w", err)
		}
		id := u.Path[strings.LastIndex(u.Path, "/")+1:]
		s.mu.Lock()
		known, found := s.links[id]
		s.mu.Unlock()
		if !found {
			return fmt.Errorf("fakewechat: unknown contact link %q", link)
		}
		scene = known
		if p := u.Query().Get("scene_param"); p != "" && sceneParam == "" {
			sceneParam = p
		}
	}
	s.mu.Lock()
	c := s.consumerLocked(consumerID)
	now := s.nowLocked()
	if s.cfg.Mode == wechat.SourceOfficialAccount {
		if scene == "" {
			// Official Accounts have no scene_param: an opt-in is its own QR scene.
			scene = sceneParam
		}
		x := oaXML{To: s.cfg.AppID, From: consumerID, Created: now.Unix(), Type: "event", Event: "SCAN", EventKey: scene}
		if !c.follower {
			x.Event = "subscribe"
			if scene != "" {
				x.EventKey = "qrscene_" + scene
			}
		}
		if scene != "" {
			x.Ticket = "gQ" + scene
		}
		c.follower = true
		s.mu.Unlock()
		return s.postOA(ctx, x)
	}
	if c.state == wechat.StateEnded {
		c.state = wechat.StateUntreated
	}
	code := s.nextID("WELCOME")
	s.welcome[code] = welcomeCode{consumer: consumerID, expires: now.Add(welcomeCodeTTL)}
	s.appendEventLocked(consumerID, map[string]any{
		"event_type": "enter_session", "scene": scene, "scene_param": sceneParam, "welcome_code": code,
	})
	s.mu.Unlock()
	return s.notifyKf()
}

// kfEntryLocked starts a sync_msg entry.
func (s *Server) kfEntryLocked(consumerID, msgID string, now time.Time) map[string]any {
	return map[string]any{"msgid": msgID, "open_kfid": s.cfg.OpenKfID, "external_userid": consumerID, "send_time": now.Unix()}
}

// appendEventLocked queues a kf event (origin 4, system) for sync_msg.
func (s *Server) appendEventLocked(consumerID string, event map[string]any) {
	event["open_kfid"] = s.cfg.OpenKfID
	event["external_userid"] = consumerID
	entry := s.kfEntryLocked(consumerID, s.nextID("EVT"), s.nowLocked())
	entry["origin"] = int(wechat.OriginSystem)
	entry["msgtype"] = "event"
	entry["event"] = event
	s.syncLog = append(s.syncLog, entry)
}

// notifyKf posts the encrypted "pull now" callback with a fresh sync token.
func (s *Server) notifyKf() error {
	s.mu.Lock()
	target := s.cfg.CallbackURL
	tok := s.nextID("SYNCTOKEN")
	s.syncToks[tok] = true
	now := s.nowLocked()
	s.mu.Unlock()
	if target == "" {
		return ErrNoCallback
	}
	inner := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><CreateTime>%d</CreateTime>"+
		"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"+
		"<Token><![CDATA[%s]]></Token><OpenKfId><![CDATA[%s]]></OpenKfId></xml>",
		s.cfg.CorpID, now.Unix(), tok, s.cfg.OpenKfID)
	return s.postSealed(context.Background(), target, []byte(inner), nil)
}

// oaXML is an Official Account callback as WeChat posts it.
type oaXML struct {
	XMLName      xml.Name `xml:"xml"`
	To           string   `xml:"ToUserName"`
	From         string   `xml:"FromUserName"`
	Created      int64    `xml:"CreateTime"`
	Type         string   `xml:"MsgType"`
	Content      string   `xml:"Content,omitempty"`
	PicURL       string   `xml:"PicUrl,omitempty"`
	MediaID      string   `xml:"MediaId,omitempty"`
	Format       string   `xml:"Format,omitempty"`
	ThumbMediaID string   `xml:"ThumbMediaId,omitempty"`
	Event        string   `xml:"Event,omitempty"`
	EventKey     string   `xml:"EventKey,omitempty"`
	Ticket       string   `xml:"Ticket,omitempty"`
	MsgID        string   `xml:"MsgId,omitempty"`
}

func (s *Server) postOA(ctx context.Context, x oaXML) error {
	s.mu.Lock()
	target := s.cfg.CallbackURL
	s.mu.Unlock()
	if target == "" {
		return ErrNoCallback
	}
	body, err := xml.Marshal(x)
	if err != nil {
		return fmt.Errorf("fakewechat: %w", err)
	}
	extra := url.Values{"openid": {x.From}}
	if s.cipher != nil {
		extra.Set("encrypt_type", "aes")
		return s.postSealed(ctx, target, body, extra)
	}
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	extra.Set("timestamp", ts)
	extra.Set("nonce", nonce)
	extra.Set("signature", wechat.Signature(s.cfg.CallbackToken, ts, nonce))
	return s.post(ctx, target, extra, body)
}

// postSealed encrypts inner and posts it. Timestamps are wall-clock time, not the
// fake's clock: they belong to the transport, which the receiver checks for replay.
func (s *Server) postSealed(ctx context.Context, target string, inner []byte, extra url.Values) error {
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	body, sig, err := s.cipher.Seal(inner, ts, nonce)
	if err != nil {
		return fmt.Errorf("fakewechat: seal: %w", err)
	}
	q := url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}}
	for k, v := range extra {
		q[k] = v
	}
	if extra != nil {
		// Official Account safe mode also sends the plain signature.
		q.Set("signature", wechat.Signature(s.cfg.CallbackToken, ts, nonce))
	}
	return s.post(ctx, target, q, body)
}

func (s *Server) post(ctx context.Context, target string, q url.Values, body []byte) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("fakewechat: callback url: %w", err)
	}
	merged := u.Query()
	for k, v := range q {
		merged[k] = v
	}
	u.RawQuery = merged.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("fakewechat: %w", err)
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return &CallbackError{Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &CallbackError{Status: resp.StatusCode}
	}
	return nil
}
