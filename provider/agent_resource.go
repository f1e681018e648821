package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var _ validatedResource = (*agentResource)(nil)

// NewAgentResource returns the mcp_agent resource.
func NewAgentResource() resource.Resource {
	return &agentResource{recordResource{rec: agentRecord, remove: (*client.Client).DeleteAgent}}
}

type agentResource struct {
	recordResource
}

func (r *agentResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An AI agent that uses MCP connections and proxied MCP servers through the API's gateway, " +
			"never holding their credentials. The agent is handed `gateway_url` and a token (`mcp_agent_token`); " +
			"there it finds the tools of every `assignment` as `<prefix>__<tool>`, limited to `allowed_tools`, and " +
			"`instructions` composed from the assigned records.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": stableComputed(descAgentTenantID),
			// Composed from the assigned records' instructions, which a
			// health check may change at any time: no UseStateForUnknown.
			"instructions": schema.StringAttribute{Computed: true, MarkdownDescription: descAgentInstructions},
			// Built from the id alone, so it is stable once known.
			"gateway_url": stableComputed(descAgentGatewayURL),
		},
		Blocks: map[string]schema.Block{
			"assignment": schema.ListNestedBlock{
				MarkdownDescription: descAssignment + " Changing the blocks replaces the agent's whole list in place; " +
					"without any the agent has no tools.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"connection_id": schema.StringAttribute{
							Optional:            true,
							MarkdownDescription: descAssignmentConnectionID + " Set exactly one of `connection_id` and `server_id`.",
							Validators:          []validator.String{validConnectionID},
						},
						"server_id": schema.StringAttribute{
							Optional:            true,
							MarkdownDescription: descAssignmentServerID + " Set exactly one of `connection_id` and `server_id`.",
							Validators:          []validator.String{validServerID},
						},
						// No UseStateForUnknown: the default follows the
						// record's name, and the blocks may have moved.
						"prefix": schema.StringAttribute{
							Optional: true,
							Computed: true,
							MarkdownDescription: descAssignmentPrefix + fmt.Sprintf(" 1 to %d characters from `a`–`z`, `0`–`9` "+
								"and `_`, without `__`. Defaults to the record's name lowercased, every run of other characters "+
								"turned into `_`, without leading or trailing `_`, at most %d characters (`tools` when nothing is left).",
								contract.PrefixMaxLength, contract.PrefixMaxLength),
							Validators: []validator.String{validPrefix},
						},
						"allowed_tools": schema.SetAttribute{
							ElementType:         types.StringType,
							Optional:            true,
							MarkdownDescription: descAssignmentAllowedTools,
							Validators:          []validator.Set{setvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))},
						},
					},
				},
			},
		},
	}
	maps.Copy(resp.Schema.Attributes, r.rec.resourceAttributes(agentDescs))
}

// ValidateConfig checks, at plan time, that every assignment names exactly
// one record and that configured prefixes do not clash. Unknown values may
// turn out either way, so they never fail the check; Terraform validates
// again at apply, when they are known.
func (r *agentResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var assignments types.List
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("assignment"), &assignments)...)
	if resp.Diagnostics.HasError() || assignments.IsNull() || assignments.IsUnknown() {
		return
	}
	var models []assignmentModel
	resp.Diagnostics.Append(assignments.ElementsAs(ctx, &models, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	prefixes := map[string]int{}
	for i, m := range models {
		at := path.Root("assignment").AtListIndex(i)
		if !m.ConnectionID.IsUnknown() && !m.ServerID.IsUnknown() {
			switch {
			case m.ConnectionID.IsNull() && m.ServerID.IsNull():
				resp.Diagnostics.AddAttributeError(at, "Assignment names no record",
					fmt.Sprintf("assignment %d sets neither connection_id nor server_id. Set exactly one: connection_id = "+
						"mcp_connection.<name>.id to assign a connection, or server_id = mcp_server.<name>.id to assign an "+
						"MCP server with connection_type = \"proxy\".", i))
			case !m.ConnectionID.IsNull() && !m.ServerID.IsNull():
				resp.Diagnostics.AddAttributeError(at, "Assignment names two records",
					fmt.Sprintf("assignment %d sets both connection_id and server_id, but an assignment names one record. "+
						"Keep one of them and move the other into an assignment block of its own.", i))
			}
		}
		if m.Prefix.IsNull() || m.Prefix.IsUnknown() {
			continue
		}
		if j, ok := prefixes[m.Prefix.ValueString()]; ok {
			resp.Diagnostics.AddAttributeError(at.AtName("prefix"), "Duplicate assignment prefix",
				fmt.Sprintf("assignments %d and %d both have prefix %q, but the agent's tool names must say which record "+
					"a tool belongs to. Give one of them another prefix.", j, i, m.Prefix.ValueString()))
			continue
		}
		prefixes[m.Prefix.ValueString()] = i
	}
}

func (r *agentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan agentFields
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	assignments, diags := assignmentsRequest(ctx, plan.Assignments)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := contract.CreateAgentRequest{
		Name:        plan.Name.ValueString(),
		Description: plan.Description.ValueStringPointer(),
		Assignments: assignments,
	}
	a, err := r.client.CreateAgent(ctx, body)
	if err != nil {
		addAgentWriteError(&resp.Diagnostics, r.client, fmt.Sprintf("create agent %q", body.Name), err)
		return
	}
	tflog.Debug(ctx, "created agent", map[string]any{"id": a.ID})
	state, diags := agentStateAfterWrite(ctx, plan, a)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *agentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readRecord(ctx, &r.recordResource, req, resp, (*client.Client).GetAgent,
		func(state *agentFields, a *contract.Agent) (diags diag.Diagnostics) {
			// Everything the API returns replaces state, so edits made outside
			// Terraform (assignments included) show up as a diff.
			*state, diags = agentFieldsOf(ctx, a)
			return diags
		})
}

func (r *agentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state agentFields
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()
	var body contract.UpdateAgentRequest
	body.Name = changedString(plan.Name, state.Name)
	body.Description = changedDescription(plan.Description, state.Description)
	// The planned list has unknown prefixes where the API's default
	// applies, so it never equals state then; sending the whole list is
	// what PATCH wants anyway (it replaces it).
	assignments, diags := assignmentsRequest(ctx, plan.Assignments)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if assignments == nil {
		assignments = []contract.Assignment{} // none: an empty list removes them all
	}
	body.Assignments = &assignments

	a, err := r.client.UpdateAgent(ctx, id, body)
	if err != nil {
		addAgentWriteError(&resp.Diagnostics, r.client, fmt.Sprintf("update agent %q (%s)", plan.Name.ValueString(), id), err)
		return
	}
	newState, diags := agentStateAfterWrite(ctx, plan, a)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, newState)...)
}

