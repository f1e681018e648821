package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// checkString adapts one of the contract's rule functions into a plan-time
// validator, so Terraform rejects what the API would, with the same words,
// before anything is applied.
type checkString struct {
	summary string
	about   string
	check   func(string) error
}

var _ validator.String = checkString{}

func (v checkString) Description(context.Context) string { return v.about }

func (v checkString) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v checkString) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	// Unknown values are checked again once known, at apply.
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, v.summary, req.Path.String()+" "+err.Error()+".")
	}
}

// The plan-time checks of single strings: each is one of the API's rules,
// in its words.
var (
	validName = checkString{summary: "Invalid name",
		about: "must be 1 to 200 characters without control characters", check: contract.ValidateName}
	validServerURL = checkString{summary: "Invalid MCP server URL",
		about: "must be an absolute http or https URL", check: contract.ValidateServerURL}
	// The value is never echoed: the rule's text does not include it.
	validToken = checkString{summary: "Invalid bearer token",
		about: "must be printable ASCII without spaces", check: contract.ValidateToken}
	validConnectionID = checkString{summary: "Invalid connection id", about: "must be a UUID", check: checkConnectionID}
	validAgentID      = checkString{summary: "Invalid agent id", about: "must be a UUID", check: checkAgentID}
	validServerID     = checkString{summary: "Invalid MCP server id", about: "must be an MCP server id (mcp_...)", check: checkServerID}
	validProjectID    = checkString{summary: "Invalid project id", about: "must be a project id (proj_...)", check: checkProjectID}
	validPrefix       = checkString{summary: "Invalid assignment prefix",
		about: fmt.Sprintf("must be 1 to %d characters from a-z, 0-9 and _, without __", contract.PrefixMaxLength),
		check: contract.ValidatePrefix}
	validExpiresAt = checkString{summary: "Invalid expires_at",
		about: "must be an RFC 3339 timestamp such as 2027-01-31T00:00:00Z", check: checkTimestamp}
	validDescription = checkString{summary: "Invalid description",
		about: "must be 1 to 2000 characters without control characters other than line breaks and tabs",
		check: checkDescription}
	validCommand = checkString{summary: "Invalid command",
		about: "must be a bare program name such as npx, without a path, spaces or shell characters",
		check: contract.ValidateCommand}
	validToolsHash = checkString{summary: "Invalid approved_tools_hash",
		about: `must be "sha256:" followed by 64 lower-case hex digits, as in tools_hash`, check: checkToolsHash}
)

// checkConnectionID accepts only the canonical 36-character UUID form the API uses.
func checkConnectionID(id string) error { return checkUUID("a connection id", id) }

func checkAgentID(id string) error { return checkUUID("an agent id", id) }

// checkUUID accepts only the canonical 36-character UUID form the API uses;
// what names the kind of id in the message.
func checkUUID(what, id string) error {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return fmt.Errorf("must be %s (a UUID such as 3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11), got \"%s\"", what, id)
	}
	return nil
}

func checkServerID(id string) error {
	return checkPrefixedID("an MCP server id", contract.ServerIDPrefix, contract.ValidServerID, id)
}

func checkProjectID(id string) error {
	return checkPrefixedID("a project id", contract.ProjectIDPrefix, contract.ValidProjectID, id)
}

// checkPrefixedID accepts the ids valid says are prefix followed by letters
// and digits; what names the kind of id in the message.
func checkPrefixedID(what, prefix string, valid func(string) bool, id string) error {
	if !valid(id) {
		return fmt.Errorf("must be %s such as %sabc123 (%q followed by letters and digits), got %q", what, prefix, prefix, id)
	}
	return nil
}

// checkTimestamp accepts what the API does: RFC 3339 with a time zone. The
// API keeps milliseconds; a finer time would read back different and
// replace the token on every plan.
func checkTimestamp(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("must be an RFC 3339 timestamp with a time zone, such as 2027-01-31T00:00:00Z, got %q", s)
	}
	if !t.Equal(t.Truncate(time.Millisecond)) {
		return fmt.Errorf("must be precise to the millisecond at most (the API keeps no finer time), got %q", s)
	}
	return nil
}

// checkDescription is the API's rule, and refuses an empty description: the
// API stores one as none, which would read back as null and never match
// the configuration.
func checkDescription(s string) error {
	if s == "" {
		return fmt.Errorf("must not be empty; to have no description, remove the argument")
	}
	return contract.ValidateDescription(s)
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

// checkToolsHash accepts the shape of a tools_hash; whether the record has
// had it only the API knows, at apply.
func checkToolsHash(s string) error {
	if !contract.ValidHash(s) {
		return fmt.Errorf("must be a tools_hash: %q followed by 64 lower-case hex digits, as the record's tools_hash "+
			"shows it, got %q", contract.HashPrefix, s)
	}
	return nil
}
