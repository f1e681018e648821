package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var (
	_ datasource.DataSource                     = (*agentDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*agentDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*agentDataSource)(nil)
)

// NewAgentDataSource returns the mcp_agent data source.
func NewAgentDataSource() datasource.DataSource {
	return &agentDataSource{lookupDataSource{recordDataSource{rec: agentRecord, typeName: agentRecord.typeName}}}
}

type agentDataSource struct {
	lookupDataSource
}

func (d *agentDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one agent of your tenant by `id` or by `name` (set exactly one), for example to " +
			"issue an `mcp_agent_token` for an agent managed elsewhere, or to hand out its `gateway_url`.",
		Attributes: map[string]schema.Attribute{
			"tenant_id":   schema.StringAttribute{Computed: true, MarkdownDescription: descAgentTenantID},
			"description": schema.StringAttribute{Computed: true, MarkdownDescription: descAgentDesc + " Null when it has none."},
			"assignment": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: descAssignment,
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"connection_id": schema.StringAttribute{Computed: true, MarkdownDescription: descAssignmentConnectionID + " Null for a server."},
						"server_id":     schema.StringAttribute{Computed: true, MarkdownDescription: descAssignmentServerID + " Null for a connection."},
						"prefix":        schema.StringAttribute{Computed: true, MarkdownDescription: descAssignmentPrefix},
						"allowed_tools": schema.SetAttribute{
							Computed:            true,
							ElementType:         types.StringType,
							MarkdownDescription: descAssignmentAllowedTools,
						},
					},
				},
			},
			"instructions": schema.StringAttribute{Computed: true, MarkdownDescription: descAgentInstructions},
			"gateway_url":  schema.StringAttribute{Computed: true, MarkdownDescription: descAgentGatewayURL},
			"created_at":   schema.StringAttribute{Computed: true, MarkdownDescription: descAgentCreatedAt},
			"updated_at":   schema.StringAttribute{Computed: true, MarkdownDescription: descAgentUpdatedAt},
		},
	}
	maps.Copy(resp.Schema.Attributes, agentRecord.lookupAttributes(
		"UUID of the agent to look up, as in `mcp_agent.<name>.id`.", validAgentID()))
}

func (d *agentDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg agentFields
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	a := d.find(ctx, cfg, resp)
	if a == nil {
		return
	}
	fields, diags := agentFieldsOf(ctx, a)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, fields)...)
}

// find reads the agent cfg names, or adds the diagnostic that says why not.
func (d *agentDataSource) find(ctx context.Context, cfg agentFields, resp *datasource.ReadResponse) *contract.Agent {
	return lookupByIDOrName(ctx, &resp.Diagnostics, agentRecord, d.client, cfg.ID, cfg.Name, d.client.GetAgent,
		func(ctx context.Context, name string) ([]contract.Agent, error) {
			return d.client.ListAllAgents(ctx, client.AgentListOptions{Name: name})
		},
		func(a *contract.Agent) string { return a.Name })
}
