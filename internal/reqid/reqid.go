// Package reqid carries the id of the API request that caused some work
// (a check, a gateway call) in its context, so that the work's log lines
// name the request, and the packages doing the work need not know the HTTP
// layer that minted the id.
package reqid

import (
	"context"
	"log/slog"
)

// Header is the HTTP header that carries a request's id, on the request
// (as the caller or the API's middleware set it) and on the response.
const Header = "X-Request-Id"

// Attr is the log attribute that names a request's id in every log line.
const Attr = "request_id"

type key struct{}

// With returns ctx carrying the request id id; an empty id leaves ctx as it
// is.
func With(ctx context.Context, id string) context.Context {
	if id == "" || From(ctx) == id {
		return ctx
	}
	return context.WithValue(ctx, key{}, id)
}

// From is the request id ctx carries, or "".
func From(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(key{}).(string)
	return id
}

// Logger returns log, or a logger that discards everything when it is nil,
// whose lines logged with a context (InfoContext, ...) carrying a request id
// name it as request_id.
func Logger(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	if _, ok := log.Handler().(handler); ok {
		return log
	}
	return slog.New(handler{log.Handler()})
}

// handler adds the context's request id to each record.
type handler struct{ next slog.Handler }

func (h handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		// r is this call's copy: Logger never reuses a record after
		// handing it over.
		r.AddAttrs(slog.String(Attr, id))
	}
	return h.next.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.next.WithAttrs(attrs)}
}

func (h handler) WithGroup(name string) slog.Handler {
	return handler{h.next.WithGroup(name)}
}
