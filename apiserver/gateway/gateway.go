// Package gateway serves registered MCP servers to agents: /mcp/servers/{id}
// is one MCP endpoint (Streamable HTTP, at 2025-06-18, 2025-11-25 and the
// stateless 2026-07-28, whatever the upstream speaks) in front of a server
// record with connectionType proxy. The caller never holds the record's
// credentials: each downstream session gets an upstream session of its own,
// opened through the prober's connection builder (transport, stored
// credentials, the outbound address guard), and everything the two sides
// say to each other is passed through — requests one way, notifications and
// server-initiated requests the other, to the downstream session that
// caused them and no other.
//
// /mcp/agents/{id} (agent.go) is one MCP endpoint in front of all the
// records assigned to an agent, each an upstream session of its own (a leg)
// whose tools and prompts are named <prefix>__<name>.
//
// The HTTP layer authenticates the caller and resolves the record with
// Server, the agent with Agent; this package knows nothing of Gin or of API
// keys.
package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/reqid"
)

// Defaults and limits of the gateway.
const (
	// DefaultSessionIdle is how long a downstream session may stay idle
	// before it is closed and its upstream session released
	// (MCP_API_GATEWAY_SESSION_IDLE).
	DefaultSessionIdle = 10 * time.Minute
	// DefaultTimeout bounds one call forwarded upstream (MCP_API_GATEWAY_TIMEOUT).
	DefaultTimeout = 60 * time.Second
	// MaxBodyBytes is the largest request body the gateway reads; larger is a 413.
	MaxBodyBytes = 4 << 20
	// SessionIdleEnv and TimeoutEnv name the variables of the two durations.
	SessionIdleEnv = "MCP_API_GATEWAY_SESSION_IDLE"
	TimeoutEnv     = "MCP_API_GATEWAY_TIMEOUT"
)

// statelessVersion is the first protocol version served without sessions;
// versions are dates, so they order as strings.
const statelessVersion = "2026-07-28"

// DirectError reports a record that is not served through the gateway.
type DirectError struct{ ID string }

// Error says what the record is and how to change that.
func (e *DirectError) Error() string {
	return fmt.Sprintf("MCP server %s is direct: agents reach it at its own url; set connectionType to proxy to serve it through the gateway", e.ID)
}

// Caller is who a gateway request is from, as the HTTP layer authenticated
// it: a tenant API key, or an agent token (AgentID and TokenID). Audit
// events name it; sessions never pass from one caller to another.
type Caller struct {
	Tenant   uuid.UUID
	APIKeyID *uuid.UUID
	AgentID  *uuid.UUID
	TokenID  *uuid.UUID
}

// Auditor records what the gateway forwarded; *store.AuditWriter is one.
// Record returns once ev is durable, so that a call whose reply was sent is
// never missing from the log; it groups concurrent events into one write.
type Auditor interface {
	Record(ctx context.Context, ev store.AuditEvent) error
}

// Agents reads agents and connection records, which agents are assigned
// besides servers; *store.Store is one.
type Agents interface {
	GetAgent(ctx context.Context, tenantID, id uuid.UUID) (store.Agent, error)
	GetConnection(ctx context.Context, tenantID, id uuid.UUID) (store.Connection, error)
}

// ConnectionTargets says how to reach a connection record with its
// credentials; *health.ConnectionChecker is one.
type ConnectionTargets interface {
	ConnectionTarget(ctx context.Context, row store.Connection) (probe.Target, error)
}

// Servers reads server records; *store.Store is one.
type Servers interface {
	GetServer(ctx context.Context, tenantID uuid.UUID, id string) (store.Server, error)
}

// Targets says how to reach a server record with its credentials, as its
// checks do; *health.ServerChecker is one. A *probe.ConnectError says why it
// must not be reached.
type Targets interface {
	ServerTarget(ctx context.Context, row store.Server) (probe.Target, error)
}

