package main

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ resource.Resource = (*connectionResource)(nil)

// tenantID stands in for the tenant the API would report.
const tenantID = "00000000-0000-4000-8000-000000000001"

// instructions is as long as the demo MCP server's, so state sizes match
// those of mcp_connection after a passing health check.
const instructions = "Use this server to look up order status, shipping details and return eligibility.\n" +
	"Always pass the order_id as a string, exactly as the customer gave it.\n" +
	"Orders older than 90 days are archived: say so rather than guessing."

type connectionResource struct{}

type connectionModel struct {
	ID                   types.String `tfsdk:"id"`
	TenantID             types.String `tfsdk:"tenant_id"`
	Name                 types.String `tfsdk:"name"`
	ServerURL            types.String `tfsdk:"server_url"`
	AuthType             types.String `tfsdk:"auth_type"`
	BearerToken          types.String `tfsdk:"bearer_token"`
	BearerTokenWO        types.String `tfsdk:"bearer_token_wo"`
	BearerTokenWOVersion types.Int64  `tfsdk:"bearer_token_wo_version"`
	CheckOnApply         types.Bool   `tfsdk:"check_on_apply"`
	Status               types.String `tfsdk:"status"`
	Instructions         types.String `tfsdk:"instructions"`
	LastError            types.String `tfsdk:"last_error"`
	LastHealthCheckAt    types.String `tfsdk:"last_health_check_at"`
	CreatedAt            types.String `tfsdk:"created_at"`
	UpdatedAt            types.String `tfsdk:"updated_at"`
}

func newConnectionResource() resource.Resource {
	return &connectionResource{}
}

func (r *connectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_connection"
}

// Schema mirrors mcp_connection attribute for attribute: the same types,
// flags, defaults and plan modifiers, so Terraform plans the same values.
// Validators are left out; they are the real provider's own work.
func (r *connectionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	stable := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		Description: "mcp_connection's schema without the API behind it.",
		Attributes: map[string]schema.Attribute{
			"id":                      schema.StringAttribute{Computed: true, PlanModifiers: stable},
			"tenant_id":               schema.StringAttribute{Computed: true, PlanModifiers: stable},
			"name":                    schema.StringAttribute{Required: true},
			"server_url":              schema.StringAttribute{Required: true},
			"auth_type":               schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("none")},
			"bearer_token":            schema.StringAttribute{Optional: true, Sensitive: true},
			"bearer_token_wo":         schema.StringAttribute{Optional: true, Sensitive: true, WriteOnly: true},
			"bearer_token_wo_version": schema.Int64Attribute{Optional: true},
			"check_on_apply":          schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true)},
			"status":                  schema.StringAttribute{Computed: true},
			"instructions":            schema.StringAttribute{Computed: true},
			"last_error":              schema.StringAttribute{Computed: true},
			"last_health_check_at":    schema.StringAttribute{Computed: true},
			"created_at":              schema.StringAttribute{Computed: true, PlanModifiers: stable},
			"updated_at":              schema.StringAttribute{Computed: true},
		},
	}
}

// Create fills the computed attributes as a passing health check would.
func (r *connectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m connectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	now := types.StringValue(time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
	m.ID = types.StringValue(uuid.NewString())
	m.TenantID = types.StringValue(tenantID)
	m.Status = types.StringValue("active")
	m.Instructions = types.StringValue(instructions)
	m.LastError = types.StringNull()
	m.LastHealthCheckAt, m.CreatedAt, m.UpdatedAt = now, now, now
	m.BearerTokenWO = types.StringNull()
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// Read decodes and re-encodes the state, the framework work every Read does.
func (r *connectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m connectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// Update returns the plan, with the computed values that mcp_connection
// leaves unknown on update (no UseStateForUnknown) taken from state.
func (r *connectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state connectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.Status, plan.Instructions, plan.LastError = state.Status, state.Instructions, state.LastError
	plan.LastHealthCheckAt = state.LastHealthCheckAt
	plan.UpdatedAt = types.StringValue(time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
	plan.BearerTokenWO = types.StringNull()
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Delete has nothing to remove.
func (r *connectionResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}
