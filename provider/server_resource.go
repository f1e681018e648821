package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	fwattr "github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var _ validatedResource = (*serverResource)(nil)

// NewServerResource returns the mcp_server resource.
func NewServerResource() resource.Resource {
	return &serverResource{recordResource{rec: serverRecord, remove: (*client.Client).DeleteServer}}
}

type serverResource struct {
	recordResource
}

type serverResourceModel struct {
	serverFields
	bearerTokenFields
	upstreamAuthFields
	ConnectOnApply types.Bool `tfsdk:"connect_on_apply"`
}

func (r *serverResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	transports := contract.Strings(contract.TransportTypes)
	connections := contract.Strings(contract.ConnectionTypes)

	resp.Schema = schema.Schema{
		MarkdownDescription: "An MCP server registered in a project (`mcp_project`): reached over Streamable HTTP, " +
			"the legacy HTTP+SSE transport, or started by the API as a `stdio` child process. After it is created, and " +
			"after a change of how it is reached, Terraform has the API connect to it at once (unless " +
			"`connect_on_apply = false`), so the applied state holds the real `status`, `capabilities` and " +
			"`server_implementation`.",
		Attributes: map[string]schema.Attribute{
			"project_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: descServerProjectID + " Changing it moves the server to the other project in place.",
				Validators:          []validator.String{validProjectID},
			},
			"transport_type": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(string(contract.TransportHTTP)),
				MarkdownDescription: descServerTransport + " Defaults to `http`. `http` and `sse` need `url`; `stdio` needs " +
					"`command`, and the API runs it only when the program is on the operator's allowlist " +
					"(`MCP_API_STDIO_COMMANDS`, empty by default).",
				Validators: []validator.String{stringvalidator.OneOf(transports...)},
			},
			"connection_type": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(string(contract.ConnectionDirect)),
				MarkdownDescription: descServerConnectionType + " Defaults to `direct`.",
				Validators:          []validator.String{stringvalidator.OneOf(connections...)},
			},
			"url": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: descServerURL + " Required for `http` and `sse`, not allowed for `stdio`. Must not " +
					"embed credentials; use a bearer token instead.",
				Validators: []validator.String{validServerURL},
			},
			"command": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: descServerCommand + " Required for `stdio`, not allowed otherwise. Never a path or a " +
					"shell line: put arguments in `args`.",
				Validators: []validator.String{validCommand},
			},
			"args": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: descServerArgs + " Not allowed for `http` and `sse`.",
				Validators:          []validator.List{validArgs{}},
			},
			"auth_type": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: descServerAuthType + " Defaults to `bearer` when a bearer token is set, else `none`. " +
					"With `oauth2`, set `oauth2`.",
				Validators:    []validator.String{stringvalidator.OneOf(contract.Strings(contract.AuthTypes)...)},
				PlanModifiers: []planmodifier.String{serverAuthTypeDefault{}},
			},
			"connect_on_apply": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "Whether Terraform has the API connect to the server (the MCP handshake) right " +
					"after creating it and after a change of `transport_type`, `url`, `command`, `args`, `auth_type`, " +
					"the token, the headers, `oauth2` or `tls`, " +
					"so that the applied state holds a definite `status` (`connected` or `error`). Defaults to `true`. " +
					"Set `false` to skip the wait, for example for a server that is not running yet; `status` is then " +
					"`connecting` until the API's background probe ends. A failed handshake never fails the apply: " +
					"it shows as `status = \"error\"` with `last_error`.",
			},
			// These change by themselves (probes), so they get no
			// UseStateForUnknown: a stale planned value would make apply
			// report an inconsistent result.
			"last_connected_at": resourceComputed.str(descServerLastConnectedAt),
			"gateway_url": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: descServerGatewayURL,
				PlanModifiers:       []planmodifier.String{gatewayURLForConnectionType{}},
			},
		},
	}
	maps.Copy(resp.Schema.Attributes, r.rec.resourceAttributes(serverDescs))
	maps.Copy(resp.Schema.Attributes, checkStateResourceAttributes(descServerStatus, descServerLastError))
	maps.Copy(resp.Schema.Attributes, bearerToken.stringAttributes(writeOnlyDocs{
		stored: "Token the API sends as `Authorization: Bearer <token>` to an `http` or `sse` server.",
		storedMore: "The API never returns the token, so a token changed outside Terraform is not detected. " +
			"Removing it removes the token from the server. Not allowed for `stdio`.",
		writeOnly: "Write-only token the API sends as `Authorization: Bearer <token>` to an `http` or `sse` server: " +
			"sent to the API but never stored in the plan or state.",
		writeOnlyMore: "Not allowed for `stdio`.",
	}, validToken))
	maps.Copy(resp.Schema.Attributes, upstreamAuthResourceAttributes("auth_type", "transport_type"))
}

