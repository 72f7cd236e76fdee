package wechat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"slices"
	"time"

	"github.com/multiline/multiline/bridge"
)

// This file is the WeChat side of the bridge, as bot/bridge.go is the Teams side:
// Side implements bridge.WeChatSide over a kf or Official Account client, and
// Sink (the callback's receiver) over the bridge service. Everything that knows
// both WeChat's errcodes and the policy's reasons lives here.

// Bridge is what the WeChat side asks of the core (bridge.Service implements it).
// Both calls only store a job, so a callback is answered within WeChat's 5 s.
type Bridge interface {
	// PullRequested records that kf/sync_msg is due for an account.
	PullRequested(ctx context.Context, account, token string) error
	// Accept stores an Official Account message or event durably; it is applied,
	// media and profile fetched first, in a job.
	Accept(ctx context.Context, in bridge.Inbound) error
}

// MediaStore keeps media files (implemented by *storage.DB): what consumers send is
// stored there, and what employees send is read from there.
type MediaStore interface {
	PutMedia(ctx context.Context, company, contentType, fileName string, data []byte) (string, error)
	Media(ctx context.Context, ref string) (contentType, fileName string, data []byte, err error)
}

// SideConfig is what NewSide needs. Exactly one of Kf and OA is set.
type SideConfig struct {
	// Kf is the WeCom kf client (WECHAT_MODE wecom-kf); OpenKfID is the account it
	// serves (see ResolveOpenKfID), used for every link, send and session change.
	Kf       *KfClient
	OpenKfID string
	// OA is the Official Account client (WECHAT_MODE official-account).
	OA *OAClient

	Bridge  Bridge
	Media   MediaStore
	Company string
	// Logger receives what the side ignores on purpose; nil means slog.Default().
	Logger *slog.Logger
}

// Side is the bridge's WeChat side. Create it with NewSide.
type Side struct {
	kf      *KfClient
	oa      *OAClient
	account string
	bridge  Bridge
	media   MediaStore
	company string
	log     *slog.Logger
}

var (
	_ bridge.WeChatSide = (*Side)(nil)
	_ Sink              = (*Side)(nil)
)

