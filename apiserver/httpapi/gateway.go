package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
)

// Gateway serves the MCP endpoints of proxied servers; *gateway.Gateway is one.
type Gateway interface {
	// Server is the MCP endpoint of the tenant's server id, or the store's
	// error (store.ErrNotFound, store.ErrUnavailable) or a *gateway.DirectError.
	Server(ctx context.Context, caller gateway.Caller, id string) (http.Handler, error)
}

// gatewayPath is where proxied MCP servers are served; its errors before
// MCP begins are in the servers' envelope.
const gatewayPath = "/mcp/servers"

// gatewayRoutes serve /mcp/servers/{id}: the caller is authenticated as for
// /api, the record resolved, and the request handed to its MCP endpoint.
type gatewayRoutes struct {
	gateway Gateway
	log     *slog.Logger
}

func (g *gatewayRoutes) register(r gin.IRouter) {
	r.Any("/:id", g.serve)
}

func (g *gatewayRoutes) serve(c *gin.Context) {
	id := c.Param("id")
	caller := gateway.Caller{Tenant: tenantOf(c)}
	if key := apiKeyOf(c); key != uuid.Nil {
		caller.APIKeyID = &key
	}
	h, err := g.gateway.Server(c.Request.Context(), caller, id)
	var direct *gateway.DirectError
	switch {
	case err == nil:
		// A session's event stream outlives the server's WriteTimeout, which
		// is for the API's own answers; the gateway bounds its calls itself.
		_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
		h.ServeHTTP(c.Writer, c.Request)
	case errors.As(err, &direct):
		envelopeFamily.abort(c, http.StatusNotFound, direct.Error())
	default:
		envelopeFamily.fail(c, g.log, serverKind.notFound(), "gateway", err)
	}
}