// Config configures a Gateway. Servers, Targets and Dialer are required.
type Config struct {
	Servers Servers
	Targets Targets
	// Dialer opens upstream sessions: the one place outbound MCP connections are built.
	Dialer *probe.Prober
	// SessionIdle closes downstream sessions idle this long; zero means DefaultSessionIdle.
	SessionIdle time.Duration
	// Timeout bounds each call forwarded upstream; zero means DefaultTimeout.
	Timeout time.Duration
	// Agents and ConnectionTargets serve /mcp/agents/{id}; nil Agents
	// means the gateway serves no agent endpoints.
	Agents            Agents
	ConnectionTargets ConnectionTargets
	// Audit records gateway calls; nil records none.
	Audit Auditor
	// Catalogs reads the approved catalogs of pinned records (pinned.go);
	// nil serves a pinned record no tools.
	Catalogs Catalogs
	// Logger receives the gateway's warnings (and a debug line per audited
	// call), naming the API request that caused them (request_id); nil
	// discards them.
	Logger *slog.Logger
	// Metrics, when set, counts and times the audited calls (observe.go).
	Metrics CallObserver
	// Sessions shares stateful sessions with the other replicas (see
	// sessions.go); nil keeps them in this replica's memory alone.
	Sessions SessionStore
	// StdioMaxProcesses caps the stdio upstream processes running at once;
	// zero means DefaultStdioMaxProcesses.
	StdioMaxProcesses int
}

// Gateway serves proxied MCP servers. It is safe for concurrent use.
type Gateway struct {
	servers     Servers
	targets     Targets
	agents      Agents
	connTargets ConnectionTargets
	audit       Auditor
	dialer      *probe.Prober
	idle        time.Duration
	timeout     time.Duration
	log         *slog.Logger
	metrics     CallObserver
	catalogs    Catalogs
	mu          sync.Mutex
	endpoints   map[endpointKey]*endpoint

	// shared, sweepMu and swept: the sessions shared with other replicas.
	shared  SessionStore
	sweepMu sync.Mutex
	swept   time.Time
	// endings waits for the end of each downstream session.
	endings endings
	// stdio holds a token per stdio upstream process running.
	stdio chan struct{}

	// passMu guards what the pass-through path (passthrough.go) knows of
	// each record: as last read, and the version its upstream last spoke.
	passMu     sync.Mutex
	passRecord map[recordKey]readRecord
	spoken     map[recordKey]spokenVersion
}

// New returns a Gateway configured by cfg.
func New(cfg Config) (*Gateway, error) {
	if cfg.Servers == nil || cfg.Targets == nil || cfg.Dialer == nil {
		return nil, errors.New("gateway: Servers, Targets and Dialer are all required")
	}
	if cfg.StdioMaxProcesses < 0 {
		return nil, fmt.Errorf("gateway: the stdio process cap (%d) must not be negative", cfg.StdioMaxProcesses)
	}
	if cfg.Agents != nil && cfg.ConnectionTargets == nil {
		return nil, errors.New("gateway: Agents needs ConnectionTargets, to reach the connections agents are assigned")
	}
	if cfg.SessionIdle < 0 || cfg.Timeout < 0 {
		return nil, fmt.Errorf("gateway: session idle (%s) and timeout (%s) must not be negative", cfg.SessionIdle, cfg.Timeout)
	}
	g := &Gateway{servers: cfg.Servers, targets: cfg.Targets, agents: cfg.Agents, connTargets: cfg.ConnectionTargets,
		audit: cfg.Audit, dialer: cfg.Dialer,
		idle: cfg.SessionIdle, timeout: cfg.Timeout, log: reqid.Logger(cfg.Logger), metrics: cfg.Metrics, catalogs: cfg.Catalogs, endpoints: map[endpointKey]*endpoint{},
		shared: cfg.Sessions, stdio: make(chan struct{}, cmp.Or(cfg.StdioMaxProcesses, DefaultStdioMaxProcesses))}
	if g.idle == 0 {
		g.idle = DefaultSessionIdle
	}
	if g.timeout == 0 {
		g.timeout = DefaultTimeout
	}
	return g, nil
}

// endpointKey names one served record or agent; sessions never cross
// endpoints or tenants.
type endpointKey struct {
	tenant uuid.UUID
	id     string
	agent  bool
}