// NewSide checks c and builds the side.
func NewSide(c SideConfig) (*Side, error) {
	switch {
	case (c.Kf == nil) == (c.OA == nil):
		return nil, errors.New("wechat: side needs exactly one of a kf and an Official Account client")
	case c.Kf != nil && c.OpenKfID == "":
		return nil, fmt.Errorf("wechat: kf side needs the kf account (%s)", OpenKfIDSetting)
	case c.Bridge == nil || c.Media == nil:
		return nil, errors.New("wechat: side needs the bridge and a media store")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return &Side{kf: c.Kf, oa: c.OA, account: c.OpenKfID, bridge: c.Bridge, media: c.Media, company: c.Company, log: c.Logger}, nil
}

// Mode says which WeChat product the side talks to.
func (w *Side) Mode() Source {
	if w.oa != nil {
		return SourceOfficialAccount
	}
	return SourceKf
}

// Account is the kf account the side serves (empty for an Official Account).
func (w *Side) Account() string { return w.account }

// CanSend refuses, before anything is queued, a kind of message the account has
// no way to send: an Official Account's message/custom/send has no file type.
func (w *Side) CanSend(body bridge.Content) error {
	if body.MediaRef == "" && body.MediaKind == "" {
		return nil
	}
	kind := mediaKind(body.MediaKind)
	switch kind {
	case KindImage, KindVoice, KindVideo, KindFile:
	default:
		return fmt.Errorf("%w: WeChat has no message type for %q", bridge.ErrUnsupportedContent, body.MediaKind)
	}
	if w.oa != nil && !OACanSend(kind) {
		return fmt.Errorf("%w: a WeChat Official Account sends text, images, voice and video, but no files", bridge.ErrUnsupportedContent)
	}
	return nil
}

// mediaKind is the WeChat kind of stored media; media without a kind goes as a file.
func mediaKind(k string) Kind {
	if k == "" {
		return KindFile
	}
	return Kind(k)
}

// Send sends a message with its ID as WeChat's msgid and maps WeChat's refusals to
// the policy's reasons: a known policy refusal is a *bridge.SendError, a refusal
// no retry can change is bridge.Permanent, anything else is transient.
func (w *Side) Send(ctx context.Context, m bridge.OutboundMessage) error {
	out, err := w.outgoing(ctx, m.Body)
	if err != nil {
		return err
	}
	if w.kf != nil {
		_, err := w.kf.SendMsg(ctx, KfSend{ToUser: string(m.Consumer), OpenKfID: w.account, MsgID: string(m.ID), Outgoing: out})
		return mapSendError(err)
	}
	err = w.oa.SendCustom(ctx, string(m.Consumer), out)
	var te *TransportError
	if errors.As(err, &te) && !isDialError(te) {
		// message/custom/send takes no msgid: after a request that may have
		// arrived, a retry could deliver twice. Report it instead of repeating it.
		return &bridge.SendError{Reason: bridge.FailTransient, Err: err}
	}
	return mapSendError(err)
}

// outgoing turns the bridge's content into WeChat's, uploading media first.
func (w *Side) outgoing(ctx context.Context, body bridge.Content) (Outgoing, error) {
	if body.MediaRef == "" {
		return Outgoing{Kind: KindText, Text: body.Text}, nil
	}
	if body.Text != "" {
		// The bridge sends a caption as its own message; WeChat has no captions.
		return Outgoing{}, bridge.Permanent(errors.New("wechat: a message with both text and media; send the text on its own"))
	}
	if err := w.CanSend(body); err != nil {
		return Outgoing{}, bridge.Permanent(err)
	}
	ct, name, data, err := w.media.Media(ctx, body.MediaRef)
	if errors.Is(err, bridge.ErrNotFound) {
		return Outgoing{}, bridge.Permanent(fmt.Errorf("media %s: %w", body.MediaRef, err))
	}
	if err != nil {
		return Outgoing{}, fmt.Errorf("media %s: %w", body.MediaRef, err)
	}
	kind := mediaKind(body.MediaKind)
	if name == "" {
		name = body.FileName
	}
	if name == "" {
		name = defaultFileName(kind, ct)
	}
	var id string
	if w.kf != nil {
		id, err = w.kf.UploadMedia(ctx, MediaType(kind), name, bytes.NewReader(data))
	} else {
		id, err = w.oa.UploadMedia(ctx, MediaType(kind), name, bytes.NewReader(data))
	}
	if err != nil {
		return Outgoing{}, mapSendError(err)
	}
	return Outgoing{Kind: kind, MediaID: id}, nil
}

// defaultFileName names a file that came without a name (WeChat wants one).
func defaultFileName(kind Kind, contentType string) string {
	ext := ""
	if exts, err := mime.ExtensionsByType(contentType); err == nil && len(exts) > 0 {
		ext = exts[0]
	}
	return string(kind) + ext
}

// isDialError reports whether the request never left (no connection), so that a
// retry cannot duplicate it.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// rateLimitPause is how long sends wait after WeChat's frequency limit (45009/45033).
const rateLimitPause = time.Minute

func mapSendError(err error) error {
	fail := func(r bridge.FailReason) error { return &bridge.SendError{Reason: r, Err: err} }
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrCountLimit):
		return fail(bridge.FailCountUsed)
	case errors.Is(err, ErrWindowClosed):
		return fail(bridge.FailWindowClosed)
	case errors.Is(err, ErrSessionEnded):
		return fail(bridge.FailSessionEnded)
	case errors.Is(err, ErrInvalidMsgID), errors.Is(err, ErrTextTooLong):
		return fail(bridge.FailRejected)
	case errors.Is(err, ErrRateLimited):
		return &bridge.RetryAfterError{Wait: rateLimitPause, Err: err}
	}
	return final(err) // transient ones are retried with the same msgid
}

// final marks a refusal no retry can change as bridge.Permanent, so that the job
// runner ends the job at once; other errors pass unchanged.
func final(err error) error {
	if err != nil && (errors.Is(err, ErrPermanent) || errors.Is(err, ErrInvalidScene)) && !errors.Is(err, bridge.ErrPermanent) {
		return bridge.Permanent(err)
	}
	return err
}

// Pull reads one page of kf/sync_msg for the side's account and normalizes it.
// Media is downloaded here (a pull already runs as a job); a media item WeChat
// will never hand out becomes a note in the message rather than a stuck cursor.
func (w *Side) Pull(ctx context.Context, _ string, token, cursor string) (bridge.PullBatch, error) {
	if w.kf == nil {
		return bridge.PullBatch{}, nil
	}
	page, err := w.kf.SyncMsg(ctx, SyncRequest{Cursor: cursor, Token: token, OpenKfID: w.account, Limit: MaxSyncLimit})
	if err != nil {
		return bridge.PullBatch{}, final(err)
	}
	b := bridge.PullBatch{Cursor: page.NextCursor, More: page.HasMore}
	for _, m := range page.Messages {
		in, ok := inbound(m)
		if !ok {
			continue
		}
		if in.Media != nil {
			body, err := w.FetchMedia(ctx, in.Account, *in.Media)
			switch {
			case err == nil:
				in.Body = body
			case errors.Is(err, bridge.ErrPermanent):
				w.log.WarnContext(ctx, "consumer media not downloadable", "kind", in.Media.Kind, "msgid", m.MsgID, "err", err)
				in.Body.Text = mediaNote(in.Body.Text, in.Media.Kind)
			default:
				return bridge.PullBatch{}, err
			}
			in.Media = nil
		}
		b.Messages = append(b.Messages, in)
	}
	return b, nil
}

