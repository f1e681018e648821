package provider

import (
	"context"
	"slices"

	// Renamed: attr is a test helper of this package.
	fwattr "github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// agentFields are the attributes every view of an agent shares: the
// resource and the data source.
type agentFields struct {
	recordFields
	TenantID     types.String `tfsdk:"tenant_id"`
	Description  types.String `tfsdk:"description"`
	Assignments  types.List   `tfsdk:"assignment"`
	Instructions types.String `tfsdk:"instructions"`
	GatewayURL   types.String `tfsdk:"gateway_url"`
}

// assignmentModel is one element of assignment.
type assignmentModel struct {
	ConnectionID types.String `tfsdk:"connection_id"`
	ServerID     types.String `tfsdk:"server_id"`
	Prefix       types.String `tfsdk:"prefix"`
	AllowedTools types.Set    `tfsdk:"allowed_tools"`
}

// assignmentType is the Terraform type of one assignment.
var assignmentType = types.ObjectType{AttrTypes: map[string]fwattr.Type{
	"connection_id": types.StringType,
	"server_id":     types.StringType,
	"prefix":        types.StringType,
	"allowed_tools": types.SetType{ElemType: types.StringType},
}}

// agentFieldsOf converts the API's view of an agent.
func agentFieldsOf(ctx context.Context, a *contract.Agent) (agentFields, diag.Diagnostics) {
	models := make([]assignmentModel, len(a.Assignments))
	for i, as := range a.Assignments {
		models[i] = assignmentModelOf(as)
	}
	list, diags := types.ListValueFrom(ctx, assignmentType, models)
	return agentFields{
		recordFields: recordFieldsOf(a.ID, a.Name, a.CreatedAt, a.UpdatedAt),
		TenantID:     types.StringValue(a.TenantID),
		Description:  types.StringPointerValue(a.Description),
		Assignments:  list,
		Instructions: types.StringPointerValue(a.Instructions),
		GatewayURL:   types.StringValue(a.GatewayURL),
	}, diags
}

// assignmentModelOf converts one assignment; allowed tools nil (all of
// them) stays null, and an empty list (none) stays empty.
func assignmentModelOf(as contract.Assignment) assignmentModel {
	m := assignmentModel{
		ConnectionID: types.StringPointerValue(as.ConnectionID),
		ServerID:     types.StringPointerValue(as.ServerID),
		Prefix:       types.StringValue(as.Prefix),
		AllowedTools: types.SetNull(types.StringType),
	}
	if as.AllowedTools != nil {
		tools := slices.Sorted(slices.Values(as.AllowedTools))
		elems := make([]fwattr.Value, len(tools))
		for i, t := range tools {
			elems[i] = types.StringValue(t)
		}
		m.AllowedTools = types.SetValueMust(types.StringType, elems)
	}
	return m
}

// Descriptions shared by the resource and the data source.
const (
	descAgentID       = "The agent's UUID, assigned by the API. Use it as `agent_id` of `mcp_agent_token`, pass it to `terraform import` or to the `mcp_agent` data source."
	descAgentTenantID = "UUID of the tenant that owns the agent: always the tenant of the provider's `api_key`."
	descAgentName     = "Human-readable name of the agent, 1–200 characters, unique within the tenant."
	descAgentDesc     = "Free-text description of the agent, up to 2000 characters."
	descAssignment    = "The records the agent may use, in order: each names one MCP connection (`connection_id`) or one " +
		"MCP server with `connection_type = \"proxy\"` (`server_id`) of the tenant. The order composes `instructions`."
	descAssignmentConnectionID = "UUID of an `mcp_connection` the agent may use, as in `mcp_connection.<name>.id`."
	descAssignmentServerID     = "Id of an `mcp_server` with `connection_type = \"proxy\"` the agent may use, as in `mcp_server.<name>.id`."
	descAssignmentPrefix       = "What the record's tools and prompts are prefixed with at the agent's endpoint: a tool `search` " +
		"reaches the agent as `<prefix>__search`. Unique within the agent."
	descAssignmentAllowedTools = "The record's tools (their upstream names, without the prefix) the agent may list and call. " +
		"Null means all of them; an empty set means none."
	descAgentInstructions = "What the agent is told in its system prompt, composed by the API: for each assignment in order whose " +
		"record has instructions, `## <record name>` then those instructions, separated by blank lines; null when none has. " +
		"It changes when an assigned record's instructions change (a health check reads them)."
	descAgentGatewayURL = "The agent's MCP endpoint, `<public url>/mcp/agents/<id>`: one MCP server with every assigned record's " +
		"tools, reached with an `mcp_agent_token`."
	descAgentCreatedAt = "When the agent was created, RFC 3339 in UTC."
	descAgentUpdatedAt = "When the agent last changed, RFC 3339 in UTC."
)

// agentDescs are the descriptions of the attributes every kind has.
var agentDescs = recordDescs{id: descAgentID, name: descAgentName, description: descAgentDesc,
	createdAt: descAgentCreatedAt, updatedAt: descAgentUpdatedAt}

// agentRecord is how diagnostics name agents.
var agentRecord = record{kind: "agent", noun: "agent", typeName: "mcp_agent", nameScope: "within a tenant", exampleID: "<agent-uuid>", checkID: checkAgentID}
