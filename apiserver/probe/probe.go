// Package probe checks the health of an MCP server by speaking MCP to it with
// the official Go SDK: the handshake (server/discover at 2026-07-28, or
// initialize), a ping where the negotiated version still has one, the
// listings the server advertises (tools/list, prompts/list, resources/list,
// every page, within limits), then close.
//
// A check never fails with a Go error: every outcome is a Result whose Err
// says, for a person, what went wrong and what to change, and whose
// ErrorKind says it for machines.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/netguard"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultTimeout bounds a whole check when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// DefaultStdioTerminateDelay is how long a stdio server gets to exit after
// its stdin closes, and again after SIGTERM, before its process group is killed.
const DefaultStdioTerminateDelay = time.Second

// noPingVersion is the first protocol version without ping; versions are
// dates, so they order as strings (the SDK compares them the same way).
const noPingVersion = "2026-07-28"

// clientInfo is how the prober introduces itself to MCP servers.
var clientInfo = &mcp.Implementation{Name: "mcpconn-health-probe", Version: "1.0.0"}

// Target is what to check and how to reach it.
type Target struct {
	// Transport selects Streamable HTTP ("http"), legacy HTTP+SSE ("sse") or a child process ("stdio").
	Transport contract.TransportType
	// URL is the MCP endpoint for http and sse.
	URL string
	// BearerToken, when set, is sent as "Authorization: Bearer <token>" to
	// the endpoint's origin (never to a different host a redirect points at).
	BearerToken string
	// Headers are extra HTTP headers sent with every request to the
	// endpoint's origin (never to a different host a redirect points at).
	Headers map[string]string
	// OAuth2, when set, replaces BearerToken: an access token is fetched
	// with the client credentials grant and sent as a bearer token.
	OAuth2 *OAuth2
	// TLS holds a private CA and a client certificate for the endpoint. A
	// CA bundle replaces the system's roots for the endpoint; the token
	// endpoint and discovery trust both (see tlsconf.go).
	TLS *TLS
	// Key identifies the record the target belongs to ("conn:<id>",
	// "server:<id>"), so that what is cached for it (OAuth 2.0 access
	// tokens) is kept per record and per replica.
	Key string
	// Command and Args are run directly, without a shell, for stdio.
	Command string
	Args    []string
	// Env is the stdio child's entire environment. Command is looked up in
	// its PATH, or in the API's own PATH when Env sets none.
	Env []string
}

// OAuth2 is a target's OAuth 2.0 client credentials (RFC 6749 §4.4).
type OAuth2 struct {
	// TokenURL is "" when the token endpoint is to be discovered: the MCP
	// server's 401 WWW-Authenticate resource_metadata -> RFC 9728 protected
	// resource metadata -> RFC 8414 authorization server metadata.
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scopes       []string
	Audience     string
	// Resource is the RFC 8707 resource indicator.
	Resource string
	// AuthMethod is contract.ClientSecretBasic or contract.ClientSecretPost.
	AuthMethod string
}

// TLS is a target's PEM-encoded private CA bundle and client certificate.
type TLS struct {
	CABundle          string
	ClientCertificate string
	ClientKey         string
}

// Result is the outcome of one check.
type Result struct {
	// OK reports that the handshake, ping (where it exists) and every
	// advertised listing succeeded.
	OK              bool
	ProtocolVersion string
	ServerName      string
	ServerVersion   string
	// Instructions is nil when the server returned none.
	Instructions *string
	Capabilities contract.Capabilities
	// Listing is what the server offers, as it sent it; only on a passing check.
	Listing Listing
	// Err is a human-readable reason when OK is false; it never contains a
	// secret of the target (bearer token, header values, client secret, TLS
	// client key) nor its OAuth 2.0 access token.
	Err string
	// ErrorKind classifies the failure when OK is false; "" when OK.
	ErrorKind contract.ErrorKind
	Duration  time.Duration
}

// Options configures a Prober.
type Options struct {
	// Timeout bounds a whole check, close included; zero means DefaultTimeout.
	Timeout time.Duration
	// AllowPrivate lets checks reach loopback and private networks
	// (MCP_API_ALLOW_PRIVATE_TARGETS). Link-local and metadata addresses stay blocked.
	AllowPrivate bool
	// StdioTerminateDelay is the grace a stdio child gets to exit on its own;
	// zero means DefaultStdioTerminateDelay.
	StdioTerminateDelay time.Duration
}

// Prober runs health checks. It is safe for concurrent use.
type Prober struct {
	timeout        time.Duration
	policy         netguard.Policy
	terminateDelay time.Duration
	// sessions is the one transport of every session Connect opens: their
	// requests share its pooled connections (each session's own event
	// stream still holds one), rather than each session keeping its own.
	sessions     *http.Transport
	sessionsOnce sync.Once
	// tlsConfigs are the parsed TLS settings of targets, and tlsSessions
	// the session transports of each, by the settings' hash.
	tlsMu       sync.Mutex
	tlsConfigs  map[string]*tlsSettings
	tlsSessions map[string]*http.Transport
	// tokens are the OAuth 2.0 access tokens of targets, by record.
	tokens tokenCache
}