// mediaNote says, in the message, that its media could not be downloaded (the
// same words the bridge uses when a receive job gives up on it).
func mediaNote(text, kind string) string {
	note := fmt.Sprintf("[%s could not be downloaded from WeChat]", kind)
	if text == "" {
		return note
	}
	return text + "\n" + note
}

// inbound maps a WeChat message to what the bridge understands, naming media
// without downloading it; ok is false for traffic the bridge ignores (our own
// servicers' messages, status changes, unfollows).
func inbound(m Message) (bridge.Inbound, bool) {
	in := bridge.Inbound{WeChatMsgID: string(m.Source) + ":" + m.MsgID, Account: m.Account,
		Consumer: bridge.ConsumerID(m.Consumer), At: m.SendTime, Scene: m.Scene, SceneParam: m.SceneParam}
	switch m.Kind {
	case KindEnterSession, KindSubscribe, KindScan:
		in.Kind = bridge.InboundArrived
		return in, true
	case KindSendFailed:
		in.Kind, in.FailedMessage = bridge.InboundSendFailed, bridge.MessageID(m.FailMsgID)
		switch m.FailType {
		case FailTypeExpired:
			in.FailReason = bridge.FailWindowClosed
		case FailTypeOverLimit:
			in.FailReason = bridge.FailCountUsed
		default:
			in.FailReason = bridge.FailRejected
		}
		return in, true
	}
	if m.Source == SourceKf && m.Origin != OriginConsumer {
		return in, false
	}
	in.Kind = bridge.InboundMessage
	switch m.Kind {
	case KindText:
		in.Body.Text = m.Text
	case KindImage, KindVoice, KindVideo, KindFile:
		in.Media = &bridge.PendingMedia{Kind: string(m.Kind), MediaID: m.MediaID}
	case KindLocation:
		if l := m.Location; l != nil {
			in.Body.Text = fmt.Sprintf("📍 %s %s (%.5f, %.5f)", l.Name, l.Address, l.Latitude, l.Longitude)
		}
	case KindLink:
		if l := m.Link; l != nil {
			in.Body.Text = fmt.Sprintf("🔗 %s\n%s\n%s", l.Title, l.Description, l.URL)
		}
	case KindMiniProgram:
		if p := m.MiniProgram; p != nil {
			in.Body.Text = fmt.Sprintf("Mini program: %s", p.Title)
		}
	default:
		return in, false
	}
	return in, true
}

// FetchMedia downloads a consumer's media item (media/get) and stores it.
func (w *Side) FetchMedia(ctx context.Context, _ string, pm bridge.PendingMedia) (bridge.Content, error) {
	var md Media
	var err error
	if w.kf != nil {
		md, err = w.kf.GetMedia(ctx, pm.MediaID)
	} else {
		md, err = w.oa.GetMedia(ctx, pm.MediaID)
	}
	if err != nil {
		return bridge.Content{}, fmt.Errorf("fetch %s %s: %w", pm.Kind, pm.MediaID, final(err))
	}
	name := md.Filename
	if name == "" {
		name = pm.FileName
	}
	if name == "" {
		name = defaultFileName(Kind(pm.Kind), md.ContentType)
	}
	ref, err := w.media.PutMedia(ctx, w.company, md.ContentType, name, md.Data)
	if err != nil {
		return bridge.Content{}, fmt.Errorf("store %s %s: %w", pm.Kind, pm.MediaID, err)
	}
	return bridge.Content{MediaKind: pm.Kind, MediaRef: ref, FileName: name}, nil
}

// Profile asks WeChat about a consumer: an Official Account's user/info reports
// the language; kf's customer/batchget reports nickname and avatar only.
func (w *Side) Profile(ctx context.Context, _ string, consumer bridge.ConsumerID) (bridge.Profile, error) {
	if w.oa != nil {
		u, err := w.oa.UserInfo(ctx, string(consumer))
		if err != nil {
			return bridge.Profile{}, final(err)
		}
		return bridge.Profile{Name: u.Nickname, Language: u.Language, AvatarURL: u.HeadImgURL}, nil
	}
	found, _, err := w.kf.Customers(ctx, []string{string(consumer)})
	if err != nil {
		return bridge.Profile{}, final(err)
	}
	for _, c := range found {
		if c.ExternalUserID == string(consumer) {
			return bridge.Profile{Name: c.Nickname, AvatarURL: c.Avatar}, nil
		}
	}
	return bridge.Profile{}, bridge.Permanent(fmt.Errorf("wechat: kf/customer/batchget does not know %s: %w", consumer, ErrInvalidConsumer))
}

