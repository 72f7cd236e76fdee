package wechat

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// OAClient calls the Official Account APIs for one app.
type OAClient struct {
	core *apiCore
}

// NewOAClient builds a client for appID with its AppSecret.
func NewOAClient(appID, secret string, o ClientOptions) *OAClient {
	c := newCore(o, DefaultWeChatBase, "oa:"+appID)
	c.fetch = func(ctx context.Context) (string, time.Duration, error) {
		q := url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}}
		return c.getToken(ctx, "token", "/cgi-bin/token", q)
	}
	return &OAClient{core: c}
}

// OACanSend reports whether message/custom/send has a msgtype for kind: text,
// image, voice and video. It has none for files.
func OACanSend(kind Kind) bool {
	switch kind {
	case KindText, KindImage, KindVoice, KindVideo:
		return true
	}
	return false
}

// SendCustom sends a customer-service message (message/custom/send) to openID:
// text, image, voice or video (media from UploadMedia). WeChat gives no idempotency
// key here, so a timed-out send may or may not have been delivered.
func (o *OAClient) SendCustom(ctx context.Context, openID string, m Outgoing) error {
	if !OACanSend(m.Kind) {
		return fmt.Errorf("wechat: official account send: kind %q not supported: %w (%w)", m.Kind, ErrInvalidRequest, ErrPermanent)
	}
	body, err := outgoingBody(m)
	if err != nil {
		return err
	}
	body["touser"] = openID
	return o.core.call(ctx, "message/custom/send", http.MethodPost, "/cgi-bin/message/custom/send", nil, body, nil)
}

// QRCode is a parametric QR code.
type QRCode struct {
	Ticket string
	// URL is the content encoded in the QR image.
	URL string
	// ImageURL shows the QR image (showqrcode with the ticket).
	ImageURL string
	// ExpiresIn is zero for permanent codes.
	ExpiresIn time.Duration
}

// Official Account QR limits.
const (
	MaxQRSceneBytes = 64
	MaxQRExpiry     = 30 * 24 * time.Hour
)

// CreateQRCode makes a QR code whose subscribe/SCAN events carry scene. ttl 0 makes a
// permanent code (QR_LIMIT_STR_SCENE, for personal links); otherwise a temporary one
// (QR_STR_SCENE, for opt-in requests), at most 30 days.
func (o *OAClient) CreateQRCode(ctx context.Context, scene string, ttl time.Duration) (QRCode, error) {
	if scene == "" || len(scene) > MaxQRSceneBytes {
		return QRCode{}, fmt.Errorf("%w: scene_str must be 1..%d bytes", ErrInvalidScene, MaxQRSceneBytes)
	}
	if ttl < 0 || ttl > MaxQRExpiry {
		return QRCode{}, fmt.Errorf("wechat: qrcode ttl %s out of range", ttl)
	}
	in := map[string]any{"action_info": map[string]any{"scene": map[string]string{"scene_str": scene}}}
	if ttl == 0 {
		in["action_name"] = "QR_LIMIT_STR_SCENE"
	} else {
		in["action_name"] = "QR_STR_SCENE"
		in["expire_seconds"] = int64(ttl / time.Second)
	}
	var out struct {
		Ticket        string `json:"ticket"`
		ExpireSeconds int64  `json:"expire_seconds"`
		URL           string `json:"url"`
	}
	if err := o.core.call(ctx, "qrcode/create", http.MethodPost, "/cgi-bin/qrcode/create", nil, in, &out); err != nil {
		return QRCode{}, err
	}
	return QRCode{
		Ticket:    out.Ticket,
		URL:       out.URL,
		ImageURL:  "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=" + url.QueryEscape(out.Ticket),
		ExpiresIn: time.Duration(out.ExpireSeconds) * time.Second,
	}, nil
}

// UploadMedia uploads a temporary media file and returns its media_id.
func (o *OAClient) UploadMedia(ctx context.Context, typ MediaType, filename string, r io.Reader) (string, error) {
	return o.core.uploadMedia(ctx, typ, filename, r)
}

// GetMedia downloads a temporary media file a consumer sent.
func (o *OAClient) GetMedia(ctx context.Context, mediaID string) (Media, error) {
	return o.core.getMedia(ctx, mediaID)
}

// OAUser is what user/info tells about a follower. Since 2021 WeChat may leave
// Nickname and HeadImgURL empty; Language is still reported.
type OAUser struct {
	// Subscribed is false when the consumer does not follow the account: WeChat
	// then reports nothing else.
	Subscribed bool
	OpenID     string
	Nickname   string
	HeadImgURL string
	// Language is the consumer's WeChat language as WeChat names it (zh_CN, en, …).
	Language string
	UnionID  string
}

// UserInfo asks user/info about a follower.
func (o *OAClient) UserInfo(ctx context.Context, openID string) (OAUser, error) {
	var out struct {
		Subscribe  int    `json:"subscribe"`
		OpenID     string `json:"openid"`
		Nickname   string `json:"nickname"`
		HeadImgURL string `json:"headimgurl"`
		Language   string `json:"language"`
		UnionID    string `json:"unionid"`
	}
	if err := o.core.call(ctx, "user/info", http.MethodGet, "/cgi-bin/user/info", url.Values{"openid": {openID}}, nil, &out); err != nil {
		return OAUser{}, err
	}
	return OAUser{Subscribed: out.Subscribe == 1, OpenID: out.OpenID, Nickname: out.Nickname, HeadImgURL: out.HeadImgURL,
		Language: out.Language, UnionID: out.UnionID}, nil
}
