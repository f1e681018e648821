package gateway

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// proxy is one downstream session and the upstream session it opened: the
// MCP server the SDK serves it with, whose receiving middleware forwards
// every request upstream, and the upstream client's handlers, which send
// what the upstream says back to this session only.
//
// An agent endpoint aggregating several records would hold one upstream
// per record and route by name; forward takes the upstream explicitly for
// that reason.
type proxy struct {
	ep     *endpoint
	server *mcp.Server

	// dial serialises opening the upstream.
	dial sync.Mutex

	mu sync.Mutex
	ss *mcp.ServerSession
	up *probe.Session
	// pin is the record's pinned catalog (pinned.go), nil for none.
	pin *pinning
	// calls are the downstream requests in progress, oldest first: what
	// the upstream sends between them belongs to one of them.
	calls []*call
	// gone is set once the downstream session ended.
	gone bool
}

// call is one downstream request in progress.
type call struct {
	ctx   context.Context
	token string // its progress token, "" when it has none
}

func newProxy(ep *endpoint) *proxy {
	p := &proxy{ep: ep}
	p.server = mcp.NewServer(gatewayInfo, &mcp.ServerOptions{
		Logger: ep.g.log,
		// resources/subscribe reaches the SDK (which keeps the
		// subscription, so resource updates reach this session) only once
		// the upstream has taken it.
		SubscribeHandler:   func(context.Context, *mcp.SubscribeRequest) error { return nil },
		UnsubscribeHandler: func(context.Context, *mcp.UnsubscribeRequest) error { return nil },
	})
	p.server.AddReceivingMiddleware(p.receive)
	return p
}

// receive is the server's receiving middleware: the handshake and the
// session's own bookkeeping stay with the SDK, the rest goes upstream.
func (p *proxy) receive(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		ss, _ := req.GetSession().(*mcp.ServerSession)
		switch method {
		case "initialize", "server/discover":
			res, err := next(ctx, method, req)
			if err != nil {
				return res, err
			}
			up, err := p.upstream(ctx, ss)
			if err != nil {
				return nil, err
			}
			describe(res, up.InitializeResult())
			return res, nil
		case "notifications/initialized", "notifications/cancelled", "notifications/progress",
			"notifications/roots/list_changed":
			// Cancellation ends the handler's context, which cancels
			// the upstream call it is waiting for.
			return next(ctx, method, req)
		}
		up, err := p.upstream(ctx, ss)
		if err != nil {
			return nil, err
		}
		done := p.begin(ctx, req.GetParams())
		defer done()
		dctx := ctx // the downstream request's, for the SDK's own handlers
		ctx, cancel := p.ep.g.upstreamContext(ctx)
		defer cancel()
		switch method {
		case "ping":
			if v := up.InitializeResult().ProtocolVersion; v >= statelessVersion {
				return next(dctx, method, req) // the upstream has no ping; we answer
			}
			res, err := next(dctx, method, req)
			if err == nil {
				err = up.Ping(ctx, nil)
			}
			return res, upstreamError(ctx, err)
		case "logging/setLevel":
			// The SDK keeps the level (it filters what is sent down), the
			// upstream gets it too.
			params, ok := req.GetParams().(*mcp.SetLoggingLevelParams) //nolint:staticcheck // deprecated at 2026-07-28, still passed through for older clients
			if !ok {
				return nil, errParams
			}
			if err := up.SetLoggingLevel(ctx, params); err != nil { //nolint:staticcheck // deprecated at 2026-07-28, still passed through for older clients
				return nil, upstreamError(ctx, err)
			}
			return next(dctx, method, req)
		case "resources/subscribe":
			if !subscribable(up) {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "the upstream MCP server does not support resource subscriptions"}
			}
			params, ok := req.GetParams().(*mcp.SubscribeParams)
			if !ok {
				return nil, errParams
			}
			if err := up.Subscribe(ctx, &mcp.SubscribeParams{Meta: forwardMeta(params.Meta), URI: params.URI}); err != nil {
				return nil, upstreamError(ctx, err)
			}
			return next(dctx, method, req)
		case "resources/unsubscribe":
			if !subscribable(up) {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "the upstream MCP server does not support resource subscriptions"}
			}
			params, ok := req.GetParams().(*mcp.UnsubscribeParams)
			if !ok {
				return nil, errParams
			}
			if err := up.Unsubscribe(ctx, &mcp.UnsubscribeParams{Meta: forwardMeta(params.Meta), URI: params.URI}); err != nil {
				return nil, upstreamError(ctx, err)
			}
			return next(dctx, method, req)
		}
		// Pinned catalogs (pinned.go): a refused tool is neither called nor listed.
		pin := p.pinned()
		if params, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok {
			if err := pin.callable(ctx, up, params.Name); err != nil {
				return nil, err
			}
		}
		res, err := forward(ctx, up.ClientSession, method, req.GetParams())
		if lt, ok := res.(*mcp.ListToolsResult); ok && err == nil && pin != nil {
			// A copy: the SDK client may keep lt in its list cache.
			out := *lt
			out.Tools = pin.listed(lt.Tools)
			res = &out
		}
		return res, upstreamError(ctx, err)
	}
}

// pinned is the session's pinning, nil for none.
func (p *proxy) pinned() *pinning {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pin
}

