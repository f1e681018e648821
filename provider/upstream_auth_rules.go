package provider

// The plan-time checks of upstream authentication (SPEC §9): each is one
// of the API's own rules (contract's Validate* functions), so Terraform
// refuses what the API would, in its words, before anything is applied.
// No message quotes a secret: the contract's never do.

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var (
	// Whether the API may reach a loopback token endpoint over http only
	// the API knows (its outbound policy); Terraform lets it decide.
	validTokenURL = checkString{summary: "Invalid token_url",
		about: "must be an https URL (http only on a loopback host)",
		check: func(s string) error { return contract.ValidateTokenURL(s, true) }}
	validClientID     = checkString{summary: "Invalid client_id", about: "must be printable ASCII, not empty", check: contract.ValidateClientID}
	validClientSecret = checkString{summary: "Invalid client_secret_wo", about: "must be printable ASCII, not empty",
		check: contract.ValidateClientSecret}
	validAudience = checkString{summary: "Invalid audience", about: "must not be empty", check: contract.ValidateAudience}
	validResource = checkString{summary: "Invalid resource",
		about: "must be an absolute URI without a fragment (RFC 8707)", check: contract.ValidateResource}
	validCABundle = checkString{summary: "Invalid ca_bundle",
		about: "must be PEM certificates, at least one", check: contract.ValidateCABundle}
	validClientCertificate = checkString{summary: "Invalid client_certificate",
		about: "must be a PEM certificate", check: contract.ValidateClientCertificate}
)

// validScopes applies the API's scope rules to the known scopes.
type validScopes struct{}

var _ validator.Set = validScopes{}

func (validScopes) Description(context.Context) string {
	return fmt.Sprintf("at most %d RFC 6749 scope tokens", contract.MaxScopes)
}

func (v validScopes) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (validScopes) ValidateSet(_ context.Context, req validator.SetRequest, resp *validator.SetResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	var scopes []string
	for _, e := range req.ConfigValue.Elements() {
		if s, ok := e.(types.String); ok && known(s) {
			scopes = append(scopes, s.ValueString())
		}
	}
	if err := contract.ValidateScopes(scopes); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid scopes", req.Path.String()+" "+err.Error()+".")
	}
}

// checkHeadersConfig applies the API's header rules to headers_wo for a
// record of authType. An unknown value stands in as a valid one, so the
// count and the names are checked now and the value at apply.
func checkHeadersConfig(m types.Map, authType contract.AuthType, diags *diag.Diagnostics) {
	if !known(m) {
		return
	}
	at := path.Root(headers.woName())
	values := make(map[string]string, len(m.Elements()))
	for name, v := range m.Elements() {
		s, ok := v.(types.String)
		switch {
		case !ok || s.IsUnknown():
			values[name] = "known at apply"
		case s.IsNull():
			diags.AddAttributeError(at, "Invalid headers_wo",
				fmt.Sprintf("headers_wo has a null value for the header %q: remove the header or give it a value.", name))
			return
		default:
			values[name] = s.ValueString()
		}
	}
	if err := contract.ValidateHeaders(values, authType); err != nil {
		msg := err.Error()
		if strings.Contains(msg, "authType is") {
			// The API's words name its field; say the attribute.
			msg = strings.NewReplacer("authType is", "auth_type is", `authType "none"`, `auth_type = "none"`).Replace(msg)
		}
		diags.AddAttributeError(at, "Invalid headers_wo", "headers_wo: "+msg+".")
	}
}
