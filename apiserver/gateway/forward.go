package gateway

import (
	"context"
	"fmt"
	"maps"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// forward sends a downstream request on to up and returns its answer. The
// parameters are passed as the downstream sent them, but for the _meta keys
// that describe the downstream's own protocol (the upstream client states
// its own).
func forward(ctx context.Context, up *mcp.ClientSession, method string, params mcp.Params) (mcp.Result, error) {
	switch p := params.(type) {
	case *mcp.ListToolsParams:
		if p == nil {
			p = &mcp.ListToolsParams{}
		}
		return up.ListTools(ctx, &mcp.ListToolsParams{Meta: forwardMeta(p.Meta), Cursor: p.Cursor})
	case *mcp.CallToolParamsRaw:
		out := &mcp.CallToolParams{Meta: forwardMeta(p.Meta), Name: p.Name, InputResponses: p.InputResponses, RequestState: p.RequestState}
		if len(p.Arguments) > 0 {
			out.Arguments = p.Arguments
		}
		return up.CallTool(ctx, out)
	case *mcp.ListPromptsParams:
		if p == nil {
			p = &mcp.ListPromptsParams{}
		}
		return up.ListPrompts(ctx, &mcp.ListPromptsParams{Meta: forwardMeta(p.Meta), Cursor: p.Cursor})
	case *mcp.GetPromptParams:
		q := *p
		q.Meta = forwardMeta(p.Meta)
		return up.GetPrompt(ctx, &q)
	case *mcp.ListResourcesParams:
		if p == nil {
			p = &mcp.ListResourcesParams{}
		}
		return up.ListResources(ctx, &mcp.ListResourcesParams{Meta: forwardMeta(p.Meta), Cursor: p.Cursor})
	case *mcp.ListResourceTemplatesParams:
		if p == nil {
			p = &mcp.ListResourceTemplatesParams{}
		}
		return up.ListResourceTemplates(ctx, &mcp.ListResourceTemplatesParams{Meta: forwardMeta(p.Meta), Cursor: p.Cursor})
	case *mcp.ReadResourceParams:
		q := *p
		q.Meta = forwardMeta(p.Meta)
		return up.ReadResource(ctx, &q)
	case *mcp.CompleteParams:
		q := *p
		q.Meta = forwardMeta(p.Meta)
		return up.Complete(ctx, &q)
	}
	return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: fmt.Sprintf("method %q is not served through the gateway", method)}
}

// protocolMeta are the _meta keys a 2026-07-28 client sets on every request
// about itself; the upstream client sets its own.
var protocolMeta = []string{mcp.MetaKeyProtocolVersion, mcp.MetaKeyClientInfo, mcp.MetaKeyClientCapabilities}

func forwardMeta(m mcp.Meta) mcp.Meta {
	if len(m) == 0 {
		return nil
	}
	out := maps.Clone(m)
	for _, k := range protocolMeta {
		delete(out, k)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
