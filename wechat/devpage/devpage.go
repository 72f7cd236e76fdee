// Package devpage is the local mode's consumer page, /dev/wechat: a phone-sized,
// WeChat-like page to play one or more consumers against the built-in WeChat
// simulator (wechat/fakewechat). A consumer writes text, sends images and files,
// opens an employee's contact link or an opt-in link (the QR code's content),
// sends #LEAVE, sees everything they received as it arrives, and fast-forwards
// the simulator's clock to see the 24 h and 48 h notices.
//
// The page is plain HTML, CSS and JavaScript (no build step) served from this
// package; its JSON API under /dev/wechat/api/ calls the simulator in process.
// It exists only in local mode: the binary mounts it next to the simulator.
package devpage

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/multiline/multiline/wechat/fakewechat"
)

// Prefix is where the page is mounted.
const Prefix = "/dev/wechat"

//go:embed static
var static embed.FS

var staticFS, _ = fs.Sub(static, "static")

// maxUpload is the largest file a consumer sends here (WeChat's file limit).
const maxUpload = 20 << 20

// Page is the consumer page over one simulator.
type Page struct {
	sim *fakewechat.Server
	mux *http.ServeMux

	mu        sync.Mutex
	consumers []*consumer
	sentMedia map[string]sentFile
}

// consumer is one played consumer and what they did on the page.
type consumer struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language,omitempty"`
	did      []Entry
}

type sentFile struct {
	contentType string
	data        []byte
}

// Entry is one line of a consumer's chat: something they did, or something they
// received.
type Entry struct {
	// Dir is "out" for what the consumer did, "in" for what they received.
	Dir  string    `json:"dir"`
	Kind string    `json:"kind"` // text, image, voice, video, file, or event (arrived through a link)
	Text string    `json:"text,omitempty"`
	At   time.Time `json:"at"`
	// Media is where the page shows or downloads the media, FileName its name.
	Media    string `json:"media,omitempty"`
	FileName string `json:"file_name,omitempty"`
	// Note says what became of the action when the service was not told.
	Note string `json:"note,omitempty"`
}

// New returns the page over sim.
func New(sim *fakewechat.Server) *Page {
	p := &Page{sim: sim, sentMedia: map[string]sentFile{}}
	m := http.NewServeMux()
	m.HandleFunc("GET "+Prefix, p.index)
	m.HandleFunc("GET "+Prefix+"/{$}", p.index)
	m.HandleFunc("GET "+Prefix+"/static/{file}", p.file)
	m.HandleFunc("GET "+Prefix+"/api/state", p.state)
	m.HandleFunc("POST "+Prefix+"/api/consumers", p.newConsumer)
	m.HandleFunc("POST "+Prefix+"/api/send", p.send)
	m.HandleFunc("POST "+Prefix+"/api/arrive", p.arrive)
	m.HandleFunc("POST "+Prefix+"/api/advance", p.advance)
	m.HandleFunc("GET "+Prefix+"/api/media/{id}", p.media)
	m.HandleFunc("GET "+Prefix+"/api/sent/{id}", p.sent)
	p.mux = m
	return p
}

// ServeHTTP implements http.Handler.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	p.mux.ServeHTTP(w, r)
}

func (p *Page) index(w http.ResponseWriter, r *http.Request) {
	http.ServeFileFS(w, r, staticFS, "index.html")
}

