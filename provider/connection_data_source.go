package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
)

var (
	_ datasource.DataSource                     = (*connectionDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*connectionDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*connectionDataSource)(nil)
)

// NewConnectionDataSource returns the mcp_connection data source.
func NewConnectionDataSource() datasource.DataSource {
	return &connectionDataSource{recordDataSource{rec: connectionRecord, typeName: connectionRecord.typeName}}
}

type connectionDataSource struct {
	recordDataSource
}

func (d *connectionDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one MCP connection of your tenant by `id` or by `name` (set exactly one). " +
			"The bearer token is never returned.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "UUID of the connection to look up, as in `mcp_connection.<name>.id`. Set either `id` or `name`.",
				Validators:          []validator.String{validConnectionID()},
			},
			"name": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Name of the connection to look up, matched exactly (case-sensitive). Set either `id` or `name`.",
				Validators:          []validator.String{validName()},
			},
			"tenant_id":            schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionTenantID},
			"server_url":           schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionURL},
			"auth_type":            schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionAuthType},
			"status":               schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionStatus},
			"instructions":         schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionInstructions},
			"last_error":           schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionLastError},
			"last_health_check_at": schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionLastCheck},
			"created_at":           schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionCreatedAt},
			"updated_at":           schema.StringAttribute{Computed: true, MarkdownDescription: descConnectionUpdatedAt},
		},
	}
	maps.Copy(resp.Schema.Attributes, checkStateDataSourceAttributes())
}

func (d *connectionDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	// One validator for the pair gives one diagnostic for "neither" or "both".
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
	}
}

func (d *connectionDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg connectionFields
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}

	if !cfg.ID.IsNull() {
		id := cfg.ID.ValueString()
		conn, err := d.client.GetConnection(ctx, id)
		if errors.Is(err, client.ErrNotFound) {
			connectionRecord.addNotFoundByID(&resp.Diagnostics, "id", id, "Check the id; the mcp_connections data source lists the connections that exist.")
			return
		}
		if err != nil {
			connectionRecord.addError(&resp.Diagnostics, d.client, fmt.Sprintf("read MCP connection %s", id), err)
			return
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, connectionFieldsOf(conn))...)
		return
	}

	name := cfg.Name.ValueString()
	conns, err := d.client.ListAllConnections(ctx, client.ConnectionListOptions{Name: name})
	if err != nil {
		connectionRecord.addError(&resp.Diagnostics, d.client, fmt.Sprintf("look up MCP connection %q", name), err)
		return
	}
	// Names are unique per tenant; matching exactly here keeps the lookup
	// exact whatever kind of match the API's filter does.
	for i := range conns {
		if conns[i].Name == name {
			resp.Diagnostics.Append(resp.State.Set(ctx, connectionFieldsOf(&conns[i]))...)
			return
		}
	}
	resp.Diagnostics.AddAttributeError(path.Root("name"), "MCP connection not found",
		fmt.Sprintf("No MCP connection named %q exists in the tenant of the provider's api_key. "+
			"Names are case-sensitive; the mcp_connections data source lists the connections that exist.", name))
}
