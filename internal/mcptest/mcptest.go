// Package mcptest starts real MCP servers, built with the official Go SDK,
// on loopback for tests of code that speaks MCP — plus the broken and hostile
// endpoints a health check has to tell apart from them.
//
// Every server is an httptest server on 127.0.0.1 that is closed by
// t.Cleanup; none needs to be closed by hand.
package mcptest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Protocol versions the two generations of test servers negotiate.
const (
	// ModernVersion is served by stateless Streamable HTTP servers (server/discover, no ping).
	ModernVersion = "2026-07-28"
	// LegacyVersion is the initialize-handshake version the legacy servers are restricted to.
	LegacyVersion = "2025-06-18"
)

// Path is the URL path the MCP servers here answer on; any other path is a 404.
const Path = "/mcp"

// Config describes the MCP server a test wants.
type Config struct {
	// Name and Version are the serverInfo; they default to "mcptest" and "1.0.0".
	Name, Version string
	// Instructions is returned from the handshake when non-empty.
	Instructions string
	// Tools, Resources and Prompts each register one item, so the server
	// advertises that capability.
	Tools, Resources, Prompts bool
	// ProtocolVersions restricts the versions the server accepts
	// (ServerOptions.SupportedProtocolVersions); empty means all the SDK knows.
	ProtocolVersions []string
	// Stateful serves Streamable HTTP with sessions. The SDK serves
	// 2026-07-28 only statelessly, so a stateful server always negotiates
	// an initialize-era version.
	Stateful bool
	// BearerToken, when set, makes every request without
	// "Authorization: Bearer <BearerToken>" fail with 401.
	BearerToken string
	// TLS serves https with httptest's self-signed certificate, which
	// ordinary clients do not trust.
	TLS bool
}

// Request is what a test server saw of one HTTP request.
type Request struct {
	Method        string
	Path          string
	Authorization string
	// RPCMethods are the JSON-RPC methods in the body ("initialize",
	// "server/discover", "ping", ...), in order; empty for non-JSON bodies.
	RPCMethods []string
}

// Server is a running test server.
type Server struct {
	// URL is the endpoint to give a client: the MCP endpoint for MCP servers.
	URL string
	// HTTP is the underlying httptest server.
	HTTP *httptest.Server

	mu   sync.Mutex
	reqs []Request
}

// Requests returns a copy of every request the server has seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Methods returns the JSON-RPC methods the server has received, in order.
func (s *Server) Methods() []string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.RPCMethods...)
	}
	return out
}

// record wraps h so every request is remembered before it is handled.
func (s *Server) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := Request{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization")}
		if r.Body != nil && r.Method == http.MethodPost {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			r.Body = io.NopCloser(bytes.NewReader(body))
			req.RPCMethods = rpcMethods(body)
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// rpcMethods lists the methods of a JSON-RPC message or batch.
func rpcMethods(body []byte) []string {
	type msg struct {
		Method string `json:"method"`
	}
	var one msg
	if json.Unmarshal(body, &one) == nil {
		if one.Method == "" {
			return nil
		}
		return []string{one.Method}
	}
	var batch []msg
	if json.Unmarshal(body, &batch) != nil {
		return nil
	}
	var out []string
	for _, m := range batch {
		if m.Method != "" {
			out = append(out, m.Method)
		}
	}
	return out
}

// start serves h at Path on loopback, recording requests, and closes it at cleanup.
func start(t testing.TB, h http.Handler) *Server {
	t.Helper()
	return startTLS(t, h, false)
}

func startTLS(t testing.TB, h http.Handler, useTLS bool) *Server {
	t.Helper()
	s := &Server{}
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	if useTLS {
		s.HTTP = httptest.NewTLSServer(s.record(mux))
	} else {
		s.HTTP = httptest.NewServer(s.record(mux))
	}
	s.URL = s.HTTP.URL + Path
	t.Cleanup(s.HTTP.Close)
	return s
}

// newSDKServer is an SDK server with cfg's serverInfo (defaultName when cfg
// names none), instructions and protocol versions, that advertises only what
// is registered on it (not the SDK's default logging) and pages its lists
// by pageSize (0: the SDK's default).
func newSDKServer(cfg Config, defaultName string, pageSize int) *mcp.Server {
	name, version := cfg.Name, cfg.Version
	if name == "" {
		name = defaultName
	}
	if version == "" {
		version = "1.0.0"
	}
	return mcp.NewServer(&mcp.Implementation{Name: name, Version: version}, &mcp.ServerOptions{
		Instructions:              cfg.Instructions,
		SupportedProtocolVersions: cfg.ProtocolVersions,
		Capabilities:              &mcp.ServerCapabilities{},
		PageSize:                  pageSize,
	})
}

// NewServer builds the SDK server described by cfg, for tests that serve it
// over a transport of their own.
func NewServer(cfg Config) *mcp.Server {
	srv := newSDKServer(cfg, "mcptest", 0)
	if cfg.Tools {
		mcp.AddTool(srv, &mcp.Tool{Name: "echo", Description: "Returns its input."},
			func(_ context.Context, _ *mcp.CallToolRequest, in struct {
				Text string `json:"text"`
			}) (*mcp.CallToolResult, struct{}, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, struct{}{}, nil
			})
	}
	if cfg.Resources {
		srv.AddResource(&mcp.Resource{URI: "mcptest://readme", Name: "readme", MIMEType: "text/plain"},
			func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "hello"}}}, nil
			})
	}
	if cfg.Prompts {
		srv.AddPrompt(&mcp.Prompt{Name: "greet", Description: "Says hello."},
			func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
				return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "hello"}}}}, nil
			})
	}
	return srv
}

