package provider

import "github.com/hashicorp/terraform-plugin-framework/types"

// bearerToken is the token the API sends as "Authorization: Bearer <token>"
// to an MCP server; mcp_connection and mcp_server both take it.
var bearerToken = writeOnly{name: "bearer_token", noun: "token"}

// bearerTokenFields are bearerToken's attributes in a resource model.
type bearerTokenFields struct {
	BearerToken          types.String `tfsdk:"bearer_token"`
	BearerTokenWO        types.String `tfsdk:"bearer_token_wo"`
	BearerTokenWOVersion types.Int64  `tfsdk:"bearer_token_wo_version"`
}

// token is the fields as the write-only secret's values.
func (f bearerTokenFields) token() writeOnlyValues[types.String] {
	return writeOnlyValues[types.String]{stored: f.BearerToken, writeOnly: f.BearerTokenWO, version: f.BearerTokenWOVersion}
}

// configuredToken is the token the configuration f sets, write-only first;
// nil when it sets none.
func (f bearerTokenFields) configuredToken() *string {
	if v, ok := f.token().configured(); ok {
		return v.ValueStringPointer()
	}
	return nil
}
