package provider

import (
	"errors"
	"fmt"

	// Renamed: attr is a test helper of this package.
	fwattr "github.com/hashicorp/terraform-plugin-framework/attr"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	rsschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// checkStateFields are what checks tell about a record, the same on
// connections and servers (SPEC §8): its status, what the server offered
// at its last passing check, and why the last check failed. Each kind
// describes status and last_error in its own words.
// ApprovedToolsHash is the one a person writes; the resources make it
// optional, the data sources computed.
type checkStateFields struct {
	Status               types.String `tfsdk:"status"`
	LastError            types.String `tfsdk:"last_error"`
	Capabilities         types.Object `tfsdk:"capabilities"`
	ServerImplementation types.Object `tfsdk:"server_implementation"`
	ProtocolVersion      types.String `tfsdk:"protocol_version"`
	LastErrorKind        types.String `tfsdk:"last_error_kind"`
	ToolCount            types.Int64  `tfsdk:"tool_count"`
	ToolsHash            types.String `tfsdk:"tools_hash"`
	ToolsChangedAt       types.String `tfsdk:"tools_changed_at"`
	ToolsDrift           types.Bool   `tfsdk:"tools_drift"`
	ApprovedToolsHash    types.String `tfsdk:"approved_tools_hash"`
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

// checkStateFieldsOf converts what the API returns of a record's checks.
func checkStateFieldsOf(status string, lastError *string, caps *contract.Capabilities, impl *contract.Implementation, cs contract.CheckState) checkStateFields {
	f := checkStateFields{
		Status:               types.StringValue(status),
		LastError:            types.StringPointerValue(lastError),
		Capabilities:         types.ObjectNull(capabilitiesType),
		ServerImplementation: types.ObjectNull(implementationType),
		ProtocolVersion:      types.StringPointerValue(cs.ProtocolVersion),
		LastErrorKind:        types.StringNull(),
		ToolCount:            types.Int64Null(),
		ToolsHash:            types.StringPointerValue(cs.ToolsHash),
		ToolsChangedAt:       timeOrNull(cs.ToolsChangedAt),
		ToolsDrift:           types.BoolValue(cs.ToolsDrift),
		ApprovedToolsHash:    types.StringPointerValue(cs.ApprovedToolsHash),
	}
	if caps != nil {
		f.Capabilities = types.ObjectValueMust(capabilitiesType, map[string]fwattr.Value{
			"tools":     types.BoolValue(caps.Tools),
			"resources": types.BoolValue(caps.Resources),
			"prompts":   types.BoolValue(caps.Prompts),
		})
	}
	if impl != nil {
		f.ServerImplementation = types.ObjectValueMust(implementationType, map[string]fwattr.Value{
			"name":    types.StringValue(impl.Name),
			"version": types.StringValue(impl.Version),
		})
	}
	if cs.LastErrorKind != nil {
		f.LastErrorKind = types.StringValue(string(*cs.LastErrorKind))
	}
	if cs.ToolCount != nil {
		f.ToolCount = types.Int64Value(int64(*cs.ToolCount))
	}
	return f
}

// Descriptions shared by both kinds' resources and data sources.
const (
	descCapabilities = "The MCP feature families the server advertised in its last passing check; null " +
		"until one passed, and after the endpoint changes."
	descImplementation  = "The `serverInfo` the server returned from its last passing check; null until one passed."
	descProtocolVersion = "The MCP protocol version negotiated at the last passing check, such as `2025-06-18`; null until one passed."
	descLastErrorKind   = "Why the last check failed, for automation: `unreachable`, `timeout`, `tls`, `auth`, `blocked`, " +
		"`protocol` or `server_error`; null after a passing check. `last_error` holds the sentence for people."
	descToolCount = "How many tools the server offered at the last passing check; null until one passed."
	descToolsHash = "Hash of the tools the server offered at the last passing check: `sha256:` and the hex SHA-256 " +
		"of the sorted lines `<name> <hash>`, one per tool (see the `mcp_*_catalog` data sources for each tool's " +
		"`hash`); null until a check passed. It changes whenever a tool is added, removed or redefined."
	descToolsChangedAt = "When a check last saw a tool catalog different from the one before, RFC 3339 in UTC; null " +
		"until a check passed."
	descToolsDrift = "`true` when `approved_tools_hash` is set and differs from `tools_hash`: the server's tools were " +
		"added, removed or redefined since a person approved them."
	descApprovedToolsHash = "The `tools_hash` a person reviewed and approved; `tools_drift` tells when the server's tools " +
		"no longer match it. It must be a `tools_hash` this record has had."
)

// descApprovedToolsHashResource adds, for the resources, how Terraform sets it.
const descApprovedToolsHashResource = descApprovedToolsHash + " The API refuses a hash the record has never had, so " +
	"on create Terraform first registers the server, runs the check on apply, and only then sets the approval: " +
	"that succeeds when the hash is the one the server offers now. The usual way is to apply without it, review " +
	"the tools (the catalog data source lists them), then set it to `tools_hash`. Removing it removes the approval."

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

// checkStateAttributes are the attributes of checkStateFields, built by k;
// status and last_error say what they mean for the record's kind.
// approvedToolsHash is the one attribute a resource and a data source
// declare differently. Checks change every computed one by themselves, so
// none gets UseStateForUnknown: a stale planned value would make apply
// report an inconsistent result.
func checkStateAttributes[A any](k computedAttrs[A], status, lastError string, approvedToolsHash A) map[string]A {
	caps := map[string]A{}
	for name, desc := range capabilityDescs {
		caps[name] = k.boolean(desc)
	}
	return map[string]A{
		"status":                k.str(status),
		"last_error":            k.str(lastError),
		"capabilities":          k.object(descCapabilities, caps),
		"server_implementation": k.object(descImplementation, k.strs(implementationDescs)),
		"protocol_version":      k.str(descProtocolVersion),
		"last_error_kind":       k.str(descLastErrorKind),
		"tool_count":            k.int64(descToolCount),
		"tools_hash":            k.str(descToolsHash),
		"tools_changed_at":      k.str(descToolsChangedAt),
		"tools_drift":           k.boolean(descToolsDrift),
		"approved_tools_hash":   approvedToolsHash,
	}
}

// checkStateResourceAttributes are the resources' attributes of
// checkStateFields: approved_tools_hash is the one a person writes.
func checkStateResourceAttributes(status, lastError string) map[string]rsschema.Attribute {
	return checkStateAttributes[rsschema.Attribute](resourceComputed, status, lastError, rsschema.StringAttribute{
		Optional:            true,
		MarkdownDescription: descApprovedToolsHashResource,
		Validators:          []validator.String{validToolsHash},
	})
}

// checkStateDataSourceAttributes are the data sources' attributes of
// checkStateFields, all computed.
func checkStateDataSourceAttributes(status, lastError string) map[string]dsschema.Attribute {
	return checkStateAttributes(dataSourceComputed, status, lastError,
		dataSourceComputed.str(descApprovedToolsHash+" Null when none is set."))
}

// addApprovalError reports that setting approved_tools_hash failed after
// the record itself was written. A refused hash is one the record has never
// had, which the user fixes by approving what a check has read; toolsHash is
// the record's current one (nil before a passing check).
func (r record) addApprovalError(diags *diag.Diagnostics, c *client.Client, name, id, hash string, toolsHash *string, err error) {
	if !errors.Is(err, client.ErrBadRequest) {
		r.addError(diags, c, fmt.Sprintf("set approved_tools_hash of %s %q (%s)", r.kind, name, id), err)
		return
	}
	now := "no check of it has passed yet, so it has no tools_hash to approve (with check_on_apply or " +
		"connect_on_apply false, Terraform runs none)"
	if toolsHash != nil {
		now = fmt.Sprintf("its tools_hash now is %s", *toolsHash)
	}
	diags.AddAttributeError(path.Root("approved_tools_hash"), "Approved tools hash not accepted", fmt.Sprintf(
		"The %s %q (%s) was saved, but the API refused approved_tools_hash = %q: %s.\n\n"+
			"The API accepts only a tools_hash this %s has had, as one of its checks read it; %s. "+
			"Apply without approved_tools_hash, read tools_hash once a check has passed (terraform state show "+
			"%s.<name>), review the tools it stands for (the %s_catalog data source lists them), then set "+
			"approved_tools_hash to it.",
		r.kind, name, id, hash, apiMessage(err), r.noun, now, r.typeName, r.typeName))
}

// checkApprovalKept adds an error unless the API stored the approval it was
// sent (hash, or none for ""): an API that predates approvals ignores the
// field, and the plan's value must not be claimed.
func (r record) checkApprovalKept(diags *diag.Diagnostics, c *client.Client, name, id, hash string, got *string) {
	if (hash == "" && got == nil) || (got != nil && *got == hash) {
		return
	}
	now := "none"
	if got != nil {
		now = *got
	}
	diags.AddAttributeError(path.Root("approved_tools_hash"), "Approved tools hash not stored", fmt.Sprintf(
		"The %s %q (%s) was saved, and the API accepted approved_tools_hash = %q, but it holds %s instead. "+
			"The API at %s probably predates approved tools hashes: upgrade it, or remove approved_tools_hash.",
		r.kind, name, id, hash, now, c.Endpoint()))
}
