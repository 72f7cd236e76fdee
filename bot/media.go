package bot

import (
	"context"
	"errors"
	"fmt"
	"html"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/multiline/multiline/bot/cards"
	"github.com/multiline/multiline/bot/connector"
	"github.com/multiline/multiline/bridge"
)

// MediaStore keeps the files and images employees send in the bot chat until the
// WeChat side uploads them (storage.DB implements it). The bot stores a file
// before it hands the message to the bridge, which refers to it by the ref.
type MediaStore interface {
	PutMedia(ctx context.Context, company, contentType, fileName string, data []byte) (ref string, err error)
}

// ContentChecker is optional on a Bridge (bridge.Service has it, and so does
// the cmd/multiline adapter that embeds it): CanSend reports whether the
// company's WeChat account can send body at all, a refusal wrapping
// bridge.ErrUnsupportedContent (an Official Account sends no files). body.MediaRef
// is empty: the media is not stored yet. When the Bridge offers it, the bot asks
// before it downloads or stores a byte of a file, so that a refused file leaves
// nothing behind; without it, Send's refusal comes after the file is stored. The
// rest of what Send checks the bot knows beforehand: the thread is one of the
// employee's open threads, and the caption's length.
type ContentChecker interface {
	CanSend(body bridge.Content) error
}

// FileDownloadInfoType is the content type of a file a user attaches in a
// personal chat with a bot: its content names a pre-authorised downloadUrl.
const FileDownloadInfoType = "application/vnd.microsoft.teams.file.download.info"

// DefaultMaxMedia is the default limit for one file or image sent in the chat:
// WeChat's limit for a file (WeCom allows 20 MB).
const DefaultMaxMedia = 20 << 20

var (
	// errNoMediaStore: the bot was built without a MediaStore.
	errNoMediaStore = errors.New("bot: no media store: files cannot be sent from the chat")
	// errDownload: Teams did not hand over a file's bytes.
	errDownload = errors.New("bot: the file could not be downloaded from Teams")
)

// mediaTimeout bounds the handling of one message with files.
const mediaTimeout = 3 * time.Minute

// mediaItem is one file or image of an inbound message.
type mediaItem struct {
	kind        string // image, voice, video or file
	name        string
	contentType string // what Teams says; may be "image/*"
	url         string
	// viaConnector: the URL may be on the connector's host and get the bot's
	// token (inline images); file links are pre-authorised and never do.
	viaConnector bool
}

// media returns the files and images of a message. Cards, the text/html copy of
// the message and anything else are not media.
func (a *inbound) media() []mediaItem {
	var out []mediaItem
	for _, at := range a.Attachments {
		ct := strings.ToLower(strings.TrimSpace(at.ContentType))
		switch {
		case ct == FileDownloadInfoType:
			c, _ := at.Content.(map[string]any)
			u, _ := c["downloadUrl"].(string)
			ft, _ := c["fileType"].(string)
			if u == "" {
				continue
			}
			name := strings.TrimSpace(at.Name)
			if ft == "" {
				ft = strings.TrimPrefix(path.Ext(name), ".")
			}
			ft = strings.ToLower(ft)
			if name == "" {
				name = "file"
				if ft != "" {
					name += "." + ft
				}
			}
			typ := mime.TypeByExtension("." + ft)
			if ft == "" || typ == "" {
				typ = "application/octet-stream"
			}
			out = append(out, mediaItem{kind: kindOfFile(ft), name: name, contentType: typ, url: u})
		case strings.HasPrefix(ct, "image/") && at.ContentURL != "":
			out = append(out, mediaItem{kind: "image", name: strings.TrimSpace(at.Name), contentType: ct, url: at.ContentURL, viaConnector: true})
		}
	}
	return out
}

// kindOfFile says how WeChat should carry a file of this type: pictures as
// images, MP4 as video, AMR (WeChat's voice format) as voice, the rest as files.
func kindOfFile(fileType string) string {
	switch fileType {
	case "jpg", "jpeg", "png", "gif":
		return "image"
	case "mp4":
		return "video"
	case "amr":
		return "voice"
	}
	return "file"
}

var (
	htmlTag   = regexp.MustCompile(`</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>`)
	lineBreak = regexp.MustCompile(`(?i)<br\s*/?>|</p>|</div>`)
)

