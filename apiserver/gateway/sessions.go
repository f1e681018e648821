package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// Sessions shared by replicas (SPEC §10, "Replicas"). Behind a load
// balancer without sticky sessions, the requests of one stateful session
// (2025-06-18, 2025-11-25) land on any replica. The replica that opens a
// session writes it to PostgreSQL — who opened it, on which endpoint, with
// which initialize params — before it answers initialize. A replica that
// receives a request of a session it does not hold reads that row and
// resumes the session: it replays the client's initialize to its own SDK
// handler, which opens an upstream session of its own with the stored
// params, and then serves the request as if the session had begun there.
// Each replica's copy idles out on its own (MCP_API_GATEWAY_SESSION_IDLE),
// releasing its upstream session and stdio process; the row goes when the
// client deletes the session, or when no replica has seen it for that long.
//
// What a session spread over replicas cannot do: a server-to-client
// request (sampling, elicitation, roots) is answered by the client in a
// POST of its own, which reaches the replica that asked only if the load
// balancer happens to send it there; and notifications that belong to no
// request (list_changed, resource updates, log messages between calls)
// travel on the standalone GET stream, so only a client whose GET stream is
// open on the replica where they arise sees them. Both work as on one
// server when the balancer keeps a session on one replica. A resumed
// session's upstream is a different upstream session: upstream state kept
// per session (subscriptions, a log level) is not carried over.

// SessionStore shares stateful gateway sessions between replicas;
// *store.Store is one.
type SessionStore interface {
	CreateGatewaySession(ctx context.Context, s *store.GatewaySession) error
	TouchGatewaySession(ctx context.Context, id string, idle time.Duration) (store.GatewaySession, error)
	DeleteGatewaySession(ctx context.Context, id string) error
	DeleteIdleGatewaySessions(ctx context.Context, idle time.Duration) (int64, error)
}

// maxTouchEvery bounds how long a session deleted through one replica may
// still be served by another that holds it (as a revoked token, SPEC §10).
const maxTouchEvery = 5 * time.Second

// sessionHeader is the header a stateful session's requests name it in.
const sessionHeader = "Mcp-Session-Id"

// touchEvery is how often a replica serving a session marks its row seen
// (and learns whether it was deleted): a write per session every few
// seconds, never one per request.
func (g *Gateway) touchEvery() time.Duration {
	return min(g.idle/10, maxTouchEvery)
}

// sessions is the stateful side of one MCP endpoint: the SDK's stateful
// handler, and the sessions of it this replica holds, by the id the client
// knows them by.
type sessions struct {
	g          *Gateway
	kind       string // store.GatewayServerEndpoint or store.GatewayAgentEndpoint
	tenant     uuid.UUID
	endpointID string
	sdk        *mcp.StreamableHTTPHandler

	mu   sync.Mutex
	open map[string]*session
	// resuming are the resumptions in progress, so that concurrent
	// requests of one session resume it once.
	resuming map[string]*resumption
}

// session is a stateful session this replica holds.
type session struct {
	// id is the client's Mcp-Session-Id; local is the SDK's id for it on
	// this replica: id for a session opened here, the SDK's own for one
	// resumed here (the SDK picks its session ids itself).
	id, local string
	caller    Caller
	ss        *mcp.ServerSession
	// touched is when the row was last marked seen; guarded by sessions.mu.
	touched time.Time
}

// resumption is a session being resumed on this replica.
type resumption struct {
	id     string
	caller Caller
	done   chan struct{}
	// set before done is closed
	sess *session
	err  error
}