// serverAuthTypeDefault plans an unset auth_type as the API defaults it:
// bearer when the configuration sets a bearer token, else none.
type serverAuthTypeDefault struct{}

var _ planmodifier.String = serverAuthTypeDefault{}

func (serverAuthTypeDefault) Description(context.Context) string {
	return "bearer when a bearer token is set, else none"
}

func (m serverAuthTypeDefault) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (serverAuthTypeDefault) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.Plan.Raw.IsNull() || !req.ConfigValue.IsNull() {
		return
	}
	var cfg bearerTokenFields
	for name, v := range map[string]*types.String{bearerToken.name: &cfg.BearerToken, bearerToken.woName(): &cfg.BearerTokenWO} {
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), v)...)
	}
	if cfg.BearerToken.IsUnknown() || cfg.BearerTokenWO.IsUnknown() {
		return // unknown until apply, like the token
	}
	resp.PlanValue = types.StringValue(string(defaultServerAuthType(cfg)))
}

// defaultServerAuthType is the auth_type the API gives a server whose
// configuration sets none.
func defaultServerAuthType(cfg bearerTokenFields) contract.AuthType {
	if !cfg.BearerToken.IsNull() || !cfg.BearerTokenWO.IsNull() {
		return contract.AuthBearer
	}
	return contract.AuthNone
}

// ValidateConfig checks the attributes each transport needs and forbids, at
// plan time. An unknown value may turn out either way, so it never fails
// the check; Terraform validates again at apply, when it is known.
func (r *serverResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg serverResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() || cfg.TransportType.IsUnknown() {
		return
	}
	transport := contract.TransportType(cfg.TransportType.ValueString())
	if cfg.TransportType.IsNull() {
		transport = contract.TransportHTTP // the default
	}
	set := func(v interface{ IsNull() bool }) bool { return !v.IsNull() }
	authType := cfg.AuthType
	if authType.IsNull() {
		authType = types.StringValue(string(defaultServerAuthType(cfg.bearerTokenFields)))
	}

	switch transport {
	case contract.TransportStdio:
		if set(cfg.URL) {
			resp.Diagnostics.AddAttributeError(path.Root("url"), "url not allowed for a stdio server",
				"A stdio server is started from command and args, not reached at a URL. Remove url, or set "+
					"transport_type = \"http\" (or \"sse\") and remove command and args.")
		}
		if cfg.Command.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("command"), "Missing command for a stdio server",
				"transport_type = \"stdio\" needs command: the program the API starts, a bare name such as \"npx\" "+
					"that is on the API server's allowlist (MCP_API_STDIO_COMMANDS), with its arguments in args.")
		}
		for _, t := range namedValues(bearerToken, cfg.token()) {
			if set(t.value) {
				resp.Diagnostics.AddAttributeError(path.Root(t.name), "Bearer token not allowed for a stdio server",
					t.name+" is only sent to http and sse servers; a stdio server is a local process. Remove "+t.name+".")
			}
		}
		for name, v := range map[string]fwattr.Value{"auth_type": cfg.AuthType, headers.woName(): cfg.HeadersWO, "oauth2": cfg.OAuth2, "tls": cfg.TLS} {
			if set(v) && (name != "auth_type" || cfg.AuthType.ValueString() != string(contract.AuthNone)) {
				resp.Diagnostics.AddAttributeError(path.Root(name), name+" not allowed for a stdio server",
					name+" configures how the API authenticates to an http or sse server; a stdio server is a local "+
						"process the API starts. Remove "+name+".")
			}
		}
	case contract.TransportHTTP, contract.TransportSSE:
		if cfg.URL.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("url"), "Missing url",
				fmt.Sprintf("transport_type = %q needs url: the server's MCP endpoint, such as https://mcp.example.com/mcp. "+
					"For a server the API starts as a local process, set transport_type = \"stdio\" and command instead.", transport))
		}
		for _, a := range []struct {
			name  string
			isSet bool
		}{{"command", set(cfg.Command)}, {"args", set(cfg.Args)}} {
			if a.isSet {
				resp.Diagnostics.AddAttributeError(path.Root(a.name), a.name+" not allowed for an "+string(transport)+" server",
					fmt.Sprintf("%s is only used when transport_type = \"stdio\", but transport_type is %q. Remove %s, "+
						"or set transport_type = \"stdio\" and remove url.", a.name, transport, a.name))
			}
		}
		validateUpstreamAuth(ctx, cfg.upstreamAuthFields, authType, &resp.Diagnostics)
		validateServerToken(cfg, authType, &resp.Diagnostics)
	}
}

