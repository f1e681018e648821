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
// It also bounds every response body and shows list results to wire (see
// capture.go).
// A session's client (mode.session) bounds each stream's messages rather
// than its total: an event stream of a long session carries far more.
func (p *Prober) newHTTPClient(ctx context.Context, endpoint *url.URL, token string, wire *rawCapture, mode linkMode) (*http.Client, *recorder) {
	rec := &recorder{}
	base := p.policy.NewTransport()
	if mode.session {
		p.sessionsOnce.Do(func() { p.sessions = p.policy.NewTransport() })
		base = p.sessions
	}
	rt := &checkTransport{
		base:      base,
		shared:    mode.session,
		check:     ctx,
		origin:    origin(endpoint),
		token:     token,
		rec:       rec,
		wire:      wire,
		unbounded: mode.session,
		counted:   mode.session && !mode.raw,
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
	wire   *rawCapture
	// unbounded leaves event streams to the SDK's per-message limit.
	unbounded bool
	// counted: the notifications of its event streams are counted
	// (Session.Notices).
	counted bool
	// shared: base is the prober's session transport, whose idle
	// connections are the other sessions' too.
	shared bool
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the base
// transport, unless other sessions share it.
func (t *checkTransport) CloseIdleConnections() {
	if !t.shared {
		t.base.CloseIdleConnections()
	}
}

func (t *checkTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	stop := context.AfterFunc(t.check, func() { cancel(context.Cause(t.check)) })
	release := func() { stop(); cancel(nil) }

	out := req.Clone(ctx)
	if t.token != "" && origin(out.URL) == t.origin {
		out.Header.Set("Authorization", "Bearer "+t.token)
	}
	listCall := out.Method == http.MethodPost && t.wire.armed() && t.wire.noteRequest(requestBody(out))
	// The session's closing DELETE is not part of what is checked: its
	// answer (often 405, or 200) must not replace the failure it follows.
	closing := out.Method == http.MethodDelete
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		release()
		if t.check.Err() == nil && !closing {
			t.rec.fail(out.URL, err)
		}
		return nil, err
	}
	if !closing {
		t.rec.response(out, resp)
	}
	resp.Body = &releasingBody{ReadCloser: t.bound(out, resp, listCall), releaser: releaser{release: release}}
	return resp, nil
}

// bound limits resp's body, and taps it for the capture where it may carry
// a list result: the JSON or SSE answer to the list request, or the legacy
// SSE transport's event stream, which carries every answer.
func (t *checkTransport) bound(req *http.Request, resp *http.Response, listCall bool) io.ReadCloser {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	stream := ct == "text/event-stream"
	limit := int64(maxMessageBytes)
	if stream {
		limit = maxStreamBytes
	}
	body := resp.Body
	if !stream || !t.unbounded {
		body = &limitedBody{ReadCloser: resp.Body, left: limit, wire: t.wire}
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return body
	}
	if stream && t.counted {
		// A session's stream: its notifications are counted.
		body = &noticeBody{ReadCloser: body, count: &t.wire.notices}
	}
	switch {
	case stream && (listCall || req.Method == http.MethodGet):
		return &tapBody{ReadCloser: body, wire: t.wire, sse: true}
	case ct == "application/json" && listCall:
		return &tapBody{ReadCloser: body, wire: t.wire}
	}
	return body
}

// requestBody is a copy of req's body, which stays readable for the transport.
func requestBody(req *http.Request) []byte {
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil
		}
		defer rc.Close()
		b, _ := io.ReadAll(io.LimitReader(rc, maxMessageBytes))
		return b
	}
	b, _ := io.ReadAll(io.LimitReader(req.Body, maxMessageBytes))
	req.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), req.Body), req.Body}
	return b
}

// releasingBody frees the request's context watch when the body is closed.
type releasingBody struct {
	io.ReadCloser
	releaser
}

func (b *releasingBody) Close() error {
	return b.closeThen(b.ReadCloser.Close)
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