// newSessions is the stateful side of an endpoint of kind at tenant/id,
// whose SDK handler asks getServer for the MCP server of a new session.
func (g *Gateway) newSessions(kind string, tenant uuid.UUID, id string, getServer func(*http.Request) *mcp.Server) *sessions {
	s := &sessions{g: g, kind: kind, tenant: tenant, endpointID: id,
		open: map[string]*session{}, resuming: map[string]*resumption{}}
	s.sdk = mcp.NewStreamableHTTPHandler(s.track(getServer), &mcp.StreamableHTTPOptions{
		SessionTimeout:      g.idle,
		MaxRequestBodyBytes: MaxBodyBytes,
		Logger:              g.log,
	})
	return s
}

// callerKey carries the request's Caller from Server's handler to the
// session layer.
type callerKey struct{}

// resumeKey marks the replayed initialize of a resumption.
type resumeKey struct{}

// withCaller is the handler Server returns: h, told who the request is from.
func withCaller(h http.Handler, caller Caller) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller)))
	})
}

func callerOf(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// same reports whether c and o are one principal: the same agent (through
// any of its tokens), or the same API key, of one tenant.
func (c Caller) same(o Caller) bool {
	if c.Tenant != o.Tenant {
		return false
	}
	if c.AgentID != nil || o.AgentID != nil {
		return c.AgentID != nil && o.AgentID != nil && *c.AgentID == *o.AgentID
	}
	if c.APIKeyID != nil || o.APIKeyID != nil {
		return c.APIKeyID != nil && o.APIKeyID != nil && *c.APIKeyID == *o.APIKeyID
	}
	return true
}

// errNoSession answers a session id this caller has no session of at this
// endpoint: unknown, ended, idle too long, or someone else's — alike, so
// that nothing is learnt of other callers' sessions.
var errNoSession = errors.New("session not found")

// ServeHTTP serves a request of the stateful protocol versions: a new
// session, or one of a session this or another replica holds.
func (s *sessions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(sessionHeader)
	if id == "" {
		s.g.sweep()
		s.sdk.ServeHTTP(w, r) // track registers the session once initialized
		return
	}
	sess, err := s.find(r, id)
	switch {
	case errors.Is(err, errNoSession):
		http.Error(w, "session not found: start a new MCP session (initialize without "+sessionHeader+")", http.StatusNotFound)
		return
	case errors.Is(err, store.ErrUnavailable):
		http.Error(w, "the gateway cannot look up the MCP session: its database is unavailable; retry shortly", http.StatusServiceUnavailable)
		return
	case err != nil:
		http.Error(w, "the gateway cannot continue the MCP session on this replica: "+err.Error(), http.StatusBadGateway)
		return
	}
	if r.Method == http.MethodDelete && s.g.shared != nil {
		if err := s.g.shared.DeleteGatewaySession(r.Context(), id); err != nil {
			s.g.log.WarnContext(r.Context(), "gateway: cannot delete the shared MCP session", "error", err)
			http.Error(w, "the gateway cannot end the MCP session: its database is unavailable; retry shortly", http.StatusServiceUnavailable)
			return
		}
	}
	if sess.local != id {
		r = r.Clone(r.Context())
		r.Header.Set(sessionHeader, sess.local)
	}
	s.sdk.ServeHTTP(w, r)
}

// find is the caller's session id at this endpoint on this replica,
// resumed from the shared row when this replica does not hold it yet.
func (s *sessions) find(r *http.Request, id string) (*session, error) {
	caller := callerOf(r.Context())
	s.mu.Lock()
	sess := s.open[id]
	s.mu.Unlock()
	if sess == nil {
		var err error
		if sess, err = s.resume(r, id); err != nil {
			return nil, err
		}
	}
	if !sess.caller.same(caller) {
		return nil, errNoSession
	}
	return sess, s.touch(r.Context(), sess)
}

// touch marks the shared row seen, at most every touchEvery; a row that
// is gone (deleted through another replica, or swept) ends the session
// here too. While the database is down the session goes on here.
func (s *sessions) touch(ctx context.Context, sess *session) error {
	if s.g.shared == nil {
		return nil
	}
	now := time.Now()
	s.mu.Lock()
	due := now.Sub(sess.touched) >= s.g.touchEvery()
	if due {
		sess.touched = now // one request does it, the others go on
	}
	s.mu.Unlock()
	if !due {
		return nil
	}
	_, err := s.g.shared.TouchGatewaySession(ctx, sess.id, s.g.idle)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.forget(sess)
		_ = sess.ss.Close()
		return errNoSession
	case err != nil:
		s.g.log.WarnContext(ctx, "gateway: cannot mark the shared MCP session seen; it goes on on this replica", "error", err)
	}
	return nil
}

