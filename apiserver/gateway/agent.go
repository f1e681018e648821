package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// The agent endpoint (SPEC §10): /mcp/agents/{id} is one MCP server whose
// tools and prompts are those of every record assigned to the agent, named
// <prefix>__<name>, each call routed to that record's upstream session (a
// leg) with the record's own credentials. A leg opens on first use; one
// that cannot be reached makes only its own tools fail.

// NotYoursError refuses an agent token at another agent's endpoint; the
// HTTP layer answers it with 401.
type NotYoursError struct{ Agent uuid.UUID }

// Error says whose endpoint it is and what to use instead.
func (e *NotYoursError) Error() string {
	return fmt.Sprintf("this token belongs to another agent: the endpoint of agent %s takes that agent's own tokens only", e.Agent)
}

// nameSeparator joins an assignment's prefix and an upstream name.
const nameSeparator = "__"

// maxNameLength is the longest tool or prompt name offered to agents;
// longer names are left out (and logged).
const maxNameLength = 128

// Agent resolves the tenant's agent id to its MCP endpoint: a
// *NotYoursError when the caller is another agent, store.ErrNotFound when
// the tenant has no such agent (or the gateway serves no agents), or the
// store's error.
func (g *Gateway) Agent(ctx context.Context, caller Caller, id uuid.UUID) (http.Handler, error) {
	if caller.AgentID != nil && *caller.AgentID != id {
		return nil, &NotYoursError{Agent: id}
	}
	if g.agents == nil {
		return nil, store.ErrNotFound
	}
	key := endpointKey{tenant: caller.Tenant, id: id.String(), agent: true}
	if ep := g.fresh(key); ep != nil {
		return withCaller(ep, caller), nil
	}
	a, err := g.agents.GetAgent(ctx, caller.Tenant, id)
	if err != nil {
		return nil, err
	}
	ep := g.endpoint(key, &id)
	ep.mu.Lock()
	ep.agent, ep.readAt = a, time.Now()
	ep.mu.Unlock()
	return withCaller(ep, caller), nil
}

// agentRecord is the endpoint's agent as last read.
func (ep *endpoint) agentRecord() store.Agent {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return ep.agent
}

// serverRecord is the leg record of a /mcp/servers endpoint: its server as
// last read.
func (ep *endpoint) serverRecord(ctx context.Context) (legRecord, error) {
	return ep.g.serverLeg(ctx, ep.record())
}

func (g *Gateway) serverLeg(ctx context.Context, row store.Server) (legRecord, error) {
	target, err := g.targets.ServerTarget(ctx, row)
	if err != nil {
		return legRecord{}, err
	}
	return legRecord{target: target, kind: store.ServerRecords, approved: row.ApprovedToolsHash, version: row.UpdatedAt}, nil
}

// assignmentLeg is the leg of one of the agent's assignments, whose record
// is read afresh each time the leg opens.
func (ep *endpoint) assignmentLeg(p *proxy, as store.Assignment) *leg {
	g, tenant := ep.g, ep.key.tenant
	l := &leg{p: p, prefix: as.Prefix, allowed: slices.Clone(as.AllowedTools)}
	switch {
	case as.ServerID != nil:
		id := *as.ServerID
		l.kind, l.id = kindServer, id
		l.resolve = func(ctx context.Context) (legRecord, error) {
			row, err := g.servers.GetServer(ctx, tenant, id)
			if err != nil {
				return legRecord{}, fmt.Errorf("MCP server %s: %w", id, err)
			}
			if row.ConnectionType != string(contract.ConnectionProxy) {
				return legRecord{}, &DirectError{ID: id}
			}
			return g.serverLeg(ctx, row)
		}
	case as.ConnectionID != nil:
		id := *as.ConnectionID
		l.kind, l.id = kindConnection, id.String()
		l.resolve = func(ctx context.Context) (legRecord, error) {
			row, err := g.agents.GetConnection(ctx, tenant, id)
			if err != nil {
				return legRecord{}, fmt.Errorf("MCP connection %s: %w", id, err)
			}
			target, err := g.connTargets.ConnectionTarget(ctx, row)
			if err != nil {
				return legRecord{}, err
			}
			return legRecord{target: target, kind: store.ConnectionRecords, approved: row.ApprovedToolsHash, version: row.UpdatedAt}, nil
		}
	default:
		l.resolve = func(context.Context) (legRecord, error) {
			return legRecord{}, errors.New("the assignment names neither a connection nor a server")
		}
	}
	return l
}

