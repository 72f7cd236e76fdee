package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/multiline/multiline/bridge"
	"github.com/multiline/multiline/wechat"
)

// mediaStore keeps media files in the database (implemented by *storage.DB).
type mediaStore interface {
	PutMedia(ctx context.Context, company, contentType, fileName string, data []byte) (string, error)
	Media(ctx context.Context, ref string) (contentType, fileName string, data []byte, err error)
}

// wechatSide adapts the wechat package to the bridge: it implements
// bridge.WeChatSide over a WeCom kf or Official Account client, and wechat.Sink
// over the bridge service.
type wechatSide struct {
	kf      *wechat.KfClient // wecom-kf mode
	oa      *wechat.OAClient // official-account mode
	svc     *bridge.Service
	media   mediaStore
	company string
}

// Send sends a message with its ID as WeChat's msgid and maps WeChat's refusals to
// the policy's reasons.
func (w *wechatSide) Send(ctx context.Context, m bridge.OutboundMessage) error {
	out := wechat.Outgoing{Kind: wechat.KindText, Text: m.Body.Text}
	if m.Body.MediaRef != "" {
		ct, name, data, err := w.media.Media(ctx, m.Body.MediaRef)
		if err != nil {
			return fmt.Errorf("media %s: %w", m.Body.MediaRef, err)
		}
		typ := mediaType(m.Body.MediaKind, ct)
		var id string
		if w.kf != nil {
			id, err = w.kf.UploadMedia(ctx, typ, name, bytes.NewReader(data))
		} else {
			id, err = w.oa.UploadMedia(ctx, typ, name, bytes.NewReader(data))
		}
		if err != nil {
			return mapSendError(err)
		}
		out = wechat.Outgoing{Kind: wechat.Kind(typ), MediaID: id}
	}
	if w.kf != nil {
		_, err := w.kf.SendMsg(ctx, wechat.KfSend{ToUser: string(m.Consumer), OpenKfID: m.Account, MsgID: string(m.ID), Outgoing: out})
		return mapSendError(err)
	}
	err := w.oa.SendCustom(ctx, string(m.Consumer), out)
	var te *wechat.TransportError
	if errors.As(err, &te) && !isDialError(te) {
		// message/custom/send takes no msgid: after a request that may have
		// arrived, a retry could deliver twice. Report it instead of repeating it.
		return &bridge.SendError{Reason: bridge.FailTransient, Err: err}
	}
	return mapSendError(err)
}

// isDialError reports whether the request never left (no connection), so that a
// retry cannot duplicate it.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func mediaType(kind, contentType string) wechat.MediaType {
	switch kind {
	case "image", "voice", "video":
		return wechat.MediaType(kind)
	}
	return wechat.MediaType("file")
}

// rateLimitPause is how long sends wait after WeChat's frequency limit (45009/45033).
const rateLimitPause = time.Minute

func mapSendError(err error) error {
	fail := func(r bridge.FailReason) error { return &bridge.SendError{Reason: r, Err: err} }
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wechat.ErrCountLimit):
		return fail(bridge.FailCountUsed)
	case errors.Is(err, wechat.ErrWindowClosed):
		return fail(bridge.FailWindowClosed)
	case errors.Is(err, wechat.ErrSessionEnded):
		return fail(bridge.FailSessionEnded)
	case errors.Is(err, wechat.ErrInvalidMsgID), errors.Is(err, wechat.ErrTextTooLong):
		return fail(bridge.FailRejected)
	case errors.Is(err, wechat.ErrRateLimited):
		return &bridge.RetryAfterError{Wait: rateLimitPause, Err: err}
	}
	return err // transient: retried with the same msgid
}

// Pull reads one page of kf/sync_msg and normalizes it.
func (w *wechatSide) Pull(ctx context.Context, account, token, cursor string) (bridge.PullBatch, error) {
	if w.kf == nil {
		return bridge.PullBatch{}, nil
	}
	page, err := w.kf.SyncMsg(ctx, wechat.SyncRequest{Cursor: cursor, Token: token, OpenKfID: account, Limit: 1000})
	if err != nil {
		return bridge.PullBatch{}, err
	}
	b := bridge.PullBatch{Cursor: page.NextCursor, More: page.HasMore}
	for _, m := range page.Messages {
		in, ok, err := w.inbound(ctx, m)
		if err != nil {
			return bridge.PullBatch{}, err
		}
		if ok {
			b.Messages = append(b.Messages, in)
		}
	}
	return b, nil
}