func (s *sessions) forget(sess *session) {
	s.mu.Lock()
	if s.open[sess.id] == sess {
		delete(s.open, sess.id)
	}
	s.mu.Unlock()
}

// resume continues on this replica a session another opened, once however
// many requests of it arrive together.
func (s *sessions) resume(r *http.Request, id string) (*session, error) {
	if s.g.shared == nil {
		return nil, errNoSession
	}
	s.mu.Lock()
	if sess := s.open[id]; sess != nil {
		s.mu.Unlock()
		return sess, nil
	}
	if res := s.resuming[id]; res != nil {
		s.mu.Unlock()
		select {
		case <-res.done:
			return res.sess, res.err
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	res := &resumption{id: id, done: make(chan struct{})}
	s.resuming[id] = res
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.resuming, id)
		s.mu.Unlock()
		close(res.done)
	}()
	res.sess, res.err = s.replay(r, res)
	return res.sess, res.err
}

// replay reads the session's row and replays its initialize and
// initialized to the SDK handler, as the client sent them to the replica
// that opened it; track registers the session it creates under the
// client's id.
func (s *sessions) replay(r *http.Request, res *resumption) (*session, error) {
	ctx := r.Context()
	row, err := s.g.shared.TouchGatewaySession(ctx, res.id, s.g.idle)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	if row.TenantID != s.tenant || row.EndpointKind != s.kind || row.EndpointID != s.endpointID {
		return nil, errNoSession
	}
	res.caller = Caller{Tenant: row.TenantID, APIKeyID: row.APIKeyID, AgentID: row.AgentID, TokenID: row.TokenID}
	if !res.caller.same(callerOf(ctx)) {
		return nil, errNoSession
	}
	var ip mcp.InitializeParams
	if err := json.Unmarshal(row.InitializeParams, &ip); err != nil {
		return nil, fmt.Errorf("its stored initialize params are unreadable (%v); start a new MCP session", err)
	}
	initialize := append(append([]byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":`), row.InitializeParams...), '}')
	rctx := context.WithValue(ctx, resumeKey{}, res)
	rec := newRecorder()
	s.sdk.ServeHTTP(rec, replayRequest(r.WithContext(rctx), initialize, ""))
	s.mu.Lock()
	sess := s.open[res.id]
	s.mu.Unlock()
	if sess == nil {
		if res.err == nil {
			res.err = fmt.Errorf("the replayed initialize was answered %d %s", rec.status, bytes.TrimSpace(rec.body.Bytes()))
		}
		return nil, res.err
	}
	initialized := []byte(`{"jsonrpc":"2.0","method":"notifications/initialized","params":{}}`)
	rec = newRecorder()
	req := replayRequest(r, initialized, sess.local)
	req.Header.Set("Mcp-Protocol-Version", sess.ss.InitializeParams().ProtocolVersion)
	s.sdk.ServeHTTP(rec, req)
	if rec.status != http.StatusAccepted && rec.status != http.StatusOK {
		s.forget(sess)
		_ = sess.ss.Close()
		return nil, fmt.Errorf("the replayed notifications/initialized was answered %d %s", rec.status, bytes.TrimSpace(rec.body.Bytes()))
	}
	s.g.log.DebugContext(ctx, "gateway: resumed an MCP session opened on another replica", "endpoint", s.kind, "id", s.endpointID, "protocolVersion", ip.ProtocolVersion)
	return sess, nil
}

// replayRequest is a POST of body to the endpoint r was sent to, with r's
// context (the caller, the connection's addresses) and only the headers the
// protocol needs.
func replayRequest(r *http.Request, body []byte, sessionID string) *http.Request {
	req := r.Clone(r.Context())
	req.Method = http.MethodPost
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header = http.Header{}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sessionID != "" {
		req.Header.Set(sessionHeader, sessionID)
	}
	return req
}

// recorder is the ResponseWriter of a replayed request, whose answer only
// the gateway reads.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (w *recorder) Header() http.Header { return w.header }
func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len() < 64<<10 {
		w.body.Write(p)
	}
	return len(p), nil
}
func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *recorder) Flush() {}

