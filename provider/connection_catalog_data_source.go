package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// NewConnectionCatalogDataSource returns the mcp_connection_catalog data source.
func NewConnectionCatalogDataSource() datasource.DataSource {
	return &catalogDataSource{
		recordDataSource: recordDataSource{rec: connectionRecord, typeName: connectionRecord.typeName + "_catalog"},
		description: "What an MCP connection's server offers — its tools, prompts and resources — as the " +
			"connection's last passing health check read them, with a hash per tool. Use it in a `check` block to " +
			"assert that the tools your agents need are still offered.",
		idAttr:        "connection_id",
		idDescription: "UUID of the connection, as in `mcp_connection.<name>.id`.",
		idValidator:   validConnectionID,
		notFoundHint:  "Check the id; the mcp_connections data source lists the connections that exist.",
		catalog: func(ctx context.Context, c *client.Client, id string) (*contract.Catalog, error) {
			return c.GetConnectionCatalog(ctx, id)
		},
		subject: func(ctx context.Context, c *client.Client, id string) (catalogSubject, error) {
			conn, err := c.GetConnection(ctx, id)
			if err != nil {
				return catalogSubject{}, err
			}
			return catalogSubject{name: conn.Name, status: string(conn.Status),
				passed: conn.Status == contract.ConnectionActive, lastError: conn.LastError}, nil
		},
	}
}
