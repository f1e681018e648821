package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// NewConnectionDataSource returns the mcp_connection data source.
func NewConnectionDataSource() datasource.DataSource {
	return &lookupDataSource[contract.Connection, connectionFields]{
		recordDataSource: recordDataSource{rec: connectionRecord, typeName: connectionRecord.typeName},
		description: "Looks up one MCP connection of your tenant by `id` or by `name` (set exactly one). " +
			"The bearer token is never returned.",
		idDescription: "UUID of the connection to look up, as in `mcp_connection.<name>.id`.",
		idValidator:   validConnectionID(),
		attributes: func() map[string]schema.Attribute {
			attrs := map[string]schema.Attribute{
				"tenant_id":            schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionTenantID},
				"server_url":           schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionURL},
				"auth_type":            schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionAuthType},
				"status":               schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionStatus},
				"instructions":         schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionInstructions},
				"last_error":           schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionLastError},
				"last_health_check_at": schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionLastCheck},
				"created_at":           schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionCreatedAt},
				"updated_at":           schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionUpdatedAt},
			}
			maps.Copy(attrs, checkStateDataSourceAttributes())
			return attrs
		},
		get: (*client.Client).GetConnection,
		list: func(c *client.Client, ctx context.Context, name string) ([]contract.Connection, error) {
			return c.ListAllConnections(ctx, client.ConnectionListOptions{Name: name})
		},
		nameOf:   func(c *contract.Connection) string { return c.Name },
		fieldsOf: noDiags(connectionFieldsOf),
	}
}
