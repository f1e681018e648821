package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var (
	_ datasource.DataSource                     = (*connectionDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*connectionDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*connectionDataSource)(nil)
)

// NewConnectionDataSource returns the mcp_connection data source.
func NewConnectionDataSource() datasource.DataSource {
	return &connectionDataSource{lookupDataSource{recordDataSource{rec: connectionRecord, typeName: connectionRecord.typeName}}}
}

type connectionDataSource struct {
	lookupDataSource
}

func (d *connectionDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one MCP connection of your tenant by `id` or by `name` (set exactly one). " +
			"The bearer token is never returned.",
		Attributes: map[string]schema.Attribute{
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
	maps.Copy(resp.Schema.Attributes, connectionRecord.lookupAttributes(
		"UUID of the connection to look up, as in `mcp_connection.<name>.id`.", validConnectionID()))
}

func (d *connectionDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg connectionFields
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	conn := lookupByIDOrName(ctx, &resp.Diagnostics, connectionRecord, d.client, cfg.ID, cfg.Name, d.client.GetConnection,
		func(ctx context.Context, name string) ([]contract.Connection, error) {
			return d.client.ListAllConnections(ctx, client.ConnectionListOptions{Name: name})
		},
		func(c *contract.Connection) string { return c.Name })
	if conn == nil {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, connectionFieldsOf(conn))...)
}
