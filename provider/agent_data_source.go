package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// NewAgentDataSource returns the mcp_agent data source.
func NewAgentDataSource() datasource.DataSource {
	return &lookupDataSource[contract.Agent, agentFields]{
		recordDataSource: recordDataSource{rec: agentRecord, typeName: agentRecord.typeName},
		description: "Looks up one agent of your tenant by `id` or by `name` (set exactly one), for example to " +
			"issue an `mcp_agent_token` for an agent managed elsewhere, or to hand out its `gateway_url`.",
		idDescription: "UUID of the agent to look up, as in `mcp_agent.<name>.id`.",
		idValidator:   validAgentID,
		descs:         agentDescs,
		attributes: func() map[string]schema.Attribute {
			return map[string]schema.Attribute{
				"tenant_id": schema.StringAttribute{Computed: true, MarkdownDescription: descAgentTenantID},
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
			}
		},
		get: (*client.Client).GetAgent,
		list: func(c *client.Client, ctx context.Context, name string) ([]contract.Agent, error) {
			return c.ListAllAgents(ctx, client.AgentListOptions{Name: name})
		},
		nameOf:   func(a *contract.Agent) string { return a.Name },
		fieldsOf: agentFieldsOf,
	}
}