// aggregate is the receiving middleware of an agent session.
func (p *proxy) aggregate(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		ss := p.session(req)
		switch method {
		case "initialize", "server/discover":
			return handshake(ctx, next, method, req, func(res mcp.Result) error {
				p.describeAgent(res)
				return nil
			})
		case "ping", "notifications/initialized", "notifications/cancelled", "notifications/progress",
			"notifications/roots/list_changed":
			return next(ctx, method, req)
		}
		done := p.begin(ctx, ss, req.GetParams())
		defer done()
		switch method {
		case "tools/list":
			return p.listTools(ctx, ss), nil
		case "prompts/list":
			return p.listPrompts(ctx, ss), nil
		case "tools/call":
			params, ok := req.GetParams().(*mcp.CallToolParamsRaw)
			if !ok || params == nil || params.Name == "" {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "invalid params: tools/call needs the name of a tool"}
			}
			return p.callTool(ctx, ss, params)
		case "prompts/get":
			params, ok := req.GetParams().(*mcp.GetPromptParams)
			if !ok || params == nil || params.Name == "" {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "invalid params: prompts/get needs the name of a prompt"}
			}
			return p.getPrompt(ctx, ss, params)
		}
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound,
			Message: fmt.Sprintf("method %q is not served at agent endpoints, which offer tools and prompts", method)}
	}
}

// describeAgent makes the handshake's answer the agent's: tools and
// prompts of its assignments, and its composed instructions.
func (p *proxy) describeAgent(res mcp.Result) {
	caps := &mcp.ServerCapabilities{
		Tools:   &mcp.ToolCapabilities{ListChanged: true},
		Prompts: &mcp.PromptCapabilities{ListChanged: true},
	}
	var instructions string
	if p.instructions != nil {
		instructions = *p.instructions
	}
	switch r := res.(type) {
	case *mcp.InitializeResult:
		r.Capabilities, r.Instructions = caps, instructions
	case *mcp.DiscoverResult:
		r.Capabilities, r.Instructions = caps, instructions
	}
}

// agentListing is the cache hint of an agent's listings (2026-07-28 requires
// one): its own, the agent's assignments and pinned catalogs applied, so
// private, and not to be reused — upstreams come and go.
var agentListing = mcp.Cacheable{TTLMs: 0, CacheScope: "private"}

// maxPages bounds the pages read of one upstream listing, against an
// upstream whose cursors never end.
const maxPages = 100

// eachLeg runs fn for every leg at once (a slow upstream does not hold up
// the others' part of a listing) and returns what each returned, in order.
func eachLeg[T any](p *proxy, fn func(*leg) ([]T, error), what string) [][]T {
	out := make([][]T, len(p.legs))
	var wg sync.WaitGroup
	for i, l := range p.legs {
		wg.Go(func() {
			items, err := fn(l)
			if err != nil {
				p.ep.g.log.Warn("gateway: leaving out the "+what+" of an upstream MCP server that cannot be listed", l.attrs("error", err)...)
				return
			}
			out[i] = items
		})
	}
	wg.Wait()
	return out
}

// named is the agent's name of an upstream name, or "" when it is too long.
func (l *leg) named(name, what string) string {
	full := l.prefix + nameSeparator + name
	if len(full) > maxNameLength {
		l.p.ep.g.log.Warn(fmt.Sprintf("gateway: leaving out a %s whose name with its prefix is over %d characters", what, maxNameLength),
			l.attrs("name", full)...)
		return ""
	}
	return full
}

