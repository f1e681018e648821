package provider

import (
	"context"
	"fmt"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var _ validatedResource = (*connectionResource)(nil)

// NewConnectionResource returns the mcp_connection resource.
func NewConnectionResource() resource.Resource {
	return &connectionResource{recordResource{rec: connectionRecord, remove: (*client.Client).DeleteConnection}}
}

type connectionResource struct {
	recordResource
}

type connectionResourceModel struct {
	connectionFields
	bearerTokenFields
	upstreamAuthFields
	CheckOnApply types.Bool `tfsdk:"check_on_apply"`
}

func (r *connectionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	authTypes := contract.Strings(contract.AuthTypes)

	resp.Schema = schema.Schema{
		MarkdownDescription: "An MCP connection: an external MCP server that your AI agents can call, registered with " +
			"the MCP connections API together with the credentials the API uses to reach it.",
		Attributes: map[string]schema.Attribute{
			"tenant_id": stableComputed(descConnectionTenantID),
			"server_url": schema.StringAttribute{
				Required: true,
				MarkdownDescription: descConnectionURL + " Must not embed credentials; use `auth_type = \"bearer\"` and a token instead. " +
					"Changing it updates the connection in place and resets `status` to `unknown` until the next health check.",
				Validators: []validator.String{validServerURL},
			},
			"auth_type": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(string(contract.AuthNone)),
				MarkdownDescription: descConnectionAuthType + " With `bearer`, set `bearer_token_wo` (with `bearer_token_wo_version`) " +
					"or `bearer_token`; with `oauth2`, set `oauth2`. Defaults to `none`.",
				Validators: []validator.String{stringvalidator.OneOf(authTypes...)},
			},
			"check_on_apply": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "Run the API's health check (the MCP handshake) right after creating the connection " +
					"and after changing `server_url`, `auth_type`, the token, the headers, `oauth2` or `tls`, so the applied state holds the real " +
					"`status`, `instructions` and `last_error`. A failing check does not fail the apply: it shows as " +
					"`status = \"error\"` with the reason in `last_error`. Set to `false` when you register MCP servers " +
					"before they exist; the API's scheduler checks them later and `terraform refresh` picks that up. " +
					"Defaults to `true`.",
			},
			// These change by themselves (health checks), so they get no
			// UseStateForUnknown: a stale planned value would make apply
			// report an inconsistent result.
			"instructions":         resourceComputed.str(descConnectionInstructions),
			"last_health_check_at": resourceComputed.str(descConnectionLastCheck),
		},
	}
	maps.Copy(resp.Schema.Attributes, r.rec.resourceAttributes(connectionDescs))
	maps.Copy(resp.Schema.Attributes, checkStateResourceAttributes(descConnectionStatus, descConnectionLastError))
	maps.Copy(resp.Schema.Attributes, bearerToken.stringAttributes(writeOnlyDocs{
		stored: "Token the API sends to the MCP server when `auth_type` is `bearer`.",
		storedMore: "The API never returns the token, so a token changed outside Terraform is not detected: " +
			"change it here to send it again.",
		writeOnly: "Write-only token the API sends to the MCP server when `auth_type` is `bearer`: it is sent to " +
			"the API but never stored in the plan or state.",
	}, validToken))
	maps.Copy(resp.Schema.Attributes, upstreamAuthResourceAttributes("auth_type"))
}

// ValidateConfig checks the auth_type/token combination at plan time. An
// unknown value may turn out either way, so it never fails the check.
func (r *connectionResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg connectionResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	authType := cfg.AuthType
	if authType.IsNull() {
		authType = types.StringValue(string(contract.AuthNone)) // the default
	}
	validateUpstreamAuth(ctx, cfg.upstreamAuthFields, authType, &resp.Diagnostics)
	if cfg.AuthType.IsUnknown() {
		return
	}
	token := cfg.token()
	mayHaveToken := !token.stored.IsNull() || !token.writeOnly.IsNull()

	switch contract.AuthType(cfg.AuthType.ValueString()) {
	case contract.AuthBearer:
		if !mayHaveToken {
			resp.Diagnostics.AddAttributeError(path.Root("auth_type"), "Missing bearer token",
				"auth_type = \"bearer\" needs a token for the MCP server: set bearer_token_wo together with "+
					"bearer_token_wo_version (Terraform 1.11 and later; never stored in state), or bearer_token. "+
					"If the server needs no credentials, set auth_type = \"none\".")
		}
	case contract.AuthNone, contract.AuthOAuth2, "": // null means the default, none
		for _, t := range namedValues(bearerToken, token) {
			if known(t.value) {
				resp.Diagnostics.AddAttributeError(path.Root(t.name), "Bearer token without bearer authentication",
					t.name+" is only sent to the MCP server when auth_type = \"bearer\", but auth_type is \""+
						authType.ValueString()+"\". Set auth_type = \"bearer\", or remove "+t.name+".")
			}
		}
	}
}

