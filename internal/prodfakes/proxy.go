package prodfakes

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Proxy is an HTTP proxy that only tunnels (CONNECT), as HTTPS_PROXY needs. It
// tunnels the routed host:port pairs to local addresses and refuses every other
// target with 403, recording it: nothing leaves the machine.
type Proxy struct {
	ln  net.Listener
	srv *http.Server

	mu       sync.Mutex
	routes   map[string]string // "login.microsoftonline.com:443" -> "127.0.0.1:port"
	tunnels  []string          // targets tunnelled, in order
	refused  []string          // targets refused, in order
	open     map[net.Conn]bool
	draining bool
}

// NewProxy starts a proxy on 127.0.0.1 with routes from public host:port to
// local addresses.
func NewProxy(routes map[string]string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, routes: map[string]string{}, open: map[net.Conn]bool{}}
	for k, v := range routes {
		p.routes[strings.ToLower(k)] = v
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// Route adds or replaces a route.
func (p *Proxy) Route(hostPort, addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.routes[strings.ToLower(hostPort)] = addr
}

// URL is the value for HTTPS_PROXY.
func (p *Proxy) URL() *url.URL { return &url.URL{Scheme: "http", Host: p.ln.Addr().String()} }

// Tunnels returns the targets tunnelled so far.
func (p *Proxy) Tunnels() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.tunnels)
}

// Refused returns the targets refused so far (hosts the service tried to reach
// that no fake stands in for).
func (p *Proxy) Refused() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.refused)
}

// Close stops the proxy and its tunnels.
func (p *Proxy) Close() {
	p.srv.Close()
	p.mu.Lock()
	p.draining = true
	for c := range p.open {
		c.Close()
	}
	p.mu.Unlock()
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		// Plain-http proxying is not offered: the service must not send anything in
		// clear text through a proxy.
		p.mu.Lock()
		p.refused = append(p.refused, r.Method+" "+r.URL.String())
		p.mu.Unlock()
		http.Error(w, "this proxy only tunnels (CONNECT)", http.StatusMethodNotAllowed)
		return
	}
	target := strings.ToLower(r.Host)
	p.mu.Lock()
	addr, ok := p.routes[target]
	if !ok {
		p.refused = append(p.refused, target)
	} else {
		p.tunnels = append(p.tunnels, target)
	}
	p.mu.Unlock()
	if !ok {
		http.Error(w, "prodfakes proxy: no route to "+target+" (offline test)", http.StatusForbidden)
		return
	}
	up, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		http.Error(w, "prodfakes proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "prodfakes proxy: cannot hijack", http.StatusInternalServerError)
		return
	}
	down, rw, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	if !p.track(down, up) {
		down.Close()
		up.Close()
		return
	}
	if _, err := io.WriteString(down, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		p.untrack(down, up)
		return
	}
	go p.pipe(down, up, rw.Reader)
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.draining {
		return false
	}
	for _, c := range cs {
		p.open[c] = true
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(p.open, c)
	}
}

// pipe copies both ways; buffered holds bytes the client sent after CONNECT that
// the server had already read.
func (p *Proxy) pipe(down, up net.Conn, buffered *bufio.Reader) {
	defer p.untrack(down, up)
	done := make(chan struct{}, 2)
	go func() {
		io.Copy(up, buffered) // drains the buffer, then reads down
		done <- struct{}{}
	}()
	go func() {
		io.Copy(down, up)
		done <- struct{}{}
	}()
	<-done
}