// assignmentsRequest is the API's form of the planned assignments. An
// unknown prefix (not configured) goes as "", which asks for the default.
func assignmentsRequest(ctx context.Context, list types.List) ([]contract.Assignment, diag.Diagnostics) {
	var (
		models []assignmentModel
		diags  diag.Diagnostics
	)
	if list.IsNull() || list.IsUnknown() {
		return nil, diags
	}
	diags.Append(list.ElementsAs(ctx, &models, false)...)
	if diags.HasError() {
		return nil, diags
	}
	out := make([]contract.Assignment, len(models))
	for i, m := range models {
		out[i] = contract.Assignment{
			ConnectionID: m.ConnectionID.ValueStringPointer(),
			ServerID:     m.ServerID.ValueStringPointer(),
			Prefix:       m.Prefix.ValueString(),
		}
		if !m.AllowedTools.IsNull() {
			tools := []string{}
			diags.Append(m.AllowedTools.ElementsAs(ctx, &tools, false)...)
			out[i].AllowedTools = tools
		}
	}
	return out, diags
}

// agentStateAfterWrite is the state after a create or update: the API's
// computed values, with the configured values the plan promised, since
// Terraform requires those to come back exactly as planned.
func agentStateAfterWrite(ctx context.Context, plan agentFields, a *contract.Agent) (agentFields, diag.Diagnostics) {
	state, diags := agentFieldsOf(ctx, a)
	if diags.HasError() {
		return state, diags
	}
	state.Name, state.Description = plan.Name, plan.Description

	var planned, got []assignmentModel
	diags.Append(plan.Assignments.ElementsAs(ctx, &planned, false)...)
	diags.Append(state.Assignments.ElementsAs(ctx, &got, false)...)
	if diags.HasError() || len(planned) != len(got) {
		// The API's answer is what it holds; Terraform reports the mismatch.
		return state, diags
	}
	for i := range got {
		got[i].ConnectionID, got[i].ServerID = planned[i].ConnectionID, planned[i].ServerID
		if !planned[i].Prefix.IsUnknown() {
			got[i].Prefix = planned[i].Prefix
		}
		// An empty set and null differ (no tools versus all of them): the
		// plan's stands only where the API agrees on which it is.
		if got[i].AllowedTools.IsNull() == planned[i].AllowedTools.IsNull() {
			got[i].AllowedTools = planned[i].AllowedTools
		}
	}
	list, d := types.ListValueFrom(ctx, assignmentType, got)
	diags.Append(d...)
	state.Assignments = list
	return state, diags
}

// addAgentWriteError reports a failed create or update. A clash is either
// the agent's name or two assignments' prefixes; the API's message says
// which, and the diagnostic points at it.
func addAgentWriteError(diags *diag.Diagnostics, c *client.Client, action string, err error) {
	if errors.Is(err, client.ErrConflict) && strings.Contains(strings.ToLower(apiMessage(err)), "prefix") {
		diags.AddAttributeError(path.Root("assignment"), "Duplicate assignment prefix", fmt.Sprintf(
			"Could not %s: %s.\n\nPrefixes are unique within an agent, and an assignment without prefix takes its "+
				"record's name. Set prefix on one of the clashing assignments.", action, apiMessage(err)))
		return
	}
	agentRecord.addWriteError(diags, c, action, err)
}
