package provider

import (
	"maps"

	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// connectionFields are the attributes every view of an MCP connection
// shares: the resource, the data source and the list data source's elements.
type connectionFields struct {
	recordFields
	TenantID          types.String `tfsdk:"tenant_id"`
	ServerURL         types.String `tfsdk:"server_url"`
	AuthType          types.String `tfsdk:"auth_type"`
	Instructions      types.String `tfsdk:"instructions"`
	LastHealthCheckAt types.String `tfsdk:"last_health_check_at"`
	checkStateFields
}

// connectionFieldsOf converts the API's view of a connection.
func connectionFieldsOf(c *contract.Connection) connectionFields {
	return connectionFields{
		recordFields:      recordFieldsOf(c.ID, c.Name, c.CreatedAt, c.UpdatedAt),
		TenantID:          types.StringValue(c.TenantID),
		ServerURL:         types.StringValue(c.ServerURL),
		AuthType:          types.StringValue(string(c.AuthType)),
		Instructions:      types.StringPointerValue(c.Instructions),
		LastHealthCheckAt: timeOrNull(c.LastHealthCheckAt),
		checkStateFields:  checkStateFieldsOf(string(c.Status), c.LastError, c.Capabilities, c.ServerImplementation, c.CheckState),
	}
}

// connectionView is a connection in the data sources: its fields and what
// they show of its upstream authentication.
type connectionView struct {
	connectionFields
	upstreamAuthView
}

// connectionViewOf converts the API's view of a connection for the data sources.
func connectionViewOf(c *contract.Connection) connectionView {
	return connectionView{connectionFields: connectionFieldsOf(c), upstreamAuthView: upstreamAuthViewOf(c.UpstreamAuth)}
}

// Descriptions shared by the resource and the data sources, so the docs
// say the same thing everywhere.
const (
	descConnectionID       = "The connection's UUID, assigned by the API. Pass it to `terraform import` or to the `mcp_connection` data source."
	descConnectionTenantID = "UUID of the tenant that owns the connection: always the tenant of the provider's `api_key`."
	descConnectionName     = "Human-readable name of the connection, 1–200 characters, unique within the tenant."
	descConnectionURL      = "Absolute `http` or `https` URL of the MCP server's Streamable HTTP endpoint, e.g. `https://mcp.example.com/mcp`."
	descConnectionAuthType = "How the API authenticates to the MCP server: `bearer` sends `Authorization: Bearer <token>`, " +
		"`oauth2` fetches a token with the OAuth 2.0 client credentials in `oauth2` and sends it the same way, " +
		"`none` sends no credentials (but any `headers_wo`)."
	descConnectionStatus = "Health of the connection: `active` (the last health check passed), `error` (it failed; see `last_error`) " +
		"or `unknown` (not checked since the endpoint or credentials last changed)."
	descConnectionInstructions = "The `instructions` the MCP server returned from its `initialize` handshake, which agents receive " +
		"in their system prompt; null until a check has succeeded."
	descConnectionLastError = "Why the last health check failed; null after a passing check or before the first one."
	descConnectionLastCheck = "When the last health check ran (passed or failed), RFC 3339 in UTC; null while `status` is `unknown`."
	descConnectionCreatedAt = "When the connection was registered, RFC 3339 in UTC."
	descConnectionUpdatedAt = "When the connection last changed, by an update or a health check, RFC 3339 in UTC."
)

// connectionDataSourceAttributes are the attributes of a connection in the
// data sources (mcp_connection, each of mcp_connections), besides id and
// name, which each declares its own way.
func connectionDataSourceAttributes() map[string]dsschema.Attribute {
	attrs := dataSourceComputed.strs(map[string]string{
		"tenant_id":            descConnectionTenantID,
		"server_url":           descConnectionURL,
		"auth_type":            descConnectionAuthType,
		"instructions":         descConnectionInstructions,
		"last_health_check_at": descConnectionLastCheck,
	})
	maps.Copy(attrs, connectionDescs.dataSourceAttributes())
	maps.Copy(attrs, checkStateDataSourceAttributes(descConnectionStatus, descConnectionLastError))
	maps.Copy(attrs, upstreamAuthDataSourceAttributes())
	return attrs
}

// connectionDescs are the descriptions of the attributes every kind has.
var connectionDescs = recordDescs{id: descConnectionID, name: descConnectionName,
	createdAt: descConnectionCreatedAt, updatedAt: descConnectionUpdatedAt}

// connectionRecord is how diagnostics name MCP connections.
var connectionRecord = record{
	kind: "MCP connection", noun: "connection", typeName: "mcp_connection",
	nameScope: "within a tenant", exampleID: "<connection-uuid>", checkID: checkConnectionID,
	listedBy: "mcp_connections",
}