func (r *connectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config connectionResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	// A write-only value is null in the plan; only the config holds it.
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}

	body := contract.CreateConnectionRequest{
		Name:      plan.Name.ValueString(),
		ServerURL: plan.ServerURL.ValueString(),
		AuthType:  contract.AuthType(plan.AuthType.ValueString()),
	}
	// Sent whatever auth_type says, so a token with "none" that slipped past
	// validation as an unknown value is refused by the API, not dropped.
	body.BearerToken = config.configuredToken()
	var diags diag.Diagnostics
	body.UpstreamAuthRequest, diags = createRequest(ctx, plan.upstreamAuthFields, config.upstreamAuthFields)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	conn, err := r.client.CreateConnection(ctx, body)
	if err != nil {
		connectionRecord.addWriteError(&resp.Diagnostics, r.client, fmt.Sprintf("create MCP connection %q", body.Name), err)
		return
	}
	tflog.Debug(ctx, "created MCP connection", map[string]any{"id": conn.ID})
	if plan.CheckOnApply.ValueBool() {
		conn = r.healthCheck(ctx, &resp.Diagnostics, conn)
	}
	// The API refuses an approval on create (the record has had no
	// tools_hash yet), so it is set once the check has read one.
	if !plan.ApprovedToolsHash.IsNull() {
		conn = r.approve(ctx, &resp.Diagnostics, conn, plan.ApprovedToolsHash)
	}

	resp.Diagnostics.Append(resp.State.Set(ctx, connectionStateAfterWrite(plan, conn))...)
}

func (r *connectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readRecord(ctx, &r.recordResource, req, resp, (*client.Client).GetConnection,
		func(state *connectionResourceModel, conn *contract.Connection) diag.Diagnostics {
			// Everything the API returns replaces state, so edits made outside
			// Terraform show up as a diff. The tokens are never returned and keep
			// their state values.
			state.connectionFields = connectionFieldsOf(conn)
			state.BearerTokenWO = types.StringNull()
			diags := state.refresh(ctx, conn.UpstreamAuth)
			if state.CheckOnApply.IsNull() {
				// after an import: the schema default, so the next plan shows no change
				state.CheckOnApply = types.BoolValue(true)
			}
			return diags
		})
}