func (p *Page) file(w http.ResponseWriter, r *http.Request) {
	http.ServeFileFS(w, r, staticFS, r.PathValue("file"))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (p *Page) find(id string) *consumer {
	for _, c := range p.consumers {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// stateJSON is what the page shows: the simulator's clock, the consumers, the
// chosen consumer's chat, and the links WeChat made.
type stateJSON struct {
	Now       time.Time         `json:"now"`
	Consumers []consumerJSON    `json:"consumers"`
	Chat      []Entry           `json:"chat"`
	Links     []fakewechat.Link `json:"links"`
}

type consumerJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Received int    `json:"received"`
}

func (p *Page) state(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("consumer")
	out := stateJSON{Now: p.sim.Now(), Consumers: []consumerJSON{}, Chat: []Entry{}, Links: p.sim.Links()}
	p.mu.Lock()
	for _, c := range p.consumers {
		out.Consumers = append(out.Consumers, consumerJSON{ID: c.ID, Name: c.Name, Received: len(p.sim.Inbox(c.ID))})
	}
	if c := p.find(id); c != nil {
		out.Chat = append(out.Chat, c.did...)
	}
	p.mu.Unlock()
	if id != "" {
		for _, d := range p.sim.Inbox(id) {
			e := Entry{Dir: "in", Kind: d.Kind, Text: d.Text, At: d.At, FileName: d.FileName}
			if d.MediaID != "" {
				e.Media = Prefix + "/api/media/" + d.MediaID
			}
			out.Chat = append(out.Chat, e)
		}
	}
	// The consumer's actions and what they received, in the simulator's time;
	// at the same instant, what they did comes first (it caused the answer).
	slices.SortStableFunc(out.Chat, func(a, b Entry) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(b.Dir, a.Dir) // "out" before "in"
	})
	writeJSON(w, http.StatusOK, out)
}

func newID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// newConsumer adds a consumer with a WeChat nickname and language.
func (p *Page) newConsumer(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     string `json:"name"`
		Language string `json:"language"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&in); err != nil {
		fail(w, http.StatusBadRequest, `send {"name": "…", "language": "en|zh_CN"}`)
		return
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 64 {
		fail(w, http.StatusBadRequest, "a consumer needs a name of at most 64 bytes")
		return
	}
	switch in.Language {
	case "", "en", "zh_CN":
	default:
		fail(w, http.StatusBadRequest, "language is en or zh_CN")
		return
	}
	c := &consumer{ID: newID("wmdev"), Name: in.Name, Language: in.Language}
	p.sim.SetProfile(c.ID, fakewechat.Profile{Nickname: c.Name, Language: c.Language})
	p.mu.Lock()
	p.consumers = append(p.consumers, c)
	p.mu.Unlock()
	writeJSON(w, http.StatusCreated, c)
}

// record keeps what a consumer did; err is what the simulator said.
func (p *Page) record(w http.ResponseWriter, c *consumer, e Entry, err error) {
	var cb *fakewechat.CallbackError
	switch {
	case errors.Is(err, fakewechat.ErrNoCallback):
		e.Note = "the service was not told: the simulator has no callback URL"
	case errors.As(err, &cb):
		e.Note = "the service did not acknowledge it: " + cb.Error()
	case err != nil:
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	p.mu.Lock()
	c.did = append(c.did, e)
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, e)
}

func (p *Page) consumerOf(w http.ResponseWriter, id string) *consumer {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.find(id)
	if c == nil {
		fail(w, http.StatusNotFound, "no such consumer: add one first")
	}
	return c
}

// send is a consumer writing: JSON {"consumer", "text"}, or a multipart form
// with "consumer" and a "file" (an image, voice, video or any file).
func (p *Page) send(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		p.sendFile(w, r)
		return
	}
	var in struct {
		Consumer string `json:"consumer"`
		Text     string `json:"text"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&in); err != nil || strings.TrimSpace(in.Text) == "" {
		fail(w, http.StatusBadRequest, `send {"consumer": "…", "text": "…"}`)
		return
	}
	c := p.consumerOf(w, in.Consumer)
	if c == nil {
		return
	}
	now := p.sim.Now()
	_, err := p.sim.ConsumerSends(r.Context(), c.ID, in.Text)
	p.record(w, c, Entry{Dir: "out", Kind: "text", Text: in.Text, At: now}, err)
}