// New returns a Prober configured by opts.
func New(opts Options) *Prober {
	p := &Prober{
		timeout:        opts.Timeout,
		policy:         netguard.Policy{AllowPrivate: opts.AllowPrivate},
		terminateDelay: opts.StdioTerminateDelay,
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if p.terminateDelay <= 0 {
		p.terminateDelay = DefaultStdioTerminateDelay
	}
	return p
}

// Timeout is the bound on one check.
func (p *Prober) Timeout() time.Duration { return p.timeout }

// Probe checks t and reports the outcome; it returns within the prober's
// timeout (or sooner if ctx ends) with every connection closed and every
// child process gone.
func (p *Prober) Probe(ctx context.Context, t Target) Result {
	start := time.Now()
	// The caller's own deadline may be the tighter one; messages name the real limit.
	limit := p.timeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < limit {
		limit = max(time.Until(d).Round(time.Millisecond), 0)
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()

	var res Result
	switch t.Transport {
	case contract.TransportHTTP, contract.TransportSSE:
		res = p.probeHTTP(ctx, t, limit)
	case contract.TransportStdio:
		res = p.probeStdio(ctx, t, limit)
	default:
		res = failed(contract.ErrorUnreachable, fmt.Sprintf("unsupported transport type %q: use http, sse or stdio", t.Transport))
	}
	// Belt and braces: a server may echo our request back in an error body.
	res.Err = p.redact(res.Err, t)
	res.Duration = time.Since(start)
	return res
}

func failed(kind contract.ErrorKind, msg string) Result { return Result{Err: msg, ErrorKind: kind} }

// probeHTTP checks a Streamable HTTP or SSE endpoint.
func (p *Prober) probeHTTP(ctx context.Context, t Target, limit time.Duration) Result {
	u, kind, msg := p.endpoint(t)
	if msg != "" {
		return failed(kind, msg)
	}
	wire := &rawCapture{}
	transport, hc, rec := p.httpTransport(ctx, t, u, wire, checkLink)
	defer hc.CloseIdleConnections()
	res, err := p.check(ctx, transport, wire)
	if err != nil {
		return failed(describeHTTP(ctx, err, rec, t, u, limit))
	}
	return res
}

// check connects, pings where the protocol has ping, lists what the server
// advertises, and closes. wire is the raw capture the transport feeds. The
// returned error is the SDK's (or a *pingError or *listingError around
// it), for the caller to describe.
func (p *Prober) check(ctx context.Context, transport mcp.Transport, wire *rawCapture) (Result, error) {
	client := mcp.NewClient(clientInfo, &mcp.ClientOptions{
		// A probe offers nothing back to the server (no roots, sampling, ...).
		Capabilities: &mcp.ClientCapabilities{},
	})
	session, err := client.Connect(ctx, transport, nil)
	if err != nil {
		if wire.overflowed() {
			return Result{}, fmt.Errorf("%w: %v", errTooLarge, err)
		}
		return Result{}, err
	}
	defer session.Close()

	init := session.InitializeResult()
	if init == nil {
		return Result{}, errors.New("the MCP session reported no handshake result")
	}
	res := Result{OK: true, ProtocolVersion: init.ProtocolVersion}
	if init.ServerInfo != nil {
		res.ServerName, res.ServerVersion = init.ServerInfo.Name, init.ServerInfo.Version
	}
	if init.Instructions != "" {
		s := init.Instructions
		res.Instructions = &s
	}
	if c := init.Capabilities; c != nil {
		res.Capabilities = contract.Capabilities{Tools: c.Tools != nil, Resources: c.Resources != nil, Prompts: c.Prompts != nil}
	}
	if init.ProtocolVersion < noPingVersion {
		if err := session.Ping(ctx, nil); err != nil {
			return Result{}, &pingError{err: err}
		}
	}
	listing, err := list(ctx, session, init.Capabilities, wire)
	if err != nil {
		return Result{}, err
	}
	res.Listing = listing
	return res, nil
}

// pingError marks a failure after a successful handshake.
type pingError struct{ err error }

func (e *pingError) Error() string { return "ping failed: " + e.err.Error() }
func (e *pingError) Unwrap() error { return e.err }

// redact removes t's secrets, and its current access token, from msg.
func (p *Prober) redact(msg string, t Target) string {
	if t.OAuth2 != nil {
		return redact(msg, t, p.tokens.entry(t).current())
	}
	return redact(msg, t)
}

// redactURL drops user info and query from a URL for messages: either may hold a secret.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
	return u.String()
}
