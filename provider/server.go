package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	// Renamed: attr is a test helper of this package.
	fwattr "github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// serverFields are the attributes every view of an MCP server shares: the
// resource and the data source.
type serverFields struct {
	ID                   types.String `tfsdk:"id"`
	ProjectID            types.String `tfsdk:"project_id"`
	Name                 types.String `tfsdk:"name"`
	Description          types.String `tfsdk:"description"`
	TransportType        types.String `tfsdk:"transport_type"`
	ConnectionType       types.String `tfsdk:"connection_type"`
	URL                  types.String `tfsdk:"url"`
	Command              types.String `tfsdk:"command"`
	Args                 types.List   `tfsdk:"args"`
	Status               types.String `tfsdk:"status"`
	Capabilities         types.Object `tfsdk:"capabilities"`
	ServerImplementation types.Object `tfsdk:"server_implementation"`
	LastError            types.String `tfsdk:"last_error"`
	LastConnectedAt      types.String `tfsdk:"last_connected_at"`
	CreatedAt            types.String `tfsdk:"created_at"`
	UpdatedAt            types.String `tfsdk:"updated_at"`
}

// Object types of the nested computed attributes.
var (
	capabilitiesType = map[string]fwattr.Type{
		"tools":     types.BoolType,
		"resources": types.BoolType,
		"prompts":   types.BoolType,
	}
	implementationType = map[string]fwattr.Type{
		"name":    types.StringType,
		"version": types.StringType,
	}
)