// caption is the text sent next to a file: without <at>mentions</at>, and, when
// Teams sent it as HTML, without tags and entities.
func caption(text string) string {
	t := mentionTag.ReplaceAllString(text, "")
	if htmlTag.MatchString(t) {
		t = lineBreak.ReplaceAllString(t, "\n")
		t = htmlTag.ReplaceAllString(t, "")
		t = html.UnescapeString(t)
		t = strings.ReplaceAll(t, "\u00a0", " ")
	}
	lines := strings.Split(t, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// mediaMessage sends the files and images of a chat message to the thread in
// focus; the message's text is the caption, sent with the first of them (the
// bridge turns it into its own text message). Each refusal is answered in words.
func (b *Bot) mediaMessage(ctx context.Context, a *inbound, e bridge.Employee, items []mediaItem, lang bridge.Language) {
	// A large file can take longer than Teams waits for the HTTP answer; once it
	// is being fetched it is finished, sent or refused with a reply, even if Teams
	// has hung up meanwhile.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mediaTimeout)
	defer cancel()
	if b.media == nil {
		b.replyError(ctx, a, errNoMediaStore, lang)
		return
	}
	threads, err := b.core.Threads(ctx, e.ID)
	if err != nil {
		b.replyError(ctx, a, err, lang)
		return
	}
	t, ok := focus(e, threads)
	if !ok {
		b.askWhichThread(ctx, a, threads, lang)
		return
	}
	text := caption(a.Text)
	if len(text) > bridge.MaxTextBytes {
		b.replyError(ctx, a, bridge.ErrMessageTooLong, lang)
		return
	}
	var sent []bridge.MessageView
	for _, it := range items {
		body := bridge.Content{MediaKind: it.kind, FileName: it.name, Text: text}
		mv, err := b.sendMedia(ctx, a, e, t.ID, it, body)
		if err != nil {
			msg, unexpected := friendlyMedia(err, lang, b.cfg.MaxMedia)
			if unexpected {
				b.log.Error("bot: send media", "err", err)
			} else {
				b.log.Info("bot: media not sent", "employee", e.ID, "kind", it.kind, "err", err)
			}
			b.reply(ctx, a, connector.Text(msg))
			continue
		}
		text = "" // the caption went with this one
		sent = append(sent, mv)
	}
	if len(sent) > 0 {
		b.confirm(ctx, e, t, sent, lang)
	}
}

// sendMedia checks, downloads, stores and sends one item.
func (b *Bot) sendMedia(ctx context.Context, a *inbound, e bridge.Employee, t bridge.ThreadID, it mediaItem, body bridge.Content) (bridge.MessageView, error) {
	if c, ok := b.core.(ContentChecker); ok {
		if err := c.CanSend(body); err != nil {
			return bridge.MessageView{}, err
		}
	}
	serviceURL := ""
	if it.viaConnector {
		serviceURL = a.ServiceURL
	}
	d, err := b.conn.Download(ctx, it.url, serviceURL, b.cfg.MaxMedia)
	switch {
	case errors.Is(err, connector.ErrTooLarge):
		return bridge.MessageView{}, err
	case err != nil:
		return bridge.MessageView{}, fmt.Errorf("%w: %w", errDownload, err)
	}
	ct := mediaType(it.contentType, d)
	if body.FileName == "" {
		body.FileName = it.kind + extension(ct)
	}
	ref, err := b.media.PutMedia(ctx, string(e.Company), ct, body.FileName, d.Data)
	if err != nil {
		return bridge.MessageView{}, fmt.Errorf("bot: store media: %w", err)
	}
	body.MediaRef = ref
	return b.core.Send(ctx, e.ID, t, body)
}

// mediaType picks the most specific content type: what Teams named, else what
// the download said, else what the bytes look like.
func mediaType(named string, d connector.Download) string {
	specific := func(ct string) bool {
		ct, _, _ = strings.Cut(ct, ";")
		ct = strings.TrimSpace(ct)
		return ct != "" && !strings.HasSuffix(ct, "/*") && ct != "application/octet-stream"
	}
	switch {
	case specific(named):
		return named
	case specific(d.ContentType):
		ct, _, _ := strings.Cut(d.ContentType, ";")
		return strings.TrimSpace(ct)
	}
	return http.DetectContentType(d.Data)
}

func extension(contentType string) string {
	ct, _, _ := strings.Cut(contentType, ";")
	switch strings.TrimSpace(ct) {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "image/bmp":
		return ".bmp"
	}
	return ""
}

// askWhichThread answers a message that has no thread to go to.
func (b *Bot) askWhichThread(ctx context.Context, a *inbound, threads []bridge.ThreadSummary, lang bridge.Language) {
	if len(threads) == 0 {
		b.reply(ctx, a, connector.Text(noThreadsText(lang)))
		return
	}
	b.reply(ctx, a, connector.Card(b.cards.Threads(threads, cards.ChooseToSend, lang), "Which conversation?"))
}
