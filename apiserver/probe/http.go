package probe

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// newHTTPClient returns the client one check uses: the guarded transport of
// the policy, wrapped so that the bearer token goes only to the endpoint's
// origin, every request ends when the check does (the SDK sends its
// session DELETE and cancellation notices on contexts of its own), and the
// last thing that went wrong on the wire is kept for the error message.
func (p *Prober) newHTTPClient(ctx context.Context, endpoint *url.URL, token string) (*http.Client, *recorder) {
	rec := &recorder{}
	rt := &checkTransport{
		base:   p.policy.NewTransport(),
		check:  ctx,
		origin: origin(endpoint),
		token:  token,
		rec:    rec,
	}
	checkRedirect := func(req *http.Request, via []*http.Request) error {
		err := p.policy.CheckRedirect(req, via)
		if err != nil {
			rec.fail(req.URL, err)
		}
		return err
	}
	return &http.Client{Transport: rt, CheckRedirect: checkRedirect}, rec
}

// origin is scheme://host:port with the default port made explicit, so
// "https://h" and "https://h:443" are the same origin.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return strings.ToLower(u.Scheme + "://" + u.Hostname() + ":" + port)
}

// checkTransport is the RoundTripper of one check.
type checkTransport struct {
	base   *http.Transport
	check  context.Context
	origin string
	token  string
	rec    *recorder
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the base transport.
func (t *checkTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }

func (t *checkTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	stop := context.AfterFunc(t.check, func() { cancel(context.Cause(t.check)) })
	release := func() { stop(); cancel(nil) }

	out := req.Clone(ctx)
	if t.token != "" && origin(out.URL) == t.origin {
		out.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		release()
		if t.check.Err() == nil {
			t.rec.fail(out.URL, err)
		}
		return nil, err
	}
	t.rec.response(out, resp)
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody frees the request's context watch when the body is closed.
type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// wireProblem is the last thing that went wrong on the wire during a check.
type wireProblem struct {
	url *url.URL
	// err is a transport failure (dial, TLS, ...); nil for a bad response.
	err error
	// status and contentType describe a response that was not MCP.
	status      int
	contentType string
	// snippet is the start of an error response's body, for the message.
	snippet string
}

// recorder keeps the last wire problem of a check. A well-formed MCP
// response clears it, so what remains explains the failure the SDK saw.
type recorder struct {
	mu   sync.Mutex
	last *wireProblem
}

func (r *recorder) problem() *wireProblem {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func (r *recorder) set(p *wireProblem) {
	r.mu.Lock()
	r.last = p
	r.mu.Unlock()
}

func (r *recorder) fail(u *url.URL, err error) { r.set(&wireProblem{url: u, err: err}) }

// snippetBytes is how much of an error body is kept for the message.
const snippetBytes = 512

func (r *recorder) response(req *http.Request, resp *http.Response) {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent:
		r.set(nil)
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if ct == "application/json" || ct == "text/event-stream" {
			r.set(nil)
		} else {
			r.set(&wireProblem{url: req.URL, status: resp.StatusCode, contentType: ct})
		}
	default:
		// Keep the start of the body for the message and hand the SDK the
		// same bytes it would have read.
		head, _ := io.ReadAll(io.LimitReader(resp.Body, snippetBytes))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		r.set(&wireProblem{url: req.URL, status: resp.StatusCode, contentType: ct, snippet: string(head)})
	}
}
