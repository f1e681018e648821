package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// NewServerCatalogDataSource returns the mcp_server_catalog data source.
func NewServerCatalogDataSource() datasource.DataSource {
	return &catalogDataSource{
		recordDataSource: recordDataSource{rec: serverRecord, typeName: serverRecord.typeName + "_catalog"},
		description: "What an MCP server offers — its tools, prompts and resources — as its last " +
			"passing check (the handshake on connect and the API's probes) read them, with a hash per tool. Use it in a `check` block to " +
			"assert that the tools your agents need are still offered.",
		idAttr:        "server_id",
		idDescription: "Id of the MCP server (`mcp_...`), as in `mcp_server.<name>.id`.",
		idValidator:   validServerID,
		notFoundHint:  "Check the id, or look the server up with the mcp_server data source by name and project_id.",
		catalog: func(ctx context.Context, c *client.Client, id string) (*contract.Catalog, error) {
			return c.GetServerCatalog(ctx, id)
		},
		subject: func(ctx context.Context, c *client.Client, id string) (catalogSubject, error) {
			s, err := c.GetServer(ctx, id)
			if err != nil {
				return catalogSubject{}, err
			}
			return catalogSubject{name: s.Name, status: string(s.Status),
				passed: s.Status == contract.ServerConnected, lastError: s.LastError}, nil
		},
	}
}
