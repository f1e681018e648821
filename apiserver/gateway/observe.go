package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/internal/reqid"
)

// CallObserver counts and times the gateway's audited calls;
// *metrics.Metrics is one. endpoint is "server" or "agent", method
// tools/call, prompts/get or resources/read, outcome a contract.AuditOutcome.
type CallObserver interface {
	ObserveCall(endpoint, method, outcome string, d time.Duration)
}

// Endpoint kinds, as CallObserver is told them.
const (
	endpointServer = "server"
	endpointAgent  = "agent"
)

// observe tells the gateway's observer and its debug log of a finished
// call at ep: what the audit records, without its names and ids for the
// observer (whose labels must stay few).
func (ep *endpoint) observe(ctx context.Context, method, outcome, kind, id, name string, d time.Duration) {
	g := ep.g
	endpoint := endpointServer
	if ep.key.agent {
		endpoint = endpointAgent
	}
	if g.metrics != nil {
		g.metrics.ObserveCall(endpoint, method, outcome, d)
	}
	// Checked first: building the line's attributes would cost every call
	// an allocation even when debug lines are dropped.
	if g.log.Enabled(ctx, slog.LevelDebug) {
		g.log.DebugContext(ctx, "gateway call", "endpoint", endpoint, "action", method, "outcome", outcome,
			"tenant", ep.key.tenant, "recordKind", kind, "recordId", id, "name", name, "duration", d)
	}
}

// traced is next, told the request id of the HTTP request that carried
// each MCP request. A session's handlers run in a context of the session,
// not of the request, so the id comes from the request's header, which the
// HTTP layer sets (reqid.Header).
func traced(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if extra := req.GetExtra(); extra != nil && extra.Header != nil {
			ctx = reqid.With(ctx, extra.Header.Get(reqid.Header))
		}
		return next(ctx, method, req)
	}
}