// track wraps the SDK handler's getServer: the server of a new session
// registers the session once its initialize succeeded — in the shared
// store first, so that the client cannot reach another replica before it
// is there.
func (s *sessions) track(getServer func(*http.Request) *mcp.Server) func(*http.Request) *mcp.Server {
	return func(r *http.Request) *mcp.Server {
		srv := getServer(r)
		if srv == nil || r.Header.Get(sessionHeader) != "" {
			return srv
		}
		caller := callerOf(r.Context())
		res, _ := r.Context().Value(resumeKey{}).(*resumption)
		srv.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
			return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
				result, err := next(ctx, method, req)
				if method != "initialize" {
					return result, err
				}
				if err != nil {
					if res != nil {
						res.err = err
					}
					return result, err
				}
				ss, _ := req.GetSession().(*mcp.ServerSession)
				if ss == nil || ss.ID() == "" {
					return result, nil
				}
				if err := s.register(ctx, ss, caller, res); err != nil {
					go func() { _ = ss.Close() }()
					return nil, err
				}
				return result, nil
			}
		})
		return srv
	}
}

// register records a session that has just been initialized on this
// replica: opened here (written to the shared store), or resumed here.
func (s *sessions) register(ctx context.Context, ss *mcp.ServerSession, caller Caller, res *resumption) error {
	sess := &session{id: ss.ID(), local: ss.ID(), caller: caller, ss: ss, touched: time.Now()}
	if res != nil {
		sess.id, sess.caller = res.id, res.caller
	} else if s.g.shared != nil {
		params, err := json.Marshal(ss.InitializeParams())
		if err != nil {
			return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "the gateway cannot keep these initialize params: " + err.Error()}
		}
		row := store.GatewaySession{ID: sess.id, TenantID: s.tenant, EndpointKind: s.kind, EndpointID: s.endpointID,
			APIKeyID: caller.APIKeyID, AgentID: caller.AgentID, TokenID: caller.TokenID, InitializeParams: params}
		if err := s.g.shared.CreateGatewaySession(context.WithoutCancel(ctx), &row); err != nil {
			s.g.log.WarnContext(ctx, "gateway: cannot share the new MCP session with the other replicas", "error", err)
			return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the gateway cannot record the MCP session (its database is unavailable); retry initialize shortly"}
		}
	}
	s.mu.Lock()
	s.open[sess.id] = sess
	s.mu.Unlock()
	s.g.endings.onEnd(ss, func() { s.forget(sess) })
	return nil
}

// sweep deletes the shared sessions no replica has seen for the idle
// time, at most every touchEvery, in the background: each replica's own
// copies idle out by themselves, the rows only take room.
func (g *Gateway) sweep() {
	if g.shared == nil {
		return
	}
	g.sweepMu.Lock()
	due := time.Since(g.swept) >= g.touchEvery()
	if due {
		g.swept = time.Now()
	}
	g.sweepMu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := g.shared.DeleteIdleGatewaySessions(ctx, g.idle); err != nil {
			g.log.WarnContext(ctx, "gateway: cannot delete idle shared MCP sessions", "error", err)
		}
	}()
}