// errParams answers a request whose parameters the SDK did not decode to
// their type (it never happens with the SDK's own method table).
var errParams = &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "invalid params"}

// upstream is the session's upstream session, opened on first use with
// the downstream's capabilities mirrored. Once the downstream session ends
// the upstream is closed; once the upstream ends, so does the downstream.
func (p *proxy) upstream(ctx context.Context, ss *mcp.ServerSession) (*probe.Session, error) {
	p.mu.Lock()
	up, gone := p.up, p.gone
	p.mu.Unlock()
	if up != nil {
		return up, nil
	}
	if gone || ss == nil {
		return nil, errors.New("the MCP session has ended")
	}
	p.dial.Lock()
	defer p.dial.Unlock()
	if p.up != nil {
		return p.up, nil
	}
	g := p.ep.g
	row := p.ep.record()
	target, err := g.targets.ServerTarget(ctx, row)
	if err != nil {
		return nil, unavailable(err)
	}
	pin, err := g.pinningFor(ctx, store.ServerRecords, p.ep.key.tenant, row.ID, row.ApprovedToolsHash)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.pin = pin
	p.mu.Unlock()
	client := mcp.NewClient(clientInfo, p.clientOptions(ss.InitializeParams()))
	client.AddReceivingMiddleware(p.serverRequests)
	up, err = g.connect(ctx, target, client)
	if err != nil {
		g.log.WarnContext(ctx, "gateway: cannot open the upstream MCP session", "server", p.ep.key.id, "tenant", p.ep.key.tenant, "error", err)
		return nil, unavailable(err)
	}
	p.mu.Lock()
	p.ss, p.up = ss, up
	p.mu.Unlock()
	go func() {
		_ = ss.Wait()
		p.mu.Lock()
		p.gone = true
		p.mu.Unlock()
		_ = up.Close()
	}()
	go func() {
		_ = up.Wait()
		_ = ss.Close()
	}()
	return up, nil
}

// clientInfo is how the gateway introduces itself to upstream servers.
var clientInfo = &mcp.Implementation{Name: "mcpconn-gateway", Version: "1.0.0"}

// clientOptions mirror the downstream client: the upstream may ask for
// sampling, elicitation or roots exactly when the downstream offers them,
// and gets the answer from it.
func (p *proxy) clientOptions(ip *mcp.InitializeParams) *mcp.ClientOptions {
	caps := &mcp.ClientCapabilities{}
	version := ""
	if ip != nil {
		version = ip.ProtocolVersion
		if ip.Capabilities != nil {
			*caps = *ip.Capabilities
		}
	}
	opts := &mcp.ClientOptions{
		Logger:                      p.ep.g.log,
		Capabilities:                caps,
		LoggingMessageHandler:       p.logMessage, //nolint:staticcheck // deprecated at 2026-07-28, still passed through for older clients
		ProgressNotificationHandler: p.progress,
		// The pinning forgets its listing before the downstream hears of the change.
		ToolListChangedHandler:     func(context.Context, *mcp.ToolListChangedRequest) { p.pinned().changed(); p.listChanged(toolsChanged) },
		PromptListChangedHandler:   func(context.Context, *mcp.PromptListChangedRequest) { p.listChanged(promptsChanged) },
		ResourceListChangedHandler: func(context.Context, *mcp.ResourceListChangedRequest) { p.listChanged(resourcesChanged) },
		ResourceUpdatedHandler:     p.resourceUpdated,
	}
	if caps.Sampling != nil { //nolint:staticcheck // deprecated at 2026-07-28, still passed through for older clients
		opts.CreateMessageWithToolsHandler = p.createMessage //nolint:staticcheck // deprecated at 2026-07-28, still passed through for older clients
	}
	if caps.Elicitation != nil {
		// elicitation/create requests are answered in serverRequests; the
		// handler answers the input requests of a 2026-07-28 upstream.
		opts.ElicitationHandler = p.elicit
	}
	if version >= statelessVersion {
		// A 2026-07-28 downstream answers input requests itself, in its
		// retry: pass them down rather than fulfil them here.
		opts.MultiRoundTrip = &mcp.MultiRoundTripOptions{Disabled: true}
	}
	return opts
}

// begin records a downstream request in progress until done is called.
func (p *proxy) begin(ctx context.Context, params mcp.Params) (done func()) {
	c := &call{ctx: ctx}
	// Params are pointers, nil for a request that sent none.
	if params != nil && !reflect.ValueOf(params).IsNil() {
		if tok := params.GetMeta()["progressToken"]; tok != nil {
			c.token = fmt.Sprint(tok)
		}
	}
	p.mu.Lock()
	p.calls = append(p.calls, c)
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		if i := slices.Index(p.calls, c); i >= 0 {
			p.calls = slices.Delete(p.calls, i, i+1)
		}
		p.mu.Unlock()
	}
}

// origin is the context of the downstream request something the upstream
// sent belongs to — the one whose progress token it carries, else the
// latest in progress — so that the SDK sends it on that request's stream;
// with none in progress, the session's own stream.
func (p *proxy) origin(token any) (context.Context, *mcp.ServerSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if token != nil {
		key := fmt.Sprint(token)
		for _, c := range p.calls {
			if c.token == key {
				return c.ctx, p.ss
			}
		}
	}
	if n := len(p.calls); n > 0 {
		return p.calls[n-1].ctx, p.ss
	}
	return context.Background(), p.ss
}
