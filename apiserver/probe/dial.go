package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The one place outbound MCP connections are built: the transport of each
// kind, the credentials it carries and the address guard it dials through.
// A check (Probe) and a gateway session (Connect) both come through here and
// differ only in linkMode.

// linkMode is what differs between a check's connection and a session's.
type linkMode struct {
	// session: a long-lived connection that wants the server's own stream
	// (notifications, server-initiated requests) and reconnects.
	session bool
	// noStream: a long-lived connection whose caller takes only what the
	// server sends in answer to its requests, so opens no server stream.
	noStream bool
	// raw: messages posted and read by the caller itself (Post), which
	// the SDK never sees, so their notifications are not counted.
	raw bool
}

var (
	checkLink   = linkMode{}
	sessionLink = linkMode{session: true}
	pooledLink  = linkMode{session: true, noStream: true}
	rawLink     = linkMode{session: true, noStream: true, raw: true}
)

// endpoint validates t's URL, or says why it must not be dialled (a message
// and its kind).
func (p *Prober) endpoint(t Target) (*url.URL, contract.ErrorKind, string) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, contract.ErrorUnreachable, "server URL cannot be parsed: check its syntax"
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, contract.ErrorUnreachable, fmt.Sprintf("server URL %q is not an absolute http or https URL", redactURL(t.URL))
	}
	if u.User != nil {
		// The HTTP client would send them as Basic credentials, to any redirect target too.
		return nil, contract.ErrorUnreachable, "server URL must not carry credentials; use a bearer token instead"
	}
	if _, err := p.tlsFor(t.TLS); err != nil {
		return nil, contract.ErrorTLS, err.Error()
	}
	if t.OAuth2 != nil && u.Scheme != "https" && (!p.policy.AllowPrivate || !isLoopback(u.Hostname())) {
		// The access token would cross the network in the clear.
		return nil, contract.ErrorAuth, fmt.Sprintf("server URL %s is not https: an OAuth 2.0 access token is sent only over https (plain http only to loopback, when private targets are allowed)", redactURL(t.URL))
	}
	// A literal address is refused here, before anything is dialled; names
	// are judged on the address they resolve to, when dialled.
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		if err := p.policy.Check(ip); err != nil {
			return nil, contract.ErrorBlocked, err.Error()
		}
	}
	return u, "", ""
}

// httpTransport is the SDK transport to the http or sse endpoint u, on the
// guarded client that carries t's credentials. Its requests end when life
// does.
func (p *Prober) httpTransport(life context.Context, t Target, u *url.URL, wire *rawCapture, mode linkMode) (mcp.Transport, *http.Client, *recorder) {
	hc, rec := p.newHTTPClient(life, u, t, wire, mode)
	if t.Transport == contract.TransportSSE {
		return &mcp.SSEClientTransport{Endpoint: t.URL, HTTPClient: hc, MaxEventSize: maxMessageBytes}, hc, rec
	}
	st := &mcp.StreamableClientTransport{
		Endpoint:     t.URL,
		HTTPClient:   hc,
		MaxEventSize: maxMessageBytes,
	}
	if !mode.session {
		// A probe wants one answer, not reconnects, and no server-initiated stream.
		st.MaxRetries = -1
	}
	st.DisableStandaloneSSE = !mode.session || mode.noStream
	return st, hc, rec
}

