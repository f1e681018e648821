package provider

import (
	"context"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

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

func validName() validator.String {
	return checkString{
		summary: "Invalid name",
		about:   "must be 1 to 200 characters without control characters",
		check:   contract.ValidateName,
	}
}

func validServerURL() validator.String {
	return checkString{
		summary: "Invalid MCP server URL",
		about:   "must be an absolute http or https URL",
		check:   contract.ValidateServerURL,
	}
}

func validToken() validator.String {
	return checkString{
		summary: "Invalid bearer token",
		// The value is never echoed: the rule's text does not include it.
		about: "must be printable ASCII without spaces",
		check: contract.ValidateToken,
	}
}

func validUUID() validator.String {
	return checkString{
		summary: "Invalid connection id",
		about:   "must be a UUID",
		check:   parseUUID,
	}
}

// parseUUID accepts only the canonical 36-character form the API uses.
func parseUUID(s string) error {
	if len(s) != 36 {
		return errNotUUID(s)
	}
	if _, err := uuid.Parse(s); err != nil {
		return errNotUUID(s)
	}
	return nil
}

type errNotUUID string

func (e errNotUUID) Error() string {
	return "must be a connection id (a UUID such as 3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11), got \"" + string(e) + "\""
}
