package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var _ importableResource = (*agentTokenResource)(nil)

// NewAgentTokenResource returns the mcp_agent_token resource.
func NewAgentTokenResource() resource.Resource {
	return &agentTokenResource{recordResource{rec: agentTokenRecord}}
}

// agentTokenResource has its own ImportState: a token is imported as
// <agent_id>/<token_id>.
type agentTokenResource struct {
	recordResource
}

type agentTokenModel struct {
	ID        types.String `tfsdk:"id"`
	AgentID   types.String `tfsdk:"agent_id"`
	Name      types.String `tfsdk:"name"`
	ExpiresAt types.String `tfsdk:"expires_at"`
	Token     types.String `tfsdk:"token"`
	CreatedAt types.String `tfsdk:"created_at"`
}

// agentTokenRecord is how diagnostics name agent tokens.
var agentTokenRecord = record{
	kind: "agent token", noun: "agent token", typeName: "mcp_agent_token",
	nameScope: "within an agent", exampleID: "<agent-uuid>/<token-uuid>",
}

func (r *agentTokenResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	stable := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A token an agent (`mcp_agent`) authenticates to its `gateway_url` with, sent as " +
			"`Authorization: Bearer <token>`. The API shows the token only once, in the answer to its creation, and " +
			"keeps only a hash; so the provider keeps the `token` in the Terraform state, which must therefore be " +
			"protected like the token itself (an encrypted remote backend). Pass it on through outputs marked " +
			"`sensitive = true`, or straight into a secret store. Nothing can be changed in place: any change " +
			"issues a new token and revokes the old one, and destroying the resource revokes the token.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The token's UUID, assigned by the API; not the secret. Import with `<agent_id>/<id>`.",
				PlanModifiers:       stable,
			},
			"agent_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "UUID of the agent the token is for, as in `mcp_agent.<name>.id`. Changing it issues a new token.",
				Validators:          []validator.String{validAgentID},
				PlanModifiers:       replace,
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "What the token is for, such as `ci` or `laptop`, 1–200 characters; shown in the " +
					"token list and the audit events. Changing it issues a new token.",
				Validators:    []validator.String{validName},
				PlanModifiers: replace,
			},
			"expires_at": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "When the gateway stops accepting the token, an RFC 3339 timestamp such as " +
					"`2027-01-31T00:00:00Z`. Without it the token is valid until revoked. Changing it issues a new token; " +
					"an expired token stays in state (and the list) until it is replaced or destroyed. Another spelling of the " +
					"same instant changes nothing.",
				Validators: []validator.String{validExpiresAt},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIf(
					func(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
						// After an import state holds the API's spelling of the
						// time; the configured one of the same instant is no change.
						resp.RequiresReplace = !sameInstant(req.StateValue, req.PlanValue)
					},
					"Changing it to another instant issues a new token.",
					"Changing it to another instant issues a new token.",
				)},
			},
			"token": schema.StringAttribute{
				Computed:  true,
				Sensitive: true,
				MarkdownDescription: "The token, starting with `" + contract.AgentTokenPrefix + "`. Known only from the " +
					"apply that creates it, and kept in state from then on (the API cannot show it again); null after " +
					"`terraform import`, which cannot recover it.",
				PlanModifiers: stable,
			},
			"created_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the token was issued, RFC 3339 in UTC.",
				PlanModifiers:       stable,
			},
		},
	}
}