// allPages is every item of an upstream listing, page by page (page reads
// the one at cursor and returns the next cursor), at most maxPages of them,
// all within the gateway's timeout for one call.
func allPages[T any](ctx context.Context, g *Gateway, page func(context.Context, string) ([]T, string, error)) ([]T, error) {
	uctx, cancel := g.upstreamContext(ctx)
	defer cancel()
	var items []T
	cursor := ""
	for range maxPages {
		got, next, err := page(uctx, cursor)
		if err != nil {
			return nil, upstreamError(uctx, err)
		}
		items = append(items, got...)
		if next == "" {
			break
		}
		cursor = next
	}
	return items, nil
}

func (p *proxy) listTools(ctx context.Context, ss *mcp.ServerSession) *mcp.ListToolsResult {
	lists := eachLeg(p, func(l *leg) ([]*mcp.Tool, error) {
		up, pin, err := l.upstream(ctx, ss)
		if err != nil {
			return nil, err
		}
		tools, err := allPages(ctx, p.ep.g, func(ctx context.Context, cursor string) ([]*mcp.Tool, string, error) {
			res, err := up.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
			if err != nil {
				return nil, "", err
			}
			return res.Tools, res.NextCursor, nil
		})
		return pin.listed(tools), err
	}, "tools")
	allowed := func(l *leg, t *mcp.Tool) bool { return l.allowed == nil || slices.Contains(l.allowed, t.Name) }
	return &mcp.ListToolsResult{Tools: prefixed(p.legs, lists, "tool", func(t *mcp.Tool) *string { return &t.Name }, allowed),
		Cacheable: agentListing}
}

// prefixed is every leg's items that keep admits, as copies named
// <prefix>__<name> (name points at an item's name), leaving out those whose
// names would be too long.
func prefixed[T any](legs []*leg, lists [][]*T, what string, name func(*T) *string, keep func(*leg, *T) bool) []*T {
	out := []*T{}
	for i, l := range legs {
		for _, it := range lists[i] {
			if it == nil || !keep(l, it) {
				continue
			}
			if full := l.named(*name(it), what); full != "" {
				c := *it
				*name(&c) = full
				out = append(out, &c)
			}
		}
	}
	return out
}

func (p *proxy) listPrompts(ctx context.Context, ss *mcp.ServerSession) *mcp.ListPromptsResult {
	lists := eachLeg(p, func(l *leg) ([]*mcp.Prompt, error) {
		up, _, err := l.upstream(ctx, ss)
		if err != nil {
			return nil, err
		}
		if c := up.InitializeResult().Capabilities; c == nil || c.Prompts == nil {
			return nil, nil
		}
		return allPages(ctx, p.ep.g, func(ctx context.Context, cursor string) ([]*mcp.Prompt, string, error) {
			res, err := up.ListPrompts(ctx, &mcp.ListPromptsParams{Cursor: cursor})
			if err != nil {
				return nil, "", err
			}
			return res.Prompts, res.NextCursor, nil
		})
	}, "prompts")
	all := func(*leg, *mcp.Prompt) bool { return true }
	return &mcp.ListPromptsResult{Prompts: prefixed(p.legs, lists, "prompt", func(pr *mcp.Prompt) *string { return &pr.Name }, all),
		Cacheable: agentListing}
}

// route is the leg an agent's name belongs to (the longest prefix that
// matches) and the upstream's name; nil when none does.
func (p *proxy) route(name string) (*leg, string) { return route(p.legs, name) }

// route is the leg of legs an agent's name belongs to, and the upstream's name.
func route(legs []*leg, name string) (*leg, string) {
	var best *leg
	for _, l := range legs {
		pre := l.prefix + nameSeparator
		if strings.HasPrefix(name, pre) && len(name) > len(pre) && (best == nil || len(l.prefix) > len(best.prefix)) {
			best = l
		}
	}
	if best == nil {
		return nil, ""
	}
	return best, name[len(best.prefix)+len(nameSeparator):]
}

