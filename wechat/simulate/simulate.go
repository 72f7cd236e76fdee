// Package simulate implements `multiline simulate`: play a WeChat consumer against
// the fake WeChat server's /fake/... control endpoints and print what the consumer
// receives.
package simulate

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/multiline/multiline/wechat/fakewechat"
)

// ErrUsage is returned for bad flags; the message has already been printed.
var ErrUsage = errors.New("simulate: usage")

// DefaultServer is where `multiline serve --dev` mounts the built-in fake.
const DefaultServer = "http://127.0.0.1:3978"

type options struct {
	server, consumer, text, image, viaLink, optIn, advance string
	leave, inbox                                           bool
	wait                                                   time.Duration
}

// Run parses args (without the "simulate" word), performs the consumer's actions in
// a fixed order (advance the clock, arrive, write), then prints the messages the
// consumer receives within --wait, or the whole inbox with --inbox.
func Run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var o options
	fs.StringVar(&o.server, "server", DefaultServer, "base URL of the fake WeChat server")
	fs.StringVar(&o.consumer, "consumer", "wmLocalConsumer", "the consumer's id (external_userid or openid)")
	fs.StringVar(&o.text, "text", "", "send this text as the consumer")
	fs.StringVar(&o.image, "image", "", "send this image file as the consumer")
	fs.StringVar(&o.viaLink, "via-link", "", "arrive through an employee's contact link: a scene value or the link URL")
	fs.StringVar(&o.optIn, "opt-in", "", "arrive through an opt-in request: its scene_param (kf) or QR scene (Official Account)")
	fs.BoolVar(&o.leave, "leave", false, "send #LEAVE")
	fs.StringVar(&o.advance, "advance", "", "move the fake clock forward first, e.g. 24h or 48h")
	fs.BoolVar(&o.inbox, "inbox", false, "print everything the consumer has received")
	fs.DurationVar(&o.wait, "wait", 3*time.Second, "how long to wait for replies after acting")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if o.leave && o.text != "" {
		fmt.Fprintln(stdout, "use either --leave or --text")
		return ErrUsage
	}
	if o.leave {
		o.text = "#LEAVE"
	}
	acts := o.text != "" || o.image != "" || o.viaLink != "" || o.optIn != "" || o.advance != ""
	if !acts && !o.inbox {
		fs.Usage()
		return ErrUsage
	}
	c := &client{base: strings.TrimRight(o.server, "/"), hc: &http.Client{Timeout: 10 * time.Second}}
	return run(ctx, c, o, stdout)
}

func run(ctx context.Context, c *client, o options, out io.Writer) error {
	before, err := c.inbox(ctx, o.consumer)
	if err != nil {
		return err
	}
	if o.advance != "" {
		var res struct {
			Now time.Time `json:"now"`
		}
		if err := c.post(ctx, "/fake/clock/advance", fakewechat.AdvanceRequest{By: o.advance}, &res); err != nil {
			return err
		}
		fmt.Fprintf(out, "clock advanced by %s, WeChat time is now %s\n", o.advance, res.Now.Format(time.RFC3339))
	}
	if o.viaLink != "" || o.optIn != "" {
		req := fakewechat.ArriveRequest{Consumer: o.consumer, SceneParam: o.optIn}
		if strings.Contains(o.viaLink, "://") {
			req.Link = o.viaLink
		} else {
			req.Scene = o.viaLink
		}
		var res fakewechat.ActionResponse
		if err := c.post(ctx, "/fake/consumer/arrive", req, &res); err != nil {
			return err
		}
		fmt.Fprintf(out, "→ %s opened the chat (link %q, opt-in %q); callback: %s\n", o.consumer, o.viaLink, o.optIn, res.Callback)
	}
	if o.image != "" {
		data, err := os.ReadFile(o.image)
		if err != nil {
			return fmt.Errorf("simulate: image: %w", err)
		}
		req := fakewechat.SendRequest{Consumer: o.consumer, Image: base64.StdEncoding.EncodeToString(data), Filename: filepath.Base(o.image)}
		var res fakewechat.ActionResponse
		if err := c.post(ctx, "/fake/consumer/send", req, &res); err != nil {
			return err
		}
		fmt.Fprintf(out, "→ %s sent image %s (%d bytes); callback: %s\n", o.consumer, filepath.Base(o.image), len(data), res.Callback)
	}
	if o.text != "" {
		var res fakewechat.ActionResponse
		if err := c.post(ctx, "/fake/consumer/send", fakewechat.SendRequest{Consumer: o.consumer, Text: o.text}, &res); err != nil {
			return err
		}
		fmt.Fprintf(out, "→ %s: %s (callback: %s)\n", o.consumer, o.text, res.Callback)
	}
	if o.inbox {
		all, err := c.inbox(ctx, o.consumer)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "inbox of %s (%d messages):\n", o.consumer, len(all))
		printMessages(out, all)
		return nil
	}
	fresh, err := c.waitForNew(ctx, o.consumer, len(before), o.wait)
	if err != nil {
		return err
	}
	if len(fresh) == 0 {
		fmt.Fprintf(out, "(nothing received within %s)\n", o.wait)
	}
	printMessages(out, fresh)
	return nil
}

func printMessages(out io.Writer, msgs []fakewechat.Delivered) {
	for _, m := range msgs {
		body := m.Text
		if m.Kind != "text" {
			body = fmt.Sprintf("[%s %s]", m.Kind, m.MediaID)
		}
		fmt.Fprintf(out, "← %s %s\n", m.At.Format("2006-01-02 15:04"), body)
	}
}

// client talks to the fake's control endpoints.
type client struct {
	base string
	hc   *http.Client
}

func (c *client) post(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req, out)
}

func (c *client) do(req *http.Request, out any) error {
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("simulate: is the fake WeChat server running at %s? %w", c.base, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("simulate: %s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, e.Error)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("simulate: %s: %w", req.URL.Path, err)
	}
	return nil
}

func (c *client) inbox(ctx context.Context, consumer string) ([]fakewechat.Delivered, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/fake/consumer/inbox?consumer="+urlEscape(consumer), nil)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	var res fakewechat.InboxResponse
	if err := c.do(req, &res); err != nil {
		return nil, err
	}
	return res.Messages, nil
}

// waitForNew polls the inbox until replies stop arriving for a moment or wait ends:
// the bridge answers asynchronously, sometimes with several messages.
func (c *client) waitForNew(ctx context.Context, consumer string, seen int, wait time.Duration) ([]fakewechat.Delivered, error) {
	const quiet = 700 * time.Millisecond
	deadline := time.Now().Add(wait)
	var (
		last      []fakewechat.Delivered
		lastGrown time.Time
	)
	for {
		all, err := c.inbox(ctx, consumer)
		if err != nil {
			return nil, err
		}
		if len(all) > seen {
			if len(all) != len(last)+seen {
				lastGrown = time.Now()
			}
			last = all[seen:]
			if time.Since(lastGrown) >= quiet {
				return last, nil
			}
		}
		if time.Now().After(deadline) {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func urlEscape(s string) string { return url.QueryEscape(s) }
