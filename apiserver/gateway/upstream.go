package gateway

import (
	"context"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
)

// What the upstream sends of its own accord, passed to the downstream
// session that owns the upstream session, on the stream of the request it
// belongs to.

// serverRequests is the upstream client's receiving middleware. roots/list
// has no client option to answer it with, so it is answered by the
// downstream here; so is elicitation/create, before the client's own
// schema check, which refuses schemas (multi-select enums) the downstream
// takes — the downstream session checks the answer against the schema.
func (p *proxy) serverRequests(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		switch method {
		case "roots/list":
			octx, ss, _ := p.origin(nil)
			if ss == nil {
				return nil, errNoDownstream
			}
			params, _ := req.GetParams().(*mcp.ListRootsParams) //nolint:staticcheck // deprecated at 2026-07-28, still passed through for older clients
			//nolint:staticcheck // roots are deprecated at 2026-07-28 but still served to older clients
			return ss.ListRoots(octx, params)
		case "elicitation/create":
			params, _ := req.GetParams().(*mcp.ElicitParams)
			if params == nil {
				return next(ctx, method, req)
			}
			octx, ss, _ := p.origin(params.GetProgressToken())
			if ss == nil {
				return nil, errNoDownstream
			}
			return ss.Elicit(octx, params)
		}
		return next(ctx, method, req)
	}
}

// errNoDownstream answers an upstream request that arrives after the
// downstream session has gone.
var errNoDownstream = errors.New("the downstream MCP session has ended")

func (p *proxy) createMessage(_ context.Context, req *mcp.CreateMessageWithToolsRequest) (*mcp.CreateMessageWithToolsResult, error) { //nolint:staticcheck // deprecated at 2026-07-28, still passed through for older clients
	ctx, ss, _ := p.origin(req.Params.GetProgressToken())
	if ss == nil {
		return nil, errNoDownstream
	}
	//nolint:staticcheck // sampling is deprecated at 2026-07-28 but still served to older clients
	return ss.CreateMessageWithTools(ctx, req.Params)
}

func (p *proxy) elicit(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	ctx, ss, _ := p.origin(req.Params.GetProgressToken())
	if ss == nil {
		return nil, errNoDownstream
	}
	return ss.Elicit(ctx, req.Params)
}

func (p *proxy) logMessage(_ context.Context, req *mcp.LoggingMessageRequest) {
	ctx, ss, _ := p.origin(nil)
	if ss != nil {
		//nolint:staticcheck // logging is deprecated at 2026-07-28 but still served to older clients
		_ = ss.Log(ctx, req.Params)
	}
}

func (p *proxy) progress(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
	ctx, ss, token := p.origin(req.Params.ProgressToken)
	if ss != nil {
		params := *req.Params
		params.ProgressToken = token
		_ = ss.NotifyProgress(ctx, &params)
	}
}

func (p *proxy) resourceUpdated(ctx context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
	// The SDK sends it to this session if it subscribed to the URI: the
	// server is this session's alone. A pooled proxy's requests have
	// no subscriptions.
	if p.shared {
		return
	}
	_ = p.server.ResourceUpdated(context.WithoutCancel(ctx), req.Params)
}

// Kinds of list_changed notifications.
type listKind int

const (
	toolsChanged listKind = iota
	promptsChanged
	resourcesChanged
)

// placeholder names an item added and removed at once so that the SDK sends
// its list_changed notification; the server is this session's alone, and
// its own lists are never served (every list request goes upstream).
const placeholder = "mcpconn-gateway-list-changed"

func (p *proxy) listChanged(kind listKind) {
	if p.shared {
		return // no session to tell: its callers list again on their next request
	}
	s := p.server
	switch kind {
	case toolsChanged:
		s.AddTool(&mcp.Tool{Name: placeholder, InputSchema: map[string]any{"type": "object"}},
			func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return &mcp.CallToolResult{}, nil
			})
		s.RemoveTools(placeholder)
	case promptsChanged:
		s.AddPrompt(&mcp.Prompt{Name: placeholder},
			func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
				return &mcp.GetPromptResult{}, nil
			})
		s.RemovePrompts(placeholder)
	case resourcesChanged:
		uri := "urn:" + placeholder
		s.AddResource(&mcp.Resource{Name: placeholder, URI: uri},
			func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				return &mcp.ReadResourceResult{}, nil
			})
		s.RemoveResources(uri)
	}
}

// describe makes the downstream handshake's answer the upstream's: its
// capabilities, instructions and serverInfo.
func describe(res mcp.Result, up *mcp.InitializeResult) {
	if up == nil {
		return
	}
	caps := up.Capabilities
	if caps == nil {
		caps = &mcp.ServerCapabilities{}
	}
	switch r := res.(type) {
	case *mcp.InitializeResult:
		r.Capabilities, r.Instructions = caps, up.Instructions
		if up.ServerInfo != nil {
			r.ServerInfo = up.ServerInfo
		}
	case *mcp.DiscoverResult:
		r.Capabilities, r.Instructions = caps, up.Instructions
		if up.ServerInfo != nil {
			// At 2026-07-28 serverInfo travels in _meta.
			if r.Meta == nil {
				r.Meta = mcp.Meta{}
			}
			r.Meta[mcp.MetaKeyServerInfo] = up.ServerInfo
		}
	}
}

// subscribe passes a resources/subscribe or resources/unsubscribe on to up.
func subscribe(ctx context.Context, up *probe.Session, params mcp.Params) error {
	if !subscribable(up) {
		return &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "the upstream MCP server does not support resource subscriptions"}
	}
	if !hasParams(params) {
		return errParams
	}
	var err error
	switch p := params.(type) {
	case *mcp.SubscribeParams:
		err = up.Subscribe(ctx, &mcp.SubscribeParams{Meta: forwardMeta(p.Meta), URI: p.URI})
	case *mcp.UnsubscribeParams:
		err = up.Unsubscribe(ctx, &mcp.UnsubscribeParams{Meta: forwardMeta(p.Meta), URI: p.URI})
	default:
		return errParams
	}
	return upstreamError(ctx, err)
}

// subscribable reports whether the upstream offers resource subscriptions.
func subscribable(up *probe.Session) bool {
	c := up.InitializeResult().Capabilities
	return c != nil && c.Resources != nil && c.Resources.Subscribe
}

// unavailable is the JSON-RPC error for an upstream that cannot be reached.
func unavailable(err error) error {
	msg := "the upstream MCP server cannot be reached"
	var ce *probe.ConnectError
	var de *DirectError
	switch {
	case errors.As(err, &ce):
		msg += ": " + ce.Message
	case errors.As(err, &de):
		msg += ": " + de.Error()
	case err != nil:
		msg += ": " + err.Error()
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: msg}
}

// upstreamContext is the context of a call forwarded upstream for the
// downstream request of ctx: it ends when that request does (the SDK client
// then cancels the call upstream) or after the gateway's timeout, and
// carries none of ctx's values — the downstream SDK server's values (its
// request's protocol version, id) would be taken by the upstream client
// for its own.
func (g *Gateway) upstreamContext(ctx context.Context) (context.Context, context.CancelFunc) {
	up, cancel := context.WithTimeout(context.Background(), g.timeout)
	stop := context.AfterFunc(ctx, cancel)
	return up, func() { stop(); cancel() }
}

// upstreamError passes the upstream's JSON-RPC error on as it was (its code
// and data included), and names what else went wrong.
func upstreamError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var je *jsonrpc.Error
	if errors.As(err, &je) {
		return je
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the upstream MCP server did not answer in time"}
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "upstream MCP server: " + err.Error()}
}
