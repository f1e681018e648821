package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// Gateway serves the MCP endpoints of proxied servers and of agents;
// *gateway.Gateway is one.
type Gateway interface {
	// Server is the MCP endpoint of the tenant's server id, or the store's
	// error (store.ErrNotFound, store.ErrUnavailable) or a *gateway.DirectError.
	Server(ctx context.Context, caller gateway.Caller, id string) (http.Handler, error)
	// Agent is the MCP endpoint of the tenant's agent id, or the store's
	// error (store.ErrNotFound for an unknown agent).
	Agent(ctx context.Context, caller gateway.Caller, id uuid.UUID) (http.Handler, error)
}

// The gateway's paths: proxied MCP servers, whose errors before MCP
// begins are in the servers' envelope, and agents, whose errors are plain
// like those of /api/agents.
const (
	gatewayPath      = "/mcp/servers"
	agentGatewayPath = "/mcp/agents"
)

// isGatewayPath reports whether path is served by the gateway, which caps
// its MCP messages itself.
func isGatewayPath(path string) bool {
	return strings.HasPrefix(path, gatewayPath+"/") || strings.HasPrefix(path, agentGatewayPath+"/")
}

// assignments reads an agent's assignments; *store.Store is one.
type assignments interface {
	GetAgent(ctx context.Context, tenantID, id uuid.UUID) (store.Agent, error)
}

// gatewayRoutes serve /mcp/servers/{id} and /mcp/agents/{id}: the caller
// is authenticated (by the group's middleware), the record resolved, and
// the request handed to its MCP endpoint.
type gatewayRoutes struct {
	gateway Gateway
	agents  assignments
	log     *slog.Logger
}

func (g *gatewayRoutes) registerServers(r gin.IRouter) {
	r.Any("/:id", g.serveServer)
}

func (g *gatewayRoutes) registerAgents(r gin.IRouter) {
	r.Any("/:id", g.serveAgent)
}

func (g *gatewayRoutes) serveServer(c *gin.Context) {
	id := c.Param("id")
	caller := callerOf(c)
	if caller.AgentID != nil && !g.assigned(c, *caller.AgentID, id) {
		return
	}
	h, err := g.gateway.Server(c.Request.Context(), caller, id)
	var direct *gateway.DirectError
	switch {
	case err == nil:
		serveMCP(c, h)
	case errors.As(err, &direct):
		envelopeFamily.abort(c, http.StatusNotFound, direct.Error())
	default:
		envelopeFamily.fail(c, g.log, serverKind.notFound(), "gateway", err)
	}
}

// assigned reports whether the agent has server id assigned; when it has
// not (or the check fails) it answers the request. The assignments are
// read on every request, so removing one takes effect at once.
func (g *gatewayRoutes) assigned(c *gin.Context, agentID uuid.UUID, id string) bool {
	agent, err := g.agents.GetAgent(c.Request.Context(), tenantOf(c), agentID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// deleted since its token was cached; its tokens went with it
		unauthorized(c, fmt.Sprintf("invalid agent token: agent %s no longer exists", agentID), true)
		return false
	case err != nil:
		envelopeFamily.fail(c, g.log, agentKind.notFound(), "gateway: read agent", err)
		return false
	}
	if slices.ContainsFunc(agent.Assignments, func(a store.Assignment) bool { return a.ServerID != nil && *a.ServerID == id }) {
		return true
	}
	forbidden(c, fmt.Sprintf("agent %s (%q) is not assigned MCP server %s: add an assignment with serverId %q to the agent, "+
		"or use the agent's own endpoint %s/%s", agentID, agent.Name, clipped(id), clipped(id), agentGatewayPath, agentID))
	return false
}

func (g *gatewayRoutes) serveAgent(c *gin.Context) {
	// agentTokens let only a token of this very agent through, so the id
	// is a valid UUID here.
	id, _ := parseUUID(c.Param("id"))
	h, err := g.gateway.Agent(c.Request.Context(), callerOf(c), id)
	if err != nil {
		plainFamily.fail(c, g.log, agentKind.notFound(), "gateway", err)
		return
	}
	serveMCP(c, h)
}

// serveMCP hands the request to an MCP endpoint.
func serveMCP(c *gin.Context, h http.Handler) {
	// A session's event stream outlives the server's WriteTimeout, which
	// is for the API's own answers; the gateway bounds its calls itself.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	h.ServeHTTP(c.Writer, c.Request)
}
