package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var (
	_ datasource.DataSource              = (*connectionCatalogDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*connectionCatalogDataSource)(nil)
)

// NewConnectionCatalogDataSource returns the mcp_connection_catalog data source.
func NewConnectionCatalogDataSource() datasource.DataSource {
	return &connectionCatalogDataSource{}
}

type connectionCatalogDataSource struct {
	client *client.Client
}

type connectionCatalogModel struct {
	ConnectionID types.String `tfsdk:"connection_id"`
	catalogFields
}

func (d *connectionCatalogDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_connection_catalog"
}

func (d *connectionCatalogDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "What an MCP connection's server offers — its tools, prompts and resources — as the " +
			"connection's last passing health check read them, with a hash per tool. Use it in a `check` block to " +
			"assert that the tools your agents need are still offered.",
		Attributes: catalogAttributes(),
	}
	resp.Schema.Attributes["connection_id"] = schema.StringAttribute{
		Required:            true,
		MarkdownDescription: "UUID of the connection, as in `mcp_connection.<name>.id`.",
		Validators:          []validator.String{validConnectionID()},
	}
}

func (d *connectionCatalogDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *connectionCatalogDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg connectionCatalogModel
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("connection_id"), &cfg.ConnectionID)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := cfg.ConnectionID.ValueString()

	cat, err := d.client.GetConnectionCatalog(ctx, id)
	if errors.Is(err, client.ErrNotFound) {
		// The API answers 404 for both a missing connection and one
		// without a passing check; the record itself tells which.
		conn, getErr := d.client.GetConnection(ctx, id)
		switch {
		case getErr == nil:
			connectionRecord.addNoCatalog(&resp.Diagnostics, "connection_id", conn.Name, id, string(conn.Status),
				conn.Status == contract.ConnectionActive, conn.LastError)
		case errors.Is(getErr, client.ErrNotFound):
			resp.Diagnostics.AddAttributeError(path.Root("connection_id"), "MCP connection not found",
				fmt.Sprintf("No MCP connection with id %s exists in the tenant of the provider's api_key. "+
					"Check the id; the mcp_connections data source lists the connections that exist.", id))
		default:
			connectionRecord.addError(&resp.Diagnostics, d.client, fmt.Sprintf("read MCP connection %s", id), getErr)
		}
		return
	}
	if err != nil {
		connectionRecord.addError(&resp.Diagnostics, d.client, fmt.Sprintf("read the catalog of MCP connection %s", id), err)
		return
	}
	cfg.catalogFields = catalogFieldsOf(cat)
	resp.Diagnostics.Append(resp.State.Set(ctx, cfg)...)
}
