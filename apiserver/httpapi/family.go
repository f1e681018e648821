package httpapi

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// connectionsPath is the collection of MCP connections, whose bodies are plain.
const connectionsPath = "/api/mcp-connections"

// Route families whose every body, errors included, is wrapped in the
// {"success": ...} envelope of the seed mcp-server-get.
const (
	serversPath  = "/api/mcp/servers"
	projectsPath = "/api/projects"
)

// family is a group of routes whose error responses share one body.
type family struct {
	errorBody func(msg string) any
}

var (
	// plainFamily answers {"error": ...}: /api/mcp-connections and every
	// path outside the enveloped families.
	plainFamily = family{errorBody: func(msg string) any { return contract.ErrorBody{Error: msg} }}
	// envelopeFamily answers {"success": false, "error": ...}: /api/mcp/...
	// and /api/projects.
	envelopeFamily = family{errorBody: func(msg string) any { return contract.EnvelopeError{Success: false, Error: msg} }}
)

// abort ends the request with status and msg in f's error body.
func (f family) abort(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, f.errorBody(msg))
}

// familyOf is the family of the request's path. It goes by the path rather
// than by the matched route, so that errors raised before routing (401, 413,
// unknown routes, 405, panics) get the family's body too.
func familyOf(c *gin.Context) family {
	path := c.Request.URL.Path
	for _, prefix := range []string{"/api/mcp", projectsPath, gatewayPath} {
		if path == prefix || strings.HasPrefix(path, prefix+"/") {
			return envelopeFamily
		}
	}
	return plainFamily
}

// abortError ends a request outside any handler (middleware, unknown
// routes) with the error body of its path's family.
func abortError(c *gin.Context, status int, msg string) {
	familyOf(c).abort(c, status, msg)
}