// Profiles asks WeChat about consumers: kf's customer/batchget in batches of
// MaxCustomerBatch (nickname and avatar), or an Official Account's user/info
// for each (nickname, avatar and language). The consumers WeChat does not know
// are left out of the map; a call that fails fails the whole request.
func (w *Side) Profiles(ctx context.Context, account string, consumers []bridge.ConsumerID) (map[bridge.ConsumerID]bridge.Profile, error) {
	out := make(map[bridge.ConsumerID]bridge.Profile, len(consumers))
	if w.oa != nil {
		for _, c := range consumers {
			p, err := w.Profile(ctx, account, c)
			if errors.Is(err, ErrInvalidConsumer) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out[c] = p
		}
		return out, nil
	}
	for batch := range slices.Chunk(consumers, MaxCustomerBatch) {
		ids := make([]string, len(batch))
		for i, c := range batch {
			ids[i] = string(c)
		}
		found, _, err := w.kf.Customers(ctx, ids)
		if err != nil {
			return nil, final(err)
		}
		for _, c := range found {
			out[bridge.ConsumerID(c.ExternalUserID)] = bridge.Profile{Name: c.Nickname, AvatarURL: c.Avatar}
		}
	}
	return out, nil
}

// ContactLink creates a kf contact link for the side's account (with the scene
// parameter appended) or an Official Account QR code (the parameter is the QR
// scene).
func (w *Side) ContactLink(ctx context.Context, _ string, scene, sceneParam string) (string, error) {
	if w.oa != nil {
		s := scene
		if sceneParam != "" {
			s = sceneParam
		}
		qr, err := w.oa.CreateQRCode(ctx, s, 0)
		return qr.URL, final(err)
	}
	link, err := w.kf.AddContactWay(ctx, w.account, scene)
	if err != nil || sceneParam == "" {
		return link, final(err)
	}
	link, err = ContactLinkWithParam(link, sceneParam)
	return link, final(err)
}

// EndSession ends the consumer's kf session on the side's account; an Official
// Account has no sessions.
func (w *Side) EndSession(ctx context.Context, _ string, consumer bridge.ConsumerID) error {
	if w.kf == nil {
		return nil
	}
	_, err := w.kf.ServiceStateTrans(ctx, w.account, string(consumer), StateEnded, "")
	if errors.Is(err, ErrSessionEnded) {
		return nil
	}
	return final(err)
}

// PullRequested implements Sink: a kf callback for the side's account becomes a
// durable pull job. Callbacks for the corp's other kf accounts are acknowledged
// and ignored: the service serves one account.
func (w *Side) PullRequested(ctx context.Context, req PullRequest) error {
	if w.kf == nil {
		return nil
	}
	if req.OpenKfID != w.account {
		w.log.InfoContext(ctx, "kf callback for another account ignored", "open_kfid", req.OpenKfID, "serving", w.account)
		return nil
	}
	return w.bridge.PullRequested(ctx, w.account, req.Token)
}

// Received implements Sink for Official Account callbacks, which carry the
// message: it is mapped without downloading its media and stored as a job, so the
// callback is answered at once.
func (w *Side) Received(ctx context.Context, m Message) error {
	in, ok := inbound(m)
	if !ok {
		return nil
	}
	return w.bridge.Accept(ctx, in)
}

// TokenStore keeps access tokens in the database (implemented by *storage.DB), so
// that replicas share one token: WeChat invalidates older tokens when too many
// are fetched.
type TokenStore interface {
	// Token returns bridge.ErrNotFound (wrapped) when no token is stored.
	Token(ctx context.Context, key string) (string, time.Time, error)
	PutToken(ctx context.Context, key, token string, expires time.Time) error
}

// NewSharedTokenCache adapts a TokenStore to a TokenCache.
func NewSharedTokenCache(db TokenStore) TokenCache { return sharedTokens{db} }

type sharedTokens struct{ db TokenStore }

func (c sharedTokens) Get(ctx context.Context, key string) (Token, bool, error) {
	v, exp, err := c.db.Token(ctx, key)
	if errors.Is(err, bridge.ErrNotFound) {
		return Token{}, false, nil
	}
	if err != nil {
		return Token{}, false, err
	}
	return Token{Value: v, ExpiresAt: exp}, true, nil
}

func (c sharedTokens) Put(ctx context.Context, key string, t Token) error {
	return c.db.PutToken(ctx, key, t.Value, t.ExpiresAt)
}
