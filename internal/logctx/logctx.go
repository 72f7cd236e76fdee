// Package logctx carries log attributes in a context: the request id that the
// HTTP edge assigns, the job a runner is handling, the thread and employee an
// edge knows about. A logger whose handler is wrapped by NewHandler adds them to
// every record logged with that context (slog's *Context methods), so that the
// log lines of one request or one job can be found together.
package logctx

import (
	"context"
	"log/slog"
	"slices"
)

type key struct{}

// With returns ctx carrying args (slog key-value pairs or slog.Attrs) in addition
// to the attributes ctx already carries. A key set again replaces the earlier value.
func With(ctx context.Context, args ...any) context.Context {
	if len(args) == 0 {
		return ctx
	}
	add := slog.Group("", args...).Value.Group()
	prev := Attrs(ctx)
	out := make([]slog.Attr, 0, len(prev)+len(add))
	for _, a := range prev {
		if !slices.ContainsFunc(add, func(b slog.Attr) bool { return b.Key == a.Key }) {
			out = append(out, a)
		}
	}
	return context.WithValue(ctx, key{}, append(out, add...))
}

// Attrs returns the attributes ctx carries.
func Attrs(ctx context.Context) []slog.Attr {
	if ctx == nil {
		return nil
	}
	a, _ := ctx.Value(key{}).([]slog.Attr)
	return a
}

// Value returns the value of the attribute key that ctx carries, if any.
func Value(ctx context.Context, key string) (slog.Value, bool) {
	for _, a := range Attrs(ctx) {
		if a.Key == key {
			return a.Value, true
		}
	}
	return slog.Value{}, false
}

// NewHandler wraps h so that each record gets the attributes of its context.
func NewHandler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ next slog.Handler }

func (h handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if attrs := Attrs(ctx); len(attrs) > 0 {
		r = r.Clone()
		r.AddAttrs(attrs...)
	}
	return h.next.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler { return handler{h.next.WithAttrs(attrs)} }

func (h handler) WithGroup(name string) slog.Handler { return handler{h.next.WithGroup(name)} }
