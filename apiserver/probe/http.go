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
// the policy (with t's TLS settings), wrapped so that t's credentials (bearer
// token, headers, OAuth 2.0 access token) go only to the endpoint's origin, every request ends when the check does (the SDK sends its
// session DELETE and cancellation notices on contexts of its own), and the
// last thing that went wrong on the wire is kept for the error message.
// It also bounds every response body and shows list results to wire (see
// capture.go).
// A session's client (mode.session) bounds each stream's messages rather
// than its total: an event stream of a long session carries far more.
// t's TLS settings were validated with endpoint, so cannot fail here.
func (p *Prober) newHTTPClient(ctx context.Context, endpoint *url.URL, t Target, wire *rawCapture, mode linkMode) (*http.Client, *recorder) {
	rec := &recorder{}
	settings, _ := p.tlsFor(t.TLS)
	rec.tls = settings
	var base *http.Transport
	if mode.session {
		base = p.sessionTransport(settings)
	} else {
		base = p.policy.NewTransport()
		if settings != nil {
			base.TLSClientConfig = settings.config.Clone()
		}
	}
	rt := &checkTransport{
		base:      base,
		shared:    mode.session,
		check:     ctx,
		origin:    origin(endpoint),
		token:     t.BearerToken,
		headers:   t.Headers,
		rec:       rec,
		wire:      wire,
		unbounded: mode.session,
		counted:   mode.session && !mode.raw,
	}
	if t.OAuth2 != nil {
		rt.oauth = p.oauthFor(t, endpoint, settings)
		rt.token = ""
		rec.oauth = rt.oauth
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
	// headers are the target's extra headers, for the origin only too.
	headers map[string]string
	// oauth fetches the access token sent instead of token; nil without OAuth 2.0.
	oauth *oauthClient
	rec   *recorder
	wire  *rawCapture
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
	ours := origin(out.URL) == t.origin
	var sent string
	if ours {
		setCredentials(out.Header, t.headers, t.token)
		if t.oauth != nil {
			var err error
			if sent, err = t.oauthToken(ctx, out, "", nil); err != nil {
				release()
				return nil, err
			}
		}
	}
	listCall := out.Method == http.MethodPost && (t.wire.armed() || t.wire.waiting()) && t.wire.noteRequest(requestBody(out))
	// The session's closing DELETE is not part of what is checked: its
	// answer (often 405, or 200) must not replace the failure it follows.
	closing := out.Method == http.MethodDelete
	resp, err := t.base.RoundTrip(out)
	if err == nil && ours && t.oauth != nil && resp.StatusCode == http.StatusUnauthorized && replayable(out) {
		// The token expired early, was revoked, or (discovery) none was
		// sent yet: drop it, fetch a fresh one and send the request again, once.
		challenge := resp.Header.Values("WWW-Authenticate")
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, snippetBytes))
		resp.Body.Close()
		again := out.Clone(ctx)
		if out.GetBody != nil {
			if again.Body, err = out.GetBody(); err != nil {
				release()
				return nil, err
			}
		}
		if _, err := t.oauthToken(ctx, again, sent, challenge); err != nil {
			release()
			return nil, err
		}
		out = again
		resp, err = t.base.RoundTrip(out)
	}
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

// oauthToken puts the access token on out (stale: the one a 401 answered,
// challenge: that 401's WWW-Authenticate) and returns it; "" when none is
// known yet. out's body is made replayable for the retry after a 401.
// A failure is recorded for the check's message.
func (t *checkTransport) oauthToken(ctx context.Context, out *http.Request, stale string, challenge []string) (string, error) {
	if out.Body != nil && out.Body != http.NoBody && out.GetBody == nil {
		// Our own outgoing message, already in memory: read it whole.
		b, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			return "", err
		}
		out.Body = io.NopCloser(bytes.NewReader(b))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	tok, err := t.oauth.token(ctx, stale, challenge)
	if err != nil {
		t.rec.fail(out.URL, err)
		return "", err
	}
	if tok != "" {
		out.Header.Set("Authorization", "Bearer "+tok)
	}
	return tok, nil
}

// replayable reports whether req can be sent again: it has no body, or a
// way to get it anew (oauthToken gives every body one).
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
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
	// challenge is a 401's WWW-Authenticate, for the message.
	challenge string
}

// recorder keeps the last wire problem of a check. A well-formed MCP
// response clears it, so what remains explains the failure the SDK saw.
type recorder struct {
	mu   sync.Mutex
	last *wireProblem
	// tls and oauth are the check's TLS settings and OAuth 2.0 client, for
	// its messages; nil when it has none.
	tls   *tlsSettings
	oauth *oauthClient
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
		r.set(&wireProblem{url: req.URL, status: resp.StatusCode, contentType: ct, snippet: string(head),
			challenge: strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")})
	}
}