// serverFieldsOf converts the API's view of a server. priorArgs is what
// state or configuration held for args: the API answers an empty list for
// a stdio server without arguments, which matches both "args = []" and no
// args at all, so an empty answer keeps whichever of the two was there.
func serverFieldsOf(s *contract.Server, priorArgs types.List) serverFields {
	f := serverFields{
		ID:                   types.StringValue(s.ID),
		ProjectID:            types.StringValue(s.ProjectID),
		Name:                 types.StringValue(s.Name),
		Description:          types.StringPointerValue(s.Description),
		TransportType:        types.StringValue(string(s.TransportType)),
		ConnectionType:       types.StringValue(string(s.ConnectionType)),
		URL:                  types.StringPointerValue(s.URL),
		Command:              types.StringPointerValue(s.Command),
		Args:                 types.ListNull(types.StringType),
		Status:               types.StringValue(string(s.Status)),
		Capabilities:         types.ObjectNull(capabilitiesType),
		ServerImplementation: types.ObjectNull(implementationType),
		LastError:            types.StringPointerValue(s.LastError),
		LastConnectedAt:      types.StringNull(),
		CreatedAt:            types.StringValue(s.CreatedAt.String()),
		UpdatedAt:            types.StringValue(s.UpdatedAt.String()),
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
	if c := s.Capabilities; c != nil {
		f.Capabilities = types.ObjectValueMust(capabilitiesType, map[string]fwattr.Value{
			"tools":     types.BoolValue(c.Tools),
			"resources": types.BoolValue(c.Resources),
			"prompts":   types.BoolValue(c.Prompts),
		})
	}
	if impl := s.ServerImplementation; impl != nil {
		f.ServerImplementation = types.ObjectValueMust(implementationType, map[string]fwattr.Value{
			"name":    types.StringValue(impl.Name),
			"version": types.StringValue(impl.Version),
		})
	}
	if s.LastConnectedAt != nil {
		f.LastConnectedAt = types.StringValue(s.LastConnectedAt.String())
	}
	return f
}

// Descriptions shared by the resource and the data source.
const (
	descServerID        = "The server's id, `mcp_` followed by letters and digits, assigned by the API. Pass it to `terraform import` or to the `mcp_server` data source."
	descServerProjectID = "Id of the project (`proj_...`) the server belongs to, as in `mcp_project.<name>.id`."
	descServerName      = "Human-readable name of the server, 1–200 characters, unique within its project."
	descServerDesc      = "Free-text description of the server, up to 2000 characters."
	descTransport       = "How the API reaches the server: `http` (Streamable HTTP), `sse` (the legacy HTTP+SSE transport) " +
		"or `stdio` (a child process the API starts)."
	descConnectionType = "Whether agents reach the server directly (`direct`) or through the proxy (`proxy`)."
	descServerURL      = "The MCP endpoint of an `http` or `sse` server, an absolute `http` or `https` URL such as " +
		"`https://mcp.example.com/mcp`; null for `stdio`."
	descCommand = "The program the API starts for a `stdio` server: a bare name such as `npx`, looked up on the API " +
		"server's `PATH`; null for `http` and `sse`."
	descArgs         = "Arguments passed to `command`, as they are (no shell); `stdio` only."
	descServerStatus = "State of the server: `connected` (the last handshake succeeded), `error` (it failed; see " +
		"`last_error`), `connecting` (not probed yet since it was created or its endpoint changed) or " +
		"`disconnected` (probes are paused until the next connect)."
	descCapabilities = "The MCP feature families the server advertised in its last successful handshake; null " +
		"until one succeeded, and after the endpoint changes."
	descImplementation  = "The `serverInfo` the server returned from its last successful handshake; null until one succeeded."
	descServerLastError = "Why the last handshake failed; null after a successful one."
	descLastConnectedAt = "When the last successful handshake ran, RFC 3339 in UTC; null until one succeeded."
	descServerCreatedAt = "When the server was registered, RFC 3339 in UTC."
	descServerUpdatedAt = "When the server last changed, by an update or a probe, RFC 3339 in UTC."
)

// Descriptions of the nested attributes.
var (
	capabilityDescs = map[string]string{
		"tools":     "Whether the server offers tools.",
		"resources": "Whether the server offers resources.",
		"prompts":   "Whether the server offers prompts.",
	}
	implementationDescs = map[string]string{
		"name":    "The server's implementation name.",
		"version": "The server's implementation version.",
	}
)

func validDescription() validator.String {
	return checkString{
		summary: "Invalid description",
		about:   "must be 1 to 2000 characters without control characters other than line breaks and tabs",
		check: func(s string) error {
			if s == "" {
				// The API stores an empty description as none, which would
				// read back as null and never match the configuration.
				return fmt.Errorf("must not be empty; to have no description, remove the argument")
			}
			return contract.ValidateDescription(s)
		},
	}
}

func validCommand() validator.String {
	return checkString{
		summary: "Invalid command",
		about:   "must be a bare program name such as npx, without a path, spaces or shell characters",
		check:   contract.ValidateCommand,
	}
}

func validServerID() validator.String {
	return checkString{summary: "Invalid MCP server id", about: "must be an MCP server id (mcp_...)", check: checkServerID}
}

func validProjectID() validator.String {
	return checkString{summary: "Invalid project id", about: "must be a project id (proj_...)", check: checkProjectID}
}

func checkServerID(id string) error {
	if !contract.ValidServerID(id) {
		return fmt.Errorf("must be an MCP server id such as mcp_abc123 (%q followed by letters and digits), got %q", contract.ServerIDPrefix, id)
	}
	return nil
}

func checkProjectID(id string) error {
	if !contract.ValidProjectID(id) {
		return fmt.Errorf("must be a project id such as proj_abc123 (%q followed by letters and digits), got %q", contract.ProjectIDPrefix, id)
	}
	return nil
}

// validArgs applies the API's limits on stdio arguments at plan time.
type validArgs struct{}

var _ validator.List = validArgs{}

func (validArgs) Description(context.Context) string {
	return fmt.Sprintf("at most %d arguments of at most %d bytes each", contract.MaxArgs, contract.ArgMaxLength)
}

func (v validArgs) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (validArgs) ValidateList(ctx context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	var args []types.String
	resp.Diagnostics.Append(req.ConfigValue.ElementsAs(ctx, &args, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	known := make([]string, 0, len(args))
	for _, a := range args {
		if a.IsNull() {
			resp.Diagnostics.AddAttributeError(req.Path, "Invalid args", req.Path.String()+" must not contain null items.")
			return
		}
		known = append(known, a.ValueString())
	}
	if len(args) > contract.MaxArgs {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid args",
			fmt.Sprintf("%s must have at most %d items, got %d.", req.Path, contract.MaxArgs, len(args)))
		return
	}
	for _, a := range args {
		if a.IsUnknown() {
			// Item numbers would be off; all items are checked again at apply, once known.
			return
		}
	}
	if err := contract.ValidateArgs(known); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid args", req.Path.String()+" "+err.Error()+".")
	}
}

// record describes a kind of API record for diagnostics, where the shared
// describeError would speak of connections.
type record struct {
	kind      string // "project", "MCP server"
	typeName  string // "mcp_project"
	nameScope string // where names are unique
	exampleID string // for import hints
}

var (
	projectRecord = record{kind: "project", typeName: "mcp_project", nameScope: "within a tenant", exampleID: "proj_abc123"}
	serverRecord  = record{kind: "MCP server", typeName: "mcp_server", nameScope: "within a project", exampleID: "mcp_abc123"}
)

// describe is describeError with this record's words for a name clash and
// a missing record.
func (r record) describe(c *client.Client, action string, err error) (summary, detail string) {
	msg := apiMessage(err)
	switch {
	case errors.Is(err, client.ErrConflict):
		return capitalize(r.kind) + " name already in use", fmt.Sprintf(
			"Could not %s: %s.\n\n%s names are unique %s. Choose another name, or bring the existing %s under "+
				"Terraform with `terraform import %s.<name> <id>`.",
			action, msg, capitalize(r.kind), r.nameScope, r.kind, r.typeName)
	case errors.Is(err, client.ErrNotFound):
		return capitalize(r.kind) + " not found", fmt.Sprintf(
			"Could not %s: %s.\n\nThe %s was probably deleted outside Terraform. Run `terraform apply` again: "+
				"the refresh removes it from state and plans to re-create it.",
			action, msg, r.kind)
	}
	return describeError(c, action, err)
}

// addError appends err as one diagnostic in this record's words.
func (r record) addError(diags *diag.Diagnostics, c *client.Client, action string, err error) {
	summary, detail := r.describe(c, action, err)
	diags.AddError(summary, detail)
}

// addWriteError reports a failed create or update; a name clash points at name.
func (r record) addWriteError(diags *diag.Diagnostics, c *client.Client, action string, err error) {
	summary, detail := r.describe(c, action, err)
	if errors.Is(err, client.ErrConflict) {
		diags.AddAttributeError(path.Root("name"), summary, detail)
		return
	}
	diags.AddError(summary, detail)
}

// importID checks an import ID before it reaches state.
func (r record) importID(id string, check func(string) error, diags *diag.Diagnostics) bool {
	if err := check(id); err != nil {
		diags.AddError("Invalid import ID", fmt.Sprintf(
			"The import ID %s. Import an existing %s by its id: terraform import %s.example %s.",
			err, r.kind, r.typeName, r.exampleID))
		return false
	}
	return true
}

// apiMessage is the API's own message, without the client's "METHOD path: HTTP n:" prefix.
func apiMessage(err error) string {
	msg := err.Error()
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		msg = apiErr.Message
	}
	return strings.TrimRight(msg, ". ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