// requireBearer answers 401 to requests without the expected bearer token.
func requireBearer(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mcptest"`)
			http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// StartHTTP serves the MCP server described by cfg over Streamable HTTP at URL.
func StartHTTP(t testing.TB, cfg Config) *Server {
	t.Helper()
	srv := NewServer(cfg)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: !cfg.Stateful})
	return startTLS(t, requireBearer(cfg.BearerToken, h), cfg.TLS)
}

// StartModern serves a stateless Streamable HTTP server that negotiates ModernVersion.
func StartModern(t testing.TB) *Server {
	t.Helper()
	return StartHTTP(t, Config{Name: "mcptest-modern", Version: "2.0.0"})
}

// StartLegacy serves a stateful Streamable HTTP server restricted to LegacyVersion.
func StartLegacy(t testing.TB) *Server {
	t.Helper()
	return StartHTTP(t, Config{Name: "mcptest-legacy", Version: "1.5.0", ProtocolVersions: []string{LegacyVersion}, Stateful: true})
}

// StartSSE serves the MCP server described by cfg over the legacy HTTP+SSE
// transport; URL is the event-stream endpoint. Stateful is ignored.
func StartSSE(t testing.TB, cfg Config) *Server {
	t.Helper()
	srv := NewServer(cfg)
	h := mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	return startTLS(t, requireBearer(cfg.BearerToken, h), cfg.TLS)
}

// StartHung serves an endpoint that reads each request and never answers it.
// Its handlers are released at cleanup, so closing it does not hang.
func StartHung(t testing.TB) *Server {
	t.Helper()
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	s := start(t, h)
	// Cleanups run last-in first-out: release the handlers before Close waits for them.
	t.Cleanup(func() { close(release) })
	return s
}

// ClosedURL returns an http URL on loopback on which nothing listens: a
// server that is down.
func ClosedURL(t testing.TB) string {
	t.Helper()
	return "http://" + ClosedAddr(t)
}

// ClosedAddr returns a loopback host:port on which nothing listens: the
// address of a server that is down, or a free port to start one on.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// StartTCP accepts TCP connections on loopback until the test ends and
// hands each to serve, which may keep it: a server below any protocol,
// such as one that hangs up at once or one that never says a word. The
// listener and every connection are closed at cleanup. It returns the
// address.
func StartTCP(t testing.TB, serve func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			serve(c)
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// StartStatic serves the same response to every request at URL: a stand-in
// for a web page, a JSON API or an error page where an MCP server should be.
func StartStatic(t testing.TB, status int, contentType, body string) *Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
	return start(t, h)
}

// StartHTML serves an ordinary HTML page with status 200 at URL.
func StartHTML(t testing.TB) *Server {
	t.Helper()
	return StartStatic(t, http.StatusOK, "text/html; charset=utf-8",
		"<!doctype html><html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n")
}

// StartRedirect answers every request at URL with a redirect to location
// (307 and 308 keep the method and body, as an MCP POST needs).
func StartRedirect(t testing.TB, location string, code int) *Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, location, code)
	})
	return start(t, h)
}
