package httpapi

import (
	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// publicURL is where clients reach this API (MCP_API_PUBLIC_URL), without
// a trailing slash: the base of the gateway URLs of proxy servers and
// agents. Empty means "http://" and the request's Host, for a server that
// was given none.
type publicURL string

// of is the base URL for a response to c.
func (u publicURL) of(c *gin.Context) string {
	if u != "" {
		return string(u)
	}
	return "http://" + c.Request.Host
}

// serverGatewayURL is where agents reach a proxy server through the API;
// nil for a direct one, which the gateway does not serve.
func (u publicURL) serverGatewayURL(c *gin.Context, id, connectionType string) *string {
	if connectionType != string(contract.ConnectionProxy) {
		return nil
	}
	return new(u.of(c) + "/mcp/servers/" + id)
}
