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
	_ datasource.DataSource              = (*serverCatalogDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*serverCatalogDataSource)(nil)
)

// NewServerCatalogDataSource returns the mcp_server_catalog data source.
func NewServerCatalogDataSource() datasource.DataSource {
	return &serverCatalogDataSource{}
}

type serverCatalogDataSource struct {
	client *client.Client
}

type serverCatalogModel struct {
	ServerID types.String `tfsdk:"server_id"`
	catalogFields
}

func (d *serverCatalogDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_server_catalog"
}

func (d *serverCatalogDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "What an MCP server offers — its tools, prompts and resources — as its last " +
			"passing check (the handshake on connect and the API's probes) read them, with a hash per tool. Use it in a `check` block to " +
			"assert that the tools your agents need are still offered.",
		Attributes: catalogAttributes(),
	}
	resp.Schema.Attributes["server_id"] = schema.StringAttribute{
		Required:            true,
		MarkdownDescription: "Id of the MCP server (`mcp_...`), as in `mcp_server.<name>.id`.",
		Validators:          []validator.String{validServerID()},
	}
}

func (d *serverCatalogDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *serverCatalogDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg serverCatalogModel
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("server_id"), &cfg.ServerID)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := cfg.ServerID.ValueString()

	cat, err := d.client.GetServerCatalog(ctx, id)
	if errors.Is(err, client.ErrNotFound) {
		// The API answers 404 for both a missing server and one
		// without a passing check; the record itself tells which.
		s, getErr := d.client.GetServer(ctx, id)
		switch {
		case getErr == nil:
			serverRecord.addNoCatalog(&resp.Diagnostics, "server_id", s.Name, id, string(s.Status),
				s.Status == contract.ServerConnected, s.LastError)
		case errors.Is(getErr, client.ErrNotFound):
			resp.Diagnostics.AddAttributeError(path.Root("server_id"), "MCP server not found",
				fmt.Sprintf("No MCP server with id %s exists in the tenant of the provider's api_key. "+
					"Check the id, or look the server up with the mcp_server data source by name and project_id.", id))
		default:
			serverRecord.addError(&resp.Diagnostics, d.client, fmt.Sprintf("read MCP server %s", id), getErr)
		}
		return
	}
	if err != nil {
		serverRecord.addError(&resp.Diagnostics, d.client, fmt.Sprintf("read the catalog of MCP server %s", id), err)
		return
	}
	cfg.catalogFields = catalogFieldsOf(cat)
	resp.Diagnostics.Append(resp.State.Set(ctx, cfg)...)
}