// kindOf is WeChat's message type for a file a consumer picked.
func kindOf(contentType string) string {
	switch {
	case strings.HasPrefix(contentType, "image/"):
		return "image"
	case contentType == "audio/amr" || contentType == "audio/mpeg":
		return "voice"
	case contentType == "video/mp4":
		return "video"
	}
	return "file"
}

func (p *Page) sendFile(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1<<20)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		fail(w, http.StatusBadRequest, "send a multipart form with consumer and file (at most 20 MB)")
		return
	}
	c := p.consumerOf(w, r.FormValue("consumer"))
	if c == nil {
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		fail(w, http.StatusBadRequest, "no file")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil || len(data) == 0 {
		fail(w, http.StatusBadRequest, "the file is empty or could not be read")
		return
	}
	ct := hdr.Header.Get("Content-Type")
	if ct == "" || ct == "application/octet-stream" {
		ct = http.DetectContentType(data)
	}
	kind := kindOf(ct)
	now := p.sim.Now()
	_, err = p.sim.ConsumerSendsMedia(r.Context(), c.ID, kind, hdr.Filename, data)
	id := newID("s")
	if err == nil || errors.Is(err, fakewechat.ErrNoCallback) || errors.As(err, new(*fakewechat.CallbackError)) {
		p.mu.Lock()
		p.sentMedia[id] = sentFile{contentType: ct, data: data}
		p.mu.Unlock()
	}
	p.record(w, c, Entry{Dir: "out", Kind: kind, At: now, Media: Prefix + "/api/sent/" + id, FileName: hdr.Filename}, err)
}

// arrive is a consumer opening a contact link or an opt-in link (what an opt-in
// QR code holds).
func (p *Page) arrive(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Consumer string `json:"consumer"`
		Link     string `json:"link"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&in); err != nil || strings.TrimSpace(in.Link) == "" {
		fail(w, http.StatusBadRequest, `send {"consumer": "…", "link": "…"}`)
		return
	}
	c := p.consumerOf(w, in.Consumer)
	if c == nil {
		return
	}
	now := p.sim.Now()
	err := p.sim.Arrive(r.Context(), c.ID, strings.TrimSpace(in.Link), "", "")
	p.record(w, c, Entry{Dir: "out", Kind: "event", Text: strings.TrimSpace(in.Link), At: now}, err)
}

// advance moves the simulator's clock, which the service runs on in local mode.
func (p *Page) advance(w http.ResponseWriter, r *http.Request) {
	var in struct {
		By string `json:"by"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&in); err != nil {
		fail(w, http.StatusBadRequest, `send {"by": "24h"}`)
		return
	}
	d, err := time.ParseDuration(in.By)
	if err != nil || d <= 0 || d > 30*24*time.Hour {
		fail(w, http.StatusBadRequest, "by is a positive duration of at most 30 days, such as 24h")
		return
	}
	writeJSON(w, http.StatusOK, map[string]time.Time{"now": p.sim.Advance(d)})
}

// media serves what a consumer received.
func (p *Page) media(w http.ResponseWriter, r *http.Request) {
	name, ct, data, ok := p.sim.Media(r.PathValue("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	serveFile(w, name, ct, data)
}

// sent serves what a consumer sent from the page.
func (p *Page) sent(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	f, ok := p.sentMedia[r.PathValue("id")]
	p.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	serveFile(w, "", f.contentType, f.data)
}

// serveFile shows images, audio and video inline and downloads anything else,
// so no uploaded file runs script on this origin.
func serveFile(w http.ResponseWriter, name, ct string, data []byte) {
	h := w.Header()
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	mt, _, _ := strings.Cut(ct, ";")
	switch mt {
	case "image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp", "audio/mpeg", "video/mp4":
		h.Set("Content-Type", mt)
	default:
		h.Set("Content-Type", "application/octet-stream")
		if name == "" {
			name = "file"
		}
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	}
	_, _ = w.Write(data)
}