// unknownName is the error for a name no assignment has.
func (p *proxy) unknownName(what, name string) error {
	prefixes := make([]string, 0, len(p.legs))
	for _, l := range p.legs {
		prefixes = append(prefixes, l.prefix)
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf(
		"unknown %s %q: the agent's %ss are named <prefix>%s<name>, with the prefix of one of its assignments (%s); %ss/list names them",
		what, name, what, nameSeparator, strings.Join(prefixes, ", "), what)}
}

// legUnavailable is the error for a call to a leg that cannot be opened.
func legUnavailable(what, name string, err error) error {
	msg := err.Error()
	var je *jsonrpc.Error
	if errors.As(err, &je) {
		msg = je.Message
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf("%s %q is unavailable: %s", what, name, msg)}
}

func (p *proxy) callTool(ctx context.Context, ss *mcp.ServerSession, params *mcp.CallToolParamsRaw) (mcp.Result, error) {
	au := p.startAudit("tools/call")
	l, name := p.route(params.Name)
	if l == nil {
		err := p.unknownName("tool", params.Name)
		au.done(ctx, nil, params.Name, contract.OutcomeError, err)
		return nil, err
	}
	if l.allowed != nil && !slices.Contains(l.allowed, name) {
		err := &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf(
			"tool %q is not allowed: the agent's assignment with prefix %q allows only %s (allowedTools)", params.Name, l.prefix, quoteList(l.allowed))}
		au.done(ctx, l, name, contract.OutcomeBlocked, err)
		return nil, err
	}
	up, pin, err := l.upstream(ctx, ss)
	if err != nil {
		err = legUnavailable("tool", params.Name, err)
		au.done(ctx, l, name, contract.OutcomeUnavailable, err)
		return nil, err
	}
	uctx, cancel := p.ep.g.upstreamContext(ctx)
	defer cancel()
	if err := pin.callable(uctx, up, name); err != nil {
		err = agentNamed(err, name, params.Name)
		au.done(ctx, l, name, contract.OutcomeBlocked, err)
		return nil, err
	}
	q := *params
	q.Name = name
	res, err := forward(uctx, up.ClientSession, "tools/call", &q)
	l.settle(up)
	err = upstreamError(uctx, err)
	au.done(ctx, l, name, outcomeOf(res, err), err)
	return res, err
}

func (p *proxy) getPrompt(ctx context.Context, ss *mcp.ServerSession, params *mcp.GetPromptParams) (mcp.Result, error) {
	au := p.startAudit("prompts/get")
	l, name := p.route(params.Name)
	if l == nil {
		err := p.unknownName("prompt", params.Name)
		au.done(ctx, nil, params.Name, contract.OutcomeError, err)
		return nil, err
	}
	up, _, err := l.upstream(ctx, ss)
	if err != nil {
		err = legUnavailable("prompt", params.Name, err)
		au.done(ctx, l, name, contract.OutcomeUnavailable, err)
		return nil, err
	}
	uctx, cancel := p.ep.g.upstreamContext(ctx)
	defer cancel()
	q := *params
	q.Name = name
	res, err := forward(uctx, up.ClientSession, "prompts/get", &q)
	l.settle(up)
	err = upstreamError(uctx, err)
	au.done(ctx, l, name, outcomeOf(res, err), err)
	return res, err
}

// agentNamed is the pinning's refusal of the upstream's tool name as the
// agent knows it: by its prefixed name.
func agentNamed(err error, name, agentName string) error {
	var je *jsonrpc.Error
	if !errors.As(err, &je) {
		return err
	}
	out := *je
	out.Message = strings.ReplaceAll(je.Message, fmt.Sprintf("%q", name), fmt.Sprintf("%q", agentName))
	return &out
}

// quoteList is names quoted and joined by commas; "no tool" when empty.
func quoteList(names []string) string {
	if len(names) == 0 {
		return "no tool"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