// inbound maps a WeChat message to what the bridge understands; ok is false for
// traffic the bridge ignores (our own servicers' messages, status changes).
func (w *wechatSide) inbound(ctx context.Context, m wechat.Message) (bridge.Inbound, bool, error) {
	in := bridge.Inbound{WeChatMsgID: string(m.Source) + ":" + m.MsgID, Account: m.Account,
		Consumer: bridge.ConsumerID(m.Consumer), At: m.SendTime, Scene: m.Scene, SceneParam: m.SceneParam}
	switch m.Kind {
	case wechat.KindEnterSession, wechat.KindSubscribe, wechat.KindScan:
		in.Kind = bridge.InboundArrived
		return in, true, nil
	case wechat.KindSendFailed:
		in.Kind, in.FailedMessage = bridge.InboundSendFailed, bridge.MessageID(m.FailMsgID)
		switch m.FailType {
		case wechat.FailTypeExpired:
			in.FailReason = bridge.FailWindowClosed
		case wechat.FailTypeOverLimit:
			in.FailReason = bridge.FailCountUsed
		default:
			in.FailReason = bridge.FailRejected
		}
		return in, true, nil
	}
	if m.Source == wechat.SourceKf && m.Origin != wechat.OriginConsumer {
		return in, false, nil
	}
	in.Kind = bridge.InboundMessage
	switch m.Kind {
	case wechat.KindText:
		in.Body.Text = m.Text
	case wechat.KindImage, wechat.KindVoice, wechat.KindVideo, wechat.KindFile:
		body, err := w.fetchMedia(ctx, m)
		if err != nil {
			return in, false, err
		}
		in.Body = body
	case wechat.KindLocation:
		if l := m.Location; l != nil {
			in.Body.Text = fmt.Sprintf("📍 %s %s (%.5f, %.5f)", l.Name, l.Address, l.Latitude, l.Longitude)
		}
	case wechat.KindLink:
		if l := m.Link; l != nil {
			in.Body.Text = fmt.Sprintf("🔗 %s\n%s\n%s", l.Title, l.Description, l.URL)
		}
	case wechat.KindMiniProgram:
		if p := m.MiniProgram; p != nil {
			in.Body.Text = fmt.Sprintf("Mini program: %s", p.Title)
		}
	default:
		return in, false, nil
	}
	return in, true, nil
}

func (w *wechatSide) fetchMedia(ctx context.Context, m wechat.Message) (bridge.Content, error) {
	var md wechat.Media
	var err error
	if w.kf != nil {
		md, err = w.kf.GetMedia(ctx, m.MediaID)
	} else {
		md, err = w.oa.GetMedia(ctx, m.MediaID)
	}
	if err != nil {
		return bridge.Content{}, fmt.Errorf("fetch %s %s: %w", m.Kind, m.MediaID, err)
	}
	ref, err := w.media.PutMedia(ctx, w.company, md.ContentType, md.Filename, md.Data)
	if err != nil {
		return bridge.Content{}, err
	}
	return bridge.Content{MediaKind: string(m.Kind), MediaRef: ref, FileName: md.Filename}, nil
}

// ContactLink creates a kf contact link (with the scene parameter appended) or an
// Official Account QR code (the parameter is the QR scene).
func (w *wechatSide) ContactLink(ctx context.Context, account, scene, sceneParam string) (string, error) {
	if w.oa != nil {
		s := scene
		if sceneParam != "" {
			s = sceneParam
		}
		qr, err := w.oa.CreateQRCode(ctx, s, 0)
		return qr.URL, err
	}
	link, err := w.kf.AddContactWay(ctx, account, scene)
	if err != nil || sceneParam == "" {
		return link, err
	}
	return wechat.ContactLinkWithParam(link, sceneParam)
}

// EndSession ends a kf session; an Official Account has no sessions.
func (w *wechatSide) EndSession(ctx context.Context, account string, consumer bridge.ConsumerID) error {
	if w.kf == nil {
		return nil
	}
	_, err := w.kf.ServiceStateTrans(ctx, account, string(consumer), wechat.StateEnded, "")
	if errors.Is(err, wechat.ErrSessionEnded) {
		return nil
	}
	return err
}

// PullRequested implements wechat.Sink: a kf callback becomes a durable pull job.
func (w *wechatSide) PullRequested(ctx context.Context, req wechat.PullRequest) error {
	return w.svc.PullRequested(ctx, req.OpenKfID, req.Token)
}

// Received implements wechat.Sink for Official Account callbacks, which carry the message.
func (w *wechatSide) Received(ctx context.Context, m wechat.Message) error {
	in, ok, err := w.inbound(ctx, m)
	if err != nil || !ok {
		return err
	}
	return w.svc.Receive(ctx, []bridge.Inbound{in})
}

// tokenCache shares WeChat access tokens across replicas through the database:
// WeChat invalidates older tokens when too many are fetched.
type tokenCache struct {
	db interface {
		Token(ctx context.Context, key string) (string, time.Time, error)
		PutToken(ctx context.Context, key, token string, expires time.Time) error
	}
}

func (c tokenCache) Get(ctx context.Context, key string) (wechat.Token, bool, error) {
	v, exp, err := c.db.Token(ctx, key)
	if errors.Is(err, bridge.ErrNotFound) {
		return wechat.Token{}, false, nil
	}
	if err != nil {
		return wechat.Token{}, false, err
	}
	return wechat.Token{Value: v, ExpiresAt: exp}, true, nil
}

func (c tokenCache) Put(ctx context.Context, key string, t wechat.Token) error {
	return c.db.PutToken(ctx, key, t.Value, t.ExpiresAt)
}
