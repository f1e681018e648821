package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	// Renamed: attr is a test helper of this package.
	fwattr "github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// serverFields are the attributes every view of an MCP server shares: the
// resource and the data source.
type serverFields struct {
	recordFields
	ProjectID       types.String `tfsdk:"project_id"`
	Description     types.String `tfsdk:"description"`
	TransportType   types.String `tfsdk:"transport_type"`
	ConnectionType  types.String `tfsdk:"connection_type"`
	URL             types.String `tfsdk:"url"`
	Command         types.String `tfsdk:"command"`
	Args            types.List   `tfsdk:"args"`
	LastConnectedAt types.String `tfsdk:"last_connected_at"`
	GatewayURL      types.String `tfsdk:"gateway_url"`
	AuthType        types.String `tfsdk:"auth_type"`
	checkStateFields
}

// serverFieldsOf converts the API's view of a server. priorArgs is what
// state or configuration held for args: the API answers an empty list for
// a stdio server without arguments, which matches both "args = []" and no
// args at all, so an empty answer keeps whichever of the two was there.
func serverFieldsOf(s *contract.Server, priorArgs types.List) serverFields {
	f := serverFields{
		recordFields:     recordFieldsOf(s.ID, s.Name, s.CreatedAt, s.UpdatedAt),
		ProjectID:        types.StringValue(s.ProjectID),
		Description:      types.StringPointerValue(s.Description),
		TransportType:    types.StringValue(string(s.TransportType)),
		ConnectionType:   types.StringValue(string(s.ConnectionType)),
		URL:              types.StringPointerValue(s.URL),
		Command:          types.StringPointerValue(s.Command),
		Args:             types.ListNull(types.StringType),
		LastConnectedAt:  timeOrNull(s.LastConnectedAt),
		GatewayURL:       types.StringPointerValue(s.GatewayURL),
		AuthType:         types.StringValue(string(s.AuthType)),
		checkStateFields: checkStateFieldsOf(string(s.Status), s.LastError, s.Capabilities, s.ServerImplementation, s.CheckState),
	}
	switch {
	case len(s.Args) > 0:
		elems := make([]fwattr.Value, len(s.Args))
		for i, a := range s.Args {
			elems[i] = types.StringValue(a)
		}
		f.Args = types.ListValueMust(types.StringType, elems)
	case s.Args != nil && !priorArgs.IsNull() && !priorArgs.IsUnknown() && len(priorArgs.Elements()) == 0:
		f.Args = types.ListValueMust(types.StringType, []fwattr.Value{})
	}
	return f
}

// serverView is a server in the data source: its fields and what they show
// of its upstream authentication.
type serverView struct {
	serverFields
	upstreamAuthView
}

// serverViewOf converts the API's view of a server for the data source.
func serverViewOf(s *contract.Server) serverView {
	return serverView{serverFields: serverFieldsOf(s, emptyArgs), upstreamAuthView: upstreamAuthViewOf(s.UpstreamAuth)}
}

// Descriptions shared by the resource and the data source.
const (
	descServerID        = "The server's id, `mcp_` followed by letters and digits, assigned by the API. Pass it to `terraform import` or to the `mcp_server` data source."
	descServerProjectID = "Id of the project (`proj_...`) the server belongs to, as in `mcp_project.<name>.id`."
	descServerName      = "Human-readable name of the server, 1–200 characters, unique within its project."
	descServerDesc      = "Free-text description of the server, up to 2000 characters."
	descServerTransport = "How the API reaches the server: `http` (Streamable HTTP), `sse` (the legacy HTTP+SSE transport) " +
		"or `stdio` (a child process the API starts)."
	descServerConnectionType = "Whether agents reach the server directly (`direct`) or through the proxy (`proxy`)."
	descServerURL            = "The MCP endpoint of an `http` or `sse` server, an absolute `http` or `https` URL such as " +
		"`https://mcp.example.com/mcp`; null for `stdio`."
	descServerCommand = "The program the API starts for a `stdio` server: a bare name such as `npx`, looked up on the API " +
		"server's `PATH`; null for `http` and `sse`."
	descServerArgs   = "Arguments passed to `command`, as they are (no shell); `stdio` only."
	descServerStatus = "State of the server: `connected` (the last handshake succeeded), `error` (it failed; see " +
		"`last_error`), `connecting` (not probed yet since it was created or its endpoint changed) or " +
		"`disconnected` (probes are paused until the next connect)."
	descServerLastError       = "Why the last handshake failed; null after a successful one."
	descServerLastConnectedAt = "When the last successful handshake ran, RFC 3339 in UTC; null until one succeeded."
	descServerGatewayURL      = "Where agents reach a `proxy` server through the API's gateway, `<public url>/mcp/servers/<id>`; " +
		"null for a `direct` server. Assign the server to an `mcp_agent` to reach it with an agent token."
	descServerAuthType = "How the API authenticates to an `http` or `sse` server: `bearer` sends `Authorization: Bearer <token>`, " +
		"`oauth2` fetches a token with the OAuth 2.0 client credentials in `oauth2` and sends it the same way, " +
		"`none` sends no credentials (but any `headers_wo`). Always `none` for `stdio`."
	descServerCreatedAt = "When the server was registered, RFC 3339 in UTC."
	descServerUpdatedAt = "When the server last changed, by an update or a probe, RFC 3339 in UTC."
)

// emptyArgs makes a stdio server without arguments read as an empty list
// (an http or sse server has null args).
var emptyArgs = types.ListValueMust(types.StringType, nil)

// serverDescs are the descriptions of the attributes every kind has.
var serverDescs = recordDescs{id: descServerID, name: descServerName, description: descServerDesc,
	createdAt: descServerCreatedAt, updatedAt: descServerUpdatedAt}

// serverRecord is how diagnostics name MCP servers.
var serverRecord = record{kind: "MCP server", noun: "MCP server", typeName: "mcp_server", nameScope: "within a project", exampleID: "mcp_abc123", checkID: checkServerID}

// gatewayURLForConnectionType plans gateway_url from connection_type: null
// for a direct server, the known URL for a server that stays proxied (it
// is built from the id alone), and unknown for one that becomes proxied.
// A plain UseStateForUnknown would keep a stale value across a switch.
type gatewayURLForConnectionType struct{}

var _ planmodifier.String = gatewayURLForConnectionType{}

func (gatewayURLForConnectionType) Description(context.Context) string {
	return "null for a direct server; kept while the server stays proxied"
}

func (m gatewayURLForConnectionType) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (gatewayURLForConnectionType) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var planned, prior types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("connection_type"), &planned)...)
	if resp.Diagnostics.HasError() || planned.IsUnknown() {
		return
	}
	if contract.ConnectionType(planned.ValueString()) != contract.ConnectionProxy {
		resp.PlanValue = types.StringNull()
		return
	}
	if req.State.Raw.IsNull() || req.StateValue.IsNull() {
		return // created, or switched to proxy: the API builds it
	}
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("connection_type"), &prior)...)
	if prior.Equal(planned) {
		resp.PlanValue = req.StateValue
	}
}
