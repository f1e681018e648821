package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// NewConnectionDataSource returns the mcp_connection data source.
func NewConnectionDataSource() datasource.DataSource {
	return &lookupDataSource[contract.Connection, connectionView]{
		recordDataSource: recordDataSource{rec: connectionRecord, typeName: connectionRecord.typeName},
		description: "Looks up one MCP connection of your tenant by `id` or by `name` (set exactly one). " +
			"No secret (bearer token, header values, client secret, client key) is ever returned.",
		idDescription: "UUID of the connection to look up, as in `mcp_connection.<name>.id`.",
		idValidator:   validConnectionID,
		descs:         connectionDescs,
		attributes:    connectionDataSourceAttributes,
		get:           (*client.Client).GetConnection,
		list: func(c *client.Client, ctx context.Context, name string) ([]contract.Connection, error) {
			return c.ListAllConnections(ctx, client.ConnectionListOptions{Name: name})
		},
		nameOf:   func(c *contract.Connection) string { return c.Name },
		fieldsOf: noDiags(connectionViewOf),
	}
}