func (r *connectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config connectionResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()

	body, changed, diags := connectionUpdateRequest(ctx, plan, state, config)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Unchanged when only Terraform-side values changed (e.g.
	// bearer_token_wo_version removed).
	conn, err := updateOrGet(ctx, r.client, id, body, changed, (*client.Client).UpdateConnection, (*client.Client).GetConnection)
	if err != nil {
		connectionRecord.addWriteError(&resp.Diagnostics, r.client, fmt.Sprintf("update MCP connection %q (%s)", plan.Name.ValueString(), id), err)
		return
	}
	// A new endpoint or credential starts as "unknown"; checking it now puts
	// its real status in the applied state. So does turning check_on_apply on.
	endpointChanged := body.ServerURL != nil || body.AuthType != nil || body.BearerToken != nil || setsAny(body.UpstreamAuthRequest)
	turnedOn := !state.CheckOnApply.ValueBool() && plan.CheckOnApply.ValueBool()
	if plan.CheckOnApply.ValueBool() && (endpointChanged || turnedOn) {
		conn = r.healthCheck(ctx, &resp.Diagnostics, conn)
	}
	// After the check, so that approving the tools of a new endpoint works
	// in the same apply that moves to it.
	if !plan.ApprovedToolsHash.Equal(state.ApprovedToolsHash) {
		conn = r.approve(ctx, &resp.Diagnostics, conn, plan.ApprovedToolsHash)
	}

	resp.Diagnostics.Append(resp.State.Set(ctx, connectionStateAfterWrite(plan, conn))...)
}

// healthCheck runs the API's health check of conn and returns the checked
// connection. The connection is already written, so a check the API cannot
// run is a warning, never a failed apply: the unchecked conn is returned.
func (r *connectionResource) healthCheck(ctx context.Context, diags *diag.Diagnostics, conn *contract.Connection) *contract.Connection {
	checked, err := r.client.CheckConnection(ctx, conn.ID)
	if err != nil {
		diags.AddWarning("Health check of the MCP connection did not run",
			fmt.Sprintf("The connection %q (%s) was saved, but the API could not run its health check: %v. "+
				"Its status stays %q until the API's scheduler checks it; run terraform refresh later to read the result, "+
				"or set check_on_apply = false to skip this step.", conn.Name, conn.ID, err, conn.Status))
		return conn
	}
	tflog.Debug(ctx, "checked MCP connection", map[string]any{"id": checked.ID, "status": string(checked.Status)})
	return checked
}

// approve sets the connection's approved_tools_hash to hash, or removes the
// approval when hash is null, and returns the connection as the API then
// has it. A refusal is an error diagnostic, and the returned connection is
// conn unchanged, so that connectionStateAfterWrite records what the API
// holds rather than the planned approval; so is an approval the API did
// not keep.
func (r *connectionResource) approve(ctx context.Context, diags *diag.Diagnostics, conn *contract.Connection, hash types.String) *contract.Connection {
	approved, err := r.client.UpdateConnection(ctx, conn.ID, contract.UpdateConnectionRequest{ApprovedToolsHash: new(hash.ValueString())})
	if err != nil {
		connectionRecord.addApprovalError(diags, r.client, conn.Name, conn.ID, hash.ValueString(), conn.ToolsHash, err)
		return conn
	}
	connectionRecord.checkApprovalKept(diags, r.client, conn.Name, conn.ID, hash.ValueString(), approved.ApprovedToolsHash)
	tflog.Debug(ctx, "approved the tools of MCP connection", map[string]any{"id": conn.ID, "approved_tools_hash": hash.ValueString()})
	return approved
}

// connectionUpdateRequest holds only what changed between state and plan, so an
// unchanged endpoint or credential does not reset the connection's status.
func connectionUpdateRequest(ctx context.Context, plan, state, config connectionResourceModel) (contract.UpdateConnectionRequest, bool, diag.Diagnostics) {
	var body contract.UpdateConnectionRequest
	body.Name = changedString(plan.Name, state.Name)
	body.ServerURL = changedString(plan.ServerURL, state.ServerURL)
	authChanged := !plan.AuthType.Equal(state.AuthType)
	if authChanged {
		body.AuthType = new(contract.AuthType(plan.AuthType.ValueString()))
	}
	// A switch of auth_type sends the token too: the API drops it on "none"
	// and needs one again on "bearer".
	if authChanged || plan.token().changedFrom(state.token()) {
		body.BearerToken = config.configuredToken()
	}
	var diags diag.Diagnostics
	body.UpstreamAuthRequest, diags = updateRequest(ctx, plan.upstreamAuthFields, state.upstreamAuthFields, config.upstreamAuthFields, authChanged)
	someChange := body.Name != nil || body.ServerURL != nil || body.AuthType != nil || body.BearerToken != nil ||
		setsAny(body.UpstreamAuthRequest)
	return body, someChange, diags
}

// connectionStateAfterWrite is the state after a create or update: the API's computed
// values, with the configured values the plan promised and no write-only secret.
func connectionStateAfterWrite(plan connectionResourceModel, conn *contract.Connection) connectionResourceModel {
	state := plan
	fields := connectionFieldsOf(conn)
	// Terraform requires configured values to come back exactly as planned.
	fields.Name, fields.ServerURL, fields.AuthType = plan.Name, plan.ServerURL, plan.AuthType
	// approved_tools_hash stays the API's: the planned one once approve
	// succeeded, the one before when the API refused it.
	state.connectionFields = fields
	state.BearerTokenWO = types.StringNull()
	state.upstreamAuthFields = plan.afterWrite(conn.UpstreamAuth)
	return state
}
