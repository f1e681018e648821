package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A 2026-07-28 request carries no session: each is served on a temporary
// SDK session. Opening an upstream session for each of them would cost a
// handshake and a fresh TCP connection per call, so an endpoint keeps
// pooled proxies for its stateless requests instead — one per caller and
// per set of client capabilities (what the upstream session mirrors) —
// whose upstream sessions outlive the requests. Everything an upstream says
// during a call still goes to that call's own stream (proxy.origin).
//
// A pooled proxy is retired, and its upstream sessions closed once the
// calls already on them had time to finish, when it has been idle for the
// session idle time, when the record it was opened on changed, or at the
// latest after poolMaxAge, so that a credential or assignment change of a
// record reaches stateless callers within that bound.

// poolMaxAge bounds how long a pooled proxy serves before it is replaced.
const poolMaxAge = time.Minute

// pooled is one pooled proxy of an endpoint.
type pooled struct {
	p *proxy
	// version is the endpoint's record version it was opened on.
	version time.Time
	opened  time.Time
	// used is when a request last took it, for idling out.
	used time.Time
}

// newSharedServer is the one SDK server of the endpoint's stateless
// requests; its middleware hands each request to the pooled proxy of its
// caller and capabilities.
func (ep *endpoint) newSharedServer() *mcp.Server {
	s := mcp.NewServer(gatewayInfo, &mcp.ServerOptions{Logger: ep.g.log})
	s.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			ss, _ := req.GetSession().(*mcp.ServerSession)
			p := ep.pooledProxy(callerOf(ctx), ss)
			return p.middleware(next)(ctx, method, req)
		}
	})
	return s
}

// middleware is the proxy's receiving middleware for its kind of endpoint.
func (p *proxy) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	if p.agent {
		return traced(p.aggregate(next))
	}
	return traced(p.receive(next))
}

// pooledProxy is the pooled proxy of caller with ss's capabilities, opened
// (or replaced) as needed.
func (ep *endpoint) pooledProxy(caller Caller, ss *mcp.ServerSession) *proxy {
	key := caller.key()
	if ss != nil {
		if ip := ss.InitializeParams(); ip != nil && ip.Capabilities != nil {
			if caps, err := json.Marshal(ip.Capabilities); err == nil {
				key += "|" + string(caps)
			}
		}
	}
	now := time.Now()
	version := ep.version()
	if p := ep.takePooled(key, version, now, nil); p != nil {
		return p
	}
	// newProxy reads the endpoint's record under ep.mu: made unlocked, kept
	// unless another request made one meanwhile (a proxy holds nothing
	// before its first call).
	return ep.takePooled(key, version, now, newProxy(ep, caller, true))
}

// takePooled is the pooled proxy of key, replacing a stale one with made
// (or, with made nil, nil when there is none to use).
func (ep *endpoint) takePooled(key string, version, now time.Time, made *proxy) *proxy {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.pool == nil {
		ep.pool = map[string]*pooled{}
		// The sweep runs as long as the endpoint has pooled proxies.
		ep.sweepPool = time.AfterFunc(ep.g.idle, ep.sweep)
	}
	e := ep.pool[key]
	if e != nil && (!e.version.Equal(version) || now.Sub(e.opened) > poolMaxAge) {
		delete(ep.pool, key)
		ep.retire(e)
		e = nil
	}
	if e == nil {
		if made == nil {
			return nil
		}
		e = &pooled{p: made, version: version, opened: now}
		ep.pool[key] = e
	}
	e.used = now
	return e.p
}

// sweep retires the pooled proxies idle for the session idle time.
func (ep *endpoint) sweep() {
	now := time.Now()
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for key, e := range ep.pool {
		if now.Sub(e.used) >= ep.g.idle {
			delete(ep.pool, key)
			ep.retire(e)
		}
	}
	ep.sweepPool.Reset(ep.g.idle)
}

// retire closes e's upstream sessions once the calls already on them had
// the gateway's timeout to finish; ep.mu is held.
func (ep *endpoint) retire(e *pooled) {
	time.AfterFunc(ep.g.timeout, func() {
		for _, l := range e.p.legs {
			l.close()
		}
	})
}

// version is the version of the endpoint's record as last read: a change
// replaces its pooled proxies.
func (ep *endpoint) version() time.Time {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.agentID != nil {
		return ep.agent.UpdatedAt
	}
	return ep.row.UpdatedAt
}

// key names the caller in the pool: one principal's proxies are never
// another's.
func (c Caller) key() string {
	s := c.Tenant.String()
	for _, id := range []*uuid.UUID{c.APIKeyID, c.AgentID, c.TokenID} {
		s += "|"
		if id != nil {
			s += id.String()
		}
	}
	return s
}

// newStatelessHandler serves the endpoint's 2026-07-28 requests.
func (ep *endpoint) newStatelessHandler() http.Handler {
	shared := ep.newSharedServer()
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return shared }, &mcp.StreamableHTTPOptions{
		Stateless:                    true,
		MaxRequestBodyBytes:          MaxBodyBytes,
		Logger:                       ep.g.log,
		PropagateRequestCancellation: true,
	})
}

// Close releases the upstream sessions of stateless callers (stateful
// sessions end with their downstream sessions, or with the process); the
// gateway still serves afterwards, opening them again as needed.
func (g *Gateway) Close() {
	g.mu.Lock()
	eps := make([]*endpoint, 0, len(g.endpoints))
	for _, ep := range g.endpoints {
		eps = append(eps, ep)
	}
	g.mu.Unlock()
	for _, ep := range eps {
		ep.mu.Lock()
		pool := ep.pool
		ep.pool = nil
		if ep.sweepPool != nil {
			ep.sweepPool.Stop()
		}
		ep.mu.Unlock()
		for _, e := range pool {
			for _, l := range e.p.legs {
				l.close()
			}
		}
	}
}

// helloMaxAge bounds how long an endpoint's last upstream handshake
// describes new sessions before one dials to read it again.
const helloMaxAge = time.Minute

// lastHello is the upstream's handshake as the endpoint's last upstream
// session read it, while the record is unchanged and it is recent; else nil.
func (ep *endpoint) lastHello() *mcp.InitializeResult {
	version := ep.version()
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.hello == nil || !ep.helloVersion.Equal(version) || time.Since(ep.helloAt) > helloMaxAge {
		return nil
	}
	return ep.hello
}

// rememberHello keeps an upstream session's handshake for lastHello.
func (ep *endpoint) rememberHello(h *mcp.InitializeResult) {
	if h == nil {
		return
	}
	version := ep.version()
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.hello, ep.helloVersion, ep.helloAt = h, version, time.Now()
}