func (r *serverResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config serverResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	// A write-only value is null in the plan; only the config holds it.
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}

	body := contract.CreateServerRequest{
		ProjectID:      plan.ProjectID.ValueString(),
		Name:           plan.Name.ValueString(),
		Description:    plan.Description.ValueStringPointer(),
		URL:            plan.URL.ValueStringPointer(),
		TransportType:  contract.TransportType(plan.TransportType.ValueString()),
		ConnectionType: contract.ConnectionType(plan.ConnectionType.ValueString()),
		Command:        plan.Command.ValueStringPointer(),
		BearerToken:    config.configuredToken(),
		// Only a configured one: the API's default is the planned one.
		AuthType: contract.AuthType(config.AuthType.ValueString()),
	}
	var diags diag.Diagnostics
	body.UpstreamAuthRequest, diags = createRequest(ctx, plan.upstreamAuthFields, config.upstreamAuthFields)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(plan.Args.ElementsAs(ctx, &body.Args, true)...)
	if resp.Diagnostics.HasError() {
		return
	}

	s, err := r.client.CreateServer(ctx, body)
	if err != nil {
		serverRecord.addWriteError(&resp.Diagnostics, r.client, fmt.Sprintf("create MCP server %q", body.Name), err)
		return
	}
	tflog.Debug(ctx, "created MCP server", map[string]any{"id": s.ID, "status": string(s.Status)})
	// Saved before connecting: the server exists whatever the connect does.
	resp.Diagnostics.Append(resp.State.Set(ctx, serverStateAfterWrite(plan, s))...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.ConnectOnApply.ValueBool() {
		if connected := r.connect(ctx, s.ID, body.Name, &resp.Diagnostics); connected != nil {
			s = connected
			resp.Diagnostics.Append(resp.State.Set(ctx, serverStateAfterWrite(plan, s))...)
		}
	}
	// The API refuses an approval on create (the record has had no
	// tools_hash yet), so it is set once the connect has read one.
	if !plan.ApprovedToolsHash.IsNull() && !resp.Diagnostics.HasError() {
		r.approve(ctx, &resp.Diagnostics, &resp.State, plan, s)
	}
}

// approve sets the server's approved_tools_hash to the planned one, or
// removes the approval when it is null, and saves the result in state. A
// refusal is an error diagnostic, and state keeps what the API holds.
func (r *serverResource) approve(ctx context.Context, diags *diag.Diagnostics, state *tfsdk.State, plan serverResourceModel, s *contract.Server) {
	hash := plan.ApprovedToolsHash.ValueString()
	approved, err := r.client.UpdateServer(ctx, s.ID, contract.UpdateServerRequest{ApprovedToolsHash: &hash})
	if err != nil {
		serverRecord.addApprovalError(diags, r.client, s.Name, s.ID, hash, s.ToolsHash, err)
		return
	}
	serverRecord.checkApprovalKept(diags, r.client, s.Name, s.ID, hash, approved.ApprovedToolsHash)
	tflog.Debug(ctx, "approved the tools of MCP server", map[string]any{"id": s.ID, "approved_tools_hash": hash})
	diags.Append(state.Set(ctx, serverStateAfterWrite(plan, approved))...)
}

