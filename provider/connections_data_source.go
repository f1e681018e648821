package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var _ datasource.DataSourceWithConfigure = (*connectionsDataSource)(nil)

// NewConnectionsDataSource returns the mcp_connections data source.
func NewConnectionsDataSource() datasource.DataSource {
	return &connectionsDataSource{recordDataSource{rec: connectionRecord, typeName: connectionRecord.typeName + "s"}}
}

type connectionsDataSource struct {
	recordDataSource
}

type connectionsDataSourceModel struct {
	Name        types.String     `tfsdk:"name"`
	Status      types.String     `tfsdk:"status"`
	Connections []connectionView `tfsdk:"connections"`
}

func (d *connectionsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	statuses := contract.Strings(contract.ConnectionStatuses)
	element := connectionDataSourceAttributes()
	maps.Copy(element, dataSourceComputed.strs(map[string]string{"id": descConnectionID, "name": descConnectionName}))
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the MCP connections of your tenant, optionally filtered by name or status. " +
			"All pages are read. Secrets (tokens, header values, client secrets and keys) are never returned.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only list connections with this name. Omit to list all.",
				Validators:          []validator.String{validName},
			},
			"status": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Only list connections in this state: `active`, `error` or `unknown`. " +
					"Omit to list all; for example `\"error\"` finds the connections whose last health check failed.",
				Validators: []validator.String{stringvalidator.OneOf(statuses...)},
			},
			"connections": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The matching connections, in the API's order (oldest first).",
				NestedObject:        schema.NestedAttributeObject{Attributes: element},
			},
		},
	}
}

func (d *connectionsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg connectionsDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}

	conns, err := d.client.ListAllConnections(ctx, client.ConnectionListOptions{
		Name:   cfg.Name.ValueString(),
		Status: contract.ConnectionStatus(cfg.Status.ValueString()),
	})
	if err != nil {
		connectionRecord.addError(&resp.Diagnostics, d.client, "list MCP connections", err)
		return
	}

	// A non-nil empty slice makes "no matches" an empty list rather than null.
	cfg.Connections = make([]connectionView, 0, len(conns))
	for i := range conns {
		cfg.Connections = append(cfg.Connections, connectionViewOf(&conns[i]))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, cfg)...)
}