func (r *agentTokenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan agentTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	agentID := plan.AgentID.ValueString()
	body := contract.CreateAgentTokenRequest{Name: plan.Name.ValueString()}
	if !plan.ExpiresAt.IsNull() {
		// Validated at plan time.
		t, err := time.Parse(time.RFC3339Nano, plan.ExpiresAt.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("expires_at"), "Invalid expires_at", err.Error())
			return
		}
		body.ExpiresAt = new(contract.NewTime(t))
	}
	tok, err := r.client.CreateAgentToken(ctx, agentID, body)
	if err != nil {
		action := fmt.Sprintf("create token %q for agent %s", body.Name, agentID)
		if errors.Is(err, client.ErrNotFound) {
			resp.Diagnostics.AddAttributeError(path.Root("agent_id"), "Agent not found", fmt.Sprintf(
				"Could not %s: %s.\n\nCheck agent_id: it must be the id of an agent of the provider's tenant, as in "+
					"mcp_agent.<name>.id.", action, apiMessage(err)))
			return
		}
		agentTokenRecord.addWriteError(&resp.Diagnostics, r.client, action, err)
		return
	}
	if tok.Token == nil || !strings.HasPrefix(*tok.Token, contract.AgentTokenPrefix) {
		// Without it the token is useless, and the API will never show it again.
		resp.Diagnostics.AddError("MCP API returned no agent token", fmt.Sprintf(
			"The API created token %s for agent %s but its answer holds no token starting with %q. The token "+
				"is saved in state so that destroying it revokes it; replace it (terraform apply -replace) to get "+
				"a usable one, and check that the endpoint %s is the MCP API.",
			tok.ID, agentID, contract.AgentTokenPrefix, r.client.Endpoint()))
	}
	tflog.Debug(ctx, "created agent token", map[string]any{"agent_id": agentID, "id": tok.ID})
	state := plan
	state.ID = types.StringValue(tok.ID)
	state.Token = types.StringPointerValue(tok.Token)
	state.CreatedAt = types.StringValue(tok.CreatedAt.String())
	state.ExpiresAt = expiresAtValue(plan.ExpiresAt, tok.ExpiresAt)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *agentTokenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state agentTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	agentID, id := state.AgentID.ValueString(), state.ID.ValueString()
	tokens, err := r.client.ListAllAgentTokens(ctx, agentID, client.AgentTokenListOptions{})
	if errors.Is(err, client.ErrNotFound) {
		// The agent is gone, and its tokens with it.
		tflog.Warn(ctx, "agent of the token no longer exists; removing the token from state", map[string]any{"agent_id": agentID, "id": id})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		agentTokenRecord.addError(&resp.Diagnostics, r.client, fmt.Sprintf("read the tokens of agent %s", agentID), err)
		return
	}
	for _, t := range tokens {
		if t.ID != id {
			continue
		}
		// The token's value is never listed: state keeps the one from create.
		state.Name = types.StringValue(t.Name)
		state.CreatedAt = types.StringValue(t.CreatedAt.String())
		state.ExpiresAt = expiresAtValue(state.ExpiresAt, t.ExpiresAt)
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
		return
	}
	// Revoked outside Terraform: dropping it from state makes the plan issue a new one.
	tflog.Warn(ctx, "agent token no longer exists; removing it from state", map[string]any{"agent_id": agentID, "id": id})
	resp.State.RemoveResource(ctx)
}

// Update changes nothing at the API: every argument requires replacement,
// except a new spelling of the same expires_at (after an import), which is
// only taken into state.
func (r *agentTokenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan agentTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *agentTokenResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state agentTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.RevokeAgentToken(ctx, state.AgentID.ValueString(), state.ID.ValueString())
	if errors.Is(err, client.ErrNotFound) {
		// Already revoked, or its agent deleted: either way it is refused.
		return
	}
	if err != nil {
		agentTokenRecord.addError(&resp.Diagnostics, r.client, fmt.Sprintf("revoke token %q (%s) of agent %s",
			state.Name.ValueString(), state.ID.ValueString(), state.AgentID.ValueString()), err)
	}
}

// ImportState takes "<agent_id>/<token_id>"; the token's value cannot be
// recovered, so it is null in the imported state.
func (r *agentTokenResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	agentID, tokenID, ok := strings.Cut(req.ID, "/")
	if !ok || checkAgentID(agentID) != nil || checkUUID("a token id", tokenID) != nil {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf(
			"The import ID must be <agent_id>/<token_id>, two UUIDs separated by a slash, got %q. Import an existing "+
				"agent token with: terraform import mcp_agent_token.example %s. The ids are in the agent's token list "+
				"(GET /api/agents/<agent_id>/tokens).", req.ID, agentTokenRecord.exampleID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("agent_id"), agentID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), tokenID)...)
}

// expiresAtValue is what state holds for expires_at: the configured text
// while it means the same instant as the API's (which formats it its own
// way), else the API's.
func expiresAtValue(prior types.String, got *contract.Time) types.String {
	if got == nil {
		return types.StringNull()
	}
	if !prior.IsNull() && !prior.IsUnknown() {
		if sameInstant(prior, types.StringValue(got.String())) {
			return prior
		}
	}
	return types.StringValue(got.String())
}

// sameInstant reports whether a and b are RFC 3339 texts of the same
// instant; values that are not (null, unknown, malformed) are compared as
// they are.
func sameInstant(a, b types.String) bool {
	if a.IsNull() || a.IsUnknown() || b.IsNull() || b.IsUnknown() {
		return a.Equal(b)
	}
	ta, errA := time.Parse(time.RFC3339Nano, a.ValueString())
	tb, errB := time.Parse(time.RFC3339Nano, b.ValueString())
	if errA != nil || errB != nil {
		return a.Equal(b)
	}
	return ta.Equal(tb)
}