// connect has the API run the handshake now and returns the server with
// its result, or nil (with a warning) when the call itself failed: the
// write before it succeeded, so the apply must not fail, and the next
// refresh reads whatever status the API's own probe stored.
func (r *serverResource) connect(ctx context.Context, id, name string, diags *diag.Diagnostics) *contract.Server {
	s, err := r.client.ConnectServer(ctx, id)
	if err == nil {
		tflog.Debug(ctx, "connected MCP server", map[string]any{"id": id, "status": string(s.Status)})
		return s
	}
	detail := fmt.Sprintf("The MCP server %q (%s) was saved, but asking the API to connect to it failed: %s. "+
		"Its status stays as the API's background probe leaves it; the next refresh reads it.", name, id, apiMessage(err))
	if errors.Is(err, client.ErrNotFound) {
		if _, getErr := r.client.GetServer(ctx, id); getErr == nil {
			// The server exists, so the connect route itself is missing:
			// an API that runs without a prober.
			detail = fmt.Sprintf("The MCP server %q (%s) was saved, but the API at %s does not offer "+
				"POST /api/mcp/servers/{id}/connect (%s), so its status could not be read back now. "+
				"Set connect_on_apply = false to skip the connect, or ask the API's operator to enable probing.",
				name, id, r.client.Endpoint(), apiMessage(err))
		}
	}
	diags.AddWarning("Could not connect to the MCP server", detail)
	return nil
}

func (r *serverResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readRecord(ctx, &r.recordResource, req, resp, (*client.Client).GetServer,
		func(state *serverResourceModel, s *contract.Server) diag.Diagnostics {
			// Everything the API returns replaces state, so edits made outside
			// Terraform show up as a diff. The tokens are never returned and keep
			// their state values.
			state.serverFields = serverFieldsOf(s, state.Args)
			state.BearerTokenWO = types.StringNull()
			diags := state.refresh(ctx, s.UpstreamAuth)
			if state.ConnectOnApply.IsNull() {
				// After an import: the default, so that the plan stays empty.
				state.ConnectOnApply = types.BoolValue(true)
			}
			return diags
		})
}