// endpoint is the MCP endpoint of one server record or one agent: its own
// session table (one SDK handler per generation), and the record or agent
// as last read, whose legs new sessions open.
type endpoint struct {
	g         *Gateway
	key       endpointKey
	stateful  *sessions
	stateless http.Handler
	// versions answers the SDK's per-request version check for requests
	// of an existing session, which need no server of their own.
	versions *mcp.Server

	// agentID is set for the endpoint of an agent.
	agentID *uuid.UUID

	mu    sync.Mutex
	row   store.Server
	agent store.Agent
	// readAt is when row or agent was read.
	readAt time.Time
	// pool holds the pooled proxies of stateless requests (stateless.go);
	// sweepPool idles them out.
	pool      map[string]*pooled
	sweepPool *time.Timer
	// hello is the upstream's handshake as last read, at helloAt, on the
	// record of helloVersion: what describes new sessions (lastHello).
	hello        *mcp.InitializeResult
	helloVersion time.Time
	helloAt      time.Time
	// legs route an agent's calls on the pass-through path, made on the
	// agent's version legsOf (passLegs).
	legs   []*leg
	legsOf time.Time
}

// Server resolves the tenant's server id to its MCP endpoint; a
// *DirectError or the store's error (store.ErrNotFound, ...) when there is
// none to serve.
func (g *Gateway) Server(ctx context.Context, caller Caller, id string) (http.Handler, error) {
	tenant := caller.Tenant
	if ep := g.fresh(endpointKey{tenant: tenant, id: id}); ep != nil {
		return withCaller(ep, caller), nil
	}
	row, err := g.servers.GetServer(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if row.ConnectionType != string(contract.ConnectionProxy) {
		return nil, &DirectError{ID: row.ID}
	}
	ep := g.endpoint(endpointKey{tenant: tenant, id: id}, nil)
	ep.mu.Lock()
	ep.row, ep.readAt = row, time.Now()
	ep.mu.Unlock()
	return withCaller(ep, caller), nil
}

// recordTTL is how long an endpoint is served on its record (or agent) as
// last read before the next request reads it again: a read per request
// would cost a database round trip per call, and a PATCH or DELETE of the
// record reaches the gateway within this bound.
const recordTTL = time.Second

// fresh is the endpoint of key if its record was read less than recordTTL
// ago (and so exists and is served), else nil.
func (g *Gateway) fresh(key endpointKey) *endpoint {
	g.mu.Lock()
	ep := g.endpoints[key]
	g.mu.Unlock()
	if ep == nil {
		return nil
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if time.Since(ep.readAt) < recordTTL {
		return ep
	}
	return nil
}

// endpoint is the endpoint of key, made on first use.
func (g *Gateway) endpoint(key endpointKey, agent *uuid.UUID) *endpoint {
	g.mu.Lock()
	defer g.mu.Unlock()
	ep := g.endpoints[key]
	if ep == nil {
		ep = g.newEndpoint(key)
		ep.agentID = agent
		g.endpoints[key] = ep
	}
	return ep
}

func (g *Gateway) newEndpoint(key endpointKey) *endpoint {
	ep := &endpoint{g: g, key: key, versions: mcp.NewServer(gatewayInfo, nil)}
	kind := store.GatewayServerEndpoint
	if key.agent {
		kind = store.GatewayAgentEndpoint
	}
	ep.stateful = g.newSessions(kind, key.tenant, key.id, ep.serverForSession)
	ep.stateless = ep.newStatelessHandler()
	return ep
}

// gatewayInfo is how the gateway introduces itself where the upstream's
// own serverInfo is not passed on.
var gatewayInfo = &mcp.Implementation{Name: "mcpconn-gateway", Version: "1.0.0"}

// ServeHTTP serves one request of the endpoint. Clients of 2026-07-28 and
// later say so in Mcp-Protocol-Version and are served statelessly; older
// ones get sessions.
func (ep *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > MaxBodyBytes {
		http.Error(w, fmt.Sprintf("request body exceeds %d bytes", MaxBodyBytes), http.StatusRequestEntityTooLarge)
		return
	}
	if v := r.Header.Get("Mcp-Protocol-Version"); v >= statelessVersion {
		if ep.passThrough(w, r) {
			return
		}
		ep.stateless.ServeHTTP(w, r)
		return
	}
	ep.stateful.ServeHTTP(w, r)
}

// serverForSession is the stateful SDK handler's getServer: a fresh MCP
// server, and so a fresh proxy session, for each downstream session. The
// SDK asks on every request; one that continues a session is only checked
// for its version.
func (ep *endpoint) serverForSession(r *http.Request) *mcp.Server {
	if r.Header.Get("Mcp-Session-Id") != "" {
		return ep.versions
	}
	return newProxy(ep, callerOf(r.Context()), false).server
}

// record is the endpoint's record as last read.
func (ep *endpoint) record() store.Server {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return ep.row
}