// stdioCommand is the child process for t, its command found on t's PATH,
// in a process group of its own with exactly t's environment; when life
// ends the whole group is killed. The error, when t has no command or it
// is not found, is the message of an unreachable server.
func (p *Prober) stdioCommand(life context.Context, t Target) (*exec.Cmd, *headBuffer, error) {
	if t.Command == "" {
		return nil, nil, errors.New("stdio server has no command to run")
	}
	path, err := lookPath(t.Command, t.Env)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(life, path, t.Args...)
	cmd.Args[0] = t.Command
	// Exactly the record's environment: nil would mean the API's own, secrets included.
	cmd.Env = append([]string{}, t.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr := &headBuffer{max: stderrKeep}
	cmd.Stderr = stderr
	// When the time is up, the whole group goes, not just the child.
	cmd.Cancel = func() error { return killGroup(cmd) }
	// A grandchild holding stderr open must not keep Wait from returning;
	// shorter than the terminate delay, so the SDK's own wait sees the exit.
	cmd.WaitDelay = p.terminateDelay / 2
	return cmd, stderr, nil
}

// ConnectError is why Connect could not open a session: Message for a
// person, Kind for machines, as a failed check would say it.
type ConnectError struct {
	Kind    contract.ErrorKind
	Message string
}

// Error is the message.
func (e *ConnectError) Error() string { return e.Message }

// Session is an MCP client session Connect opened. Close ends it and
// releases everything it holds: connections, and for stdio the child's
// whole process group.
type Session struct {
	*mcp.ClientSession
	releaser
	// notices counts the notifications its streams carried; nil for stdio.
	notices *atomic.Uint64
}

// Notices is how many progress and logging notifications (the ones that
// belong to a request) the server has sent the session over HTTP so far,
// as read from the wire: the SDK hands them to their handlers apart from
// the answers that follow them, so a caller that must pass both on in
// order waits until its handlers have taken as many. Zero for stdio, whose
// messages are not counted.
func (s *Session) Notices() uint64 {
	if s.notices == nil {
		return 0
	}
	return s.notices.Load()
}

// Close closes the session and releases what it holds; it is safe to call
// more than once.
func (s *Session) Close() error {
	return s.closeThen(s.ClientSession.Close)
}

// releaser runs release once, after the first close of what embeds it.
type releaser struct {
	once    sync.Once
	release func()
}

// closeThen calls shut, then release if it has not run yet, and returns
// shut's error.
func (r *releaser) closeThen(shut func() error) error {
	err := shut()
	r.once.Do(r.release)
	return err
}

// Connect opens a session to t with client, over the same transport,
// credentials and address guard a check uses, but for long use: the
// server's own event stream is opened (for its notifications and requests)
// and lost streams are retried. ctx bounds the handshake only (and the
// prober's timeout does too); the session lasts until Close, or until the
// server goes away. A failure is a *ConnectError.
func (p *Prober) Connect(ctx context.Context, t Target, client *mcp.Client) (*Session, error) {
	return p.connect(ctx, t, client, sessionLink)
}

// ConnectRequestsOnly is Connect for a session that takes only what the
// server sends within its answers to requests (progress, input requests):
// the server's own event stream is not opened, so an idle session holds no
// request open. The gateway's pooled sessions of stateless callers are such.
func (p *Prober) ConnectRequestsOnly(ctx context.Context, t Target, client *mcp.Client) (*Session, error) {
	return p.connect(ctx, t, client, pooledLink)
}

func (p *Prober) connect(ctx context.Context, t Target, client *mcp.Client, mode linkMode) (*Session, error) {
	// Nothing of ctx but its end reaches the SDK client: a caller that is
	// itself an MCP server's handler carries the SDK's own values (the
	// protocol version of its request), which the client's transport would
	// take for its own.
	life, end := context.WithCancel(context.Background())
	hs, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	fail := func(kind contract.ErrorKind, msg string) (*Session, error) {
		end()
		msg = p.redact(msg, t)
		return nil, &ConnectError{Kind: kind, Message: msg}
	}
	switch t.Transport {
	case contract.TransportHTTP, contract.TransportSSE:
		u, kind, msg := p.endpoint(t)
		if msg != "" {
			return fail(kind, msg)
		}
		wire := &rawCapture{}
		transport, hc, rec := p.httpTransport(life, t, u, wire, mode)
		cs, err := client.Connect(hs, transport, nil)
		if err != nil {
			hc.CloseIdleConnections()
			return fail(describeHTTP(hs, err, rec, t, u, p.timeout))
		}
		return &Session{ClientSession: cs, notices: &wire.notices, releaser: releaser{release: func() { end(); hc.CloseIdleConnections() }}}, nil
	case contract.TransportStdio:
		cmd, stderr, err := p.stdioCommand(life, t)
		if err != nil {
			return fail(contract.ErrorUnreachable, err.Error())
		}
		tr := &stdioTransport{inner: &mcp.CommandTransport{Command: cmd, TerminateDuration: p.terminateDelay}, wire: &rawCapture{}}
		release := func() {
			// The SDK signals only the direct child; its helpers go too.
			started, _ := tr.closeAndWait()
			if started {
				_ = killGroup(cmd)
			}
			end()
		}
		cs, err := client.Connect(hs, tr, nil)
		if err != nil {
			_, waitErr := tr.closeAndWait()
			release()
			return fail(describeStdio(hs, err, waitErr, stderr.String(), t, p.timeout))
		}
		return &Session{ClientSession: cs, releaser: releaser{release: release}}, nil
	default:
		return fail(contract.ErrorUnreachable, fmt.Sprintf("unsupported transport type %q: use http, sse or stdio", t.Transport))
	}
}