func (r *serverResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config serverResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()
	name := plan.Name.ValueString()

	body, endpointChanged, diags := serverUpdateRequest(ctx, plan, state, config)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Unchanged when only Terraform-side values changed (connect_on_apply,
	// a removed bearer_token_wo_version).
	s, err := updateOrGet(ctx, r.client, id, body, body != (contract.UpdateServerRequest{}),
		(*client.Client).UpdateServer, (*client.Client).GetServer)
	if err != nil {
		serverRecord.addWriteError(&resp.Diagnostics, r.client, fmt.Sprintf("update MCP server %q (%s)", name, id), err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, serverStateAfterWrite(plan, s))...)
	if resp.Diagnostics.HasError() {
		return
	}

	// Turning connect_on_apply on asks for a definite status now, too.
	enabled := plan.ConnectOnApply.ValueBool() && !state.ConnectOnApply.ValueBool()
	if plan.ConnectOnApply.ValueBool() && (endpointChanged || enabled) {
		if connected := r.connect(ctx, id, name, &resp.Diagnostics); connected != nil {
			s = connected
			resp.Diagnostics.Append(resp.State.Set(ctx, serverStateAfterWrite(plan, s))...)
		}
	}
	// After the connect, so that approving the tools of a new endpoint
	// works in the same apply that moves to it.
	if !plan.ApprovedToolsHash.Equal(state.ApprovedToolsHash) && !resp.Diagnostics.HasError() {
		r.approve(ctx, &resp.Diagnostics, &resp.State, plan, s)
	}
}

// serverUpdateRequest holds only what changed between state and plan, and
// reports whether how the API reaches the server changed (which calls for a
// new connect). Sending an unchanged endpoint would be harmless (the API
// compares), but a field the target transport forbids would be refused.
func serverUpdateRequest(ctx context.Context, plan, state, config serverResourceModel) (contract.UpdateServerRequest, bool, diag.Diagnostics) {
	var (
		body  contract.UpdateServerRequest
		diags diag.Diagnostics
	)
	body.ProjectID = changedString(plan.ProjectID, state.ProjectID)
	body.Name = changedString(plan.Name, state.Name)
	body.Description = changedDescription(plan.Description, state.Description)
	if !plan.ConnectionType.Equal(state.ConnectionType) {
		body.ConnectionType = new(contract.ConnectionType(plan.ConnectionType.ValueString()))
	}
	transportChanged := !plan.TransportType.Equal(state.TransportType)
	if transportChanged {
		body.TransportType = new(contract.TransportType(plan.TransportType.ValueString()))
	}

	if contract.TransportType(plan.TransportType.ValueString()) == contract.TransportStdio {
		if transportChanged || !plan.Command.Equal(state.Command) {
			body.Command = plan.Command.ValueStringPointer()
		}
		if transportChanged || !plan.Args.Equal(state.Args) {
			var args []string
			diags.Append(plan.Args.ElementsAs(ctx, &args, true)...)
			if args == nil {
				args = []string{} // no args; the API refuses null
			}
			body.Args = &args
		}
		// Switching to stdio drops the token on the API side.
	} else {
		if transportChanged || !plan.URL.Equal(state.URL) {
			body.URL = plan.URL.ValueStringPointer()
		}
		authChanged := !plan.AuthType.Equal(state.AuthType)
		if authChanged {
			body.AuthType = new(contract.AuthType(plan.AuthType.ValueString()))
		}
		// A move away from stdio (which had no token) sends the token too.
		if transportChanged || authChanged || plan.token().changedFrom(state.token()) {
			token := config.configuredToken()
			switch {
			case token != nil:
				body.BearerToken = token
			case !authChanged:
				body.BearerToken = new("") // removes the token
			}
			// A switch of auth_type away from bearer drops the token on the API side.
		}
		var d diag.Diagnostics
		body.UpstreamAuthRequest, d = updateRequest(ctx, plan.upstreamAuthFields, state.upstreamAuthFields, config.upstreamAuthFields,
			authChanged || transportChanged)
		diags.Append(d...)
	}
	endpointChanged := body.TransportType != nil || body.URL != nil || body.Command != nil || body.Args != nil ||
		body.BearerToken != nil || body.AuthType != nil || setsAny(body.UpstreamAuthRequest)
	return body, endpointChanged, diags
}

// serverStateAfterWrite is the state after a create or update: the API's
// computed values, with the configured values the plan promised and no
// write-only secret.
func serverStateAfterWrite(plan serverResourceModel, s *contract.Server) serverResourceModel {
	state := plan
	fields := serverFieldsOf(s, plan.Args)
	// Terraform requires configured values to come back exactly as planned.
	fields.ProjectID, fields.Name, fields.Description = plan.ProjectID, plan.Name, plan.Description
	fields.TransportType, fields.ConnectionType = plan.TransportType, plan.ConnectionType
	fields.URL, fields.Command, fields.Args = plan.URL, plan.Command, plan.Args
	fields.AuthType = plan.AuthType
	// approved_tools_hash stays the API's: the planned one once approve
	// succeeded, the one before it ran or when the API refused it.
	state.serverFields = fields
	state.BearerTokenWO = types.StringNull()
	state.upstreamAuthFields = plan.afterWrite(s.UpstreamAuth)
	return state
}

// validateServerToken ties the bearer token to auth_type, as the API does.
func validateServerToken(cfg serverResourceModel, authType types.String, diags *diag.Diagnostics) {
	if authType.IsUnknown() {
		return
	}
	token := cfg.token()
	switch contract.AuthType(authType.ValueString()) {
	case contract.AuthBearer:
		if token.stored.IsNull() && token.writeOnly.IsNull() {
			diags.AddAttributeError(path.Root("auth_type"), "Missing bearer token",
				"auth_type = \"bearer\" needs a token for the MCP server: set bearer_token_wo together with "+
					"bearer_token_wo_version (Terraform 1.11 and later; never stored in state), or bearer_token. "+
					"If the server needs no credentials, set auth_type = \"none\".")
		}
	default:
		for _, t := range namedValues(bearerToken, token) {
			if known(t.value) {
				diags.AddAttributeError(path.Root(t.name), "Bearer token without bearer authentication",
					t.name+" is only sent to the MCP server when auth_type = \"bearer\", but auth_type is \""+
						authType.ValueString()+"\". Set auth_type = \"bearer\" (or leave it unset), or remove "+t.name+".")
			}
		}
	}
}
