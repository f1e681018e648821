package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// TestAccUpstreamAuth_planTimeValidation has Terraform refuse, at plan
// time and in the API's words, every §9 configuration the API would
// refuse, on both resources; each error says what to change.
func TestAccUpstreamAuth_planTimeValidation(t *testing.T) {
	e := newAccEnv(t)
	pki := newTestPKI(t)
	conn := func(body string) string {
		return e.providerBlock() + "resource \"mcp_connection\" \"test\" {\n  name = \"x\"\n  server_url = \"https://mcp.example.com/mcp\"\n" +
			body + "\n}\n"
	}
	server := func(body string) string {
		return e.providerBlock() + "resource \"mcp_server\" \"test\" {\n  project_id = \"proj_abc\"\n  name = \"x\"\n" + body + "\n}\n"
	}
	oauth2 := func(fields string) string {
		return "oauth2 = {\n client_id = \"c\"\n client_secret_wo = \"s\"\n client_secret_wo_version = 1\n" + fields + "\n}\n"
	}
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("%q = \"v\"", fmt.Sprintf("X-H%d", i))
	}
	tests := []struct {
		config string
		want   string
	}{
		{conn(`auth_type = "oauth2"`), `Missing oauth2.*auth_type = "oauth2" needs an oauth2 object`},
		{conn(oauth2("")), `oauth2 without OAuth 2.0 authentication.*Set auth_type = "oauth2", or remove oauth2`},
		{conn("auth_type = \"oauth2\"\noauth2 = { client_id = \"c\" }"), `Missing client secret.*client_secret_wo`},
		{conn("auth_type = \"oauth2\"\n" + oauth2(`token_url = "http://auth.example.com/token"`)),
			`Invalid token_url.*oauth2.token_url must be an https URL`},
		{conn("auth_type = \"oauth2\"\n" + oauth2(`token_endpoint_auth_method = "private_key_jwt"`)),
			`token_endpoint_auth_method.*value must be one of.*client_secret_basic`},
		{conn("auth_type = \"oauth2\"\n" + oauth2(`scopes = ["tools:read tools:write"]`)), `Invalid scopes.*several items`},
		{conn("auth_type = \"oauth2\"\n" + oauth2(`resource = "mcp"`)), `Invalid resource.*absolute URI`},
		{conn("auth_type = \"oauth2\"\noauth2 = {\n client_id = \"c\"\n client_secret_wo = \"s\"\n}"),
			`client_secret_wo_version.*must be specified`},
		{conn("headers_wo = { Host = \"x\" }\nheaders_wo_version = 1"), `Invalid headers_wo.*"Host" is set by the API itself`},
		{conn("headers_wo = { \"X Key\" = \"x\" }\nheaders_wo_version = 1"), `Invalid headers_wo.*RFC 9110 token`},
		{conn("headers_wo = { \"X-Key\" = \"\" }\nheaders_wo_version = 1"), `Invalid headers_wo.*header "X-Key" must have a value`},
		{conn("headers_wo = { " + strings.Join(many, ", ") + " }\nheaders_wo_version = 1"), `at most 20 headers, got 21`},
		{conn("headers_wo = { Authorization = \"Basic abc\" }\nheaders_wo_version = 1\nauth_type = \"bearer\"\n" +
			"bearer_token_wo = \"t\"\nbearer_token_wo_version = 1"), `must not be set when auth_type is "bearer"`},
		{conn(`headers_wo = { "X-Key" = "k" }`), `headers_wo_version.*must be specified`},
		{conn("tls = {}"), `Empty tls.*To use no TLS settings, remove tls`},
		{conn(fmt.Sprintf("tls = { client_certificate = %q }", pki.certPEM)), `Missing client key.*tls.client_key_wo`},
		{conn("tls = { ca_bundle = \"not a certificate\" }"), `Invalid ca_bundle.*tls.ca_bundle must be PEM`},
		{conn(fmt.Sprintf("tls = {\n client_certificate = %q\n client_key_wo = %q\n client_key_wo_version = 1\n}", pki.certPEM, pki.otherKeyPEM)),
			`Invalid client_key_wo.*does not match the client certificate`},
		{conn(fmt.Sprintf("tls = {\n client_certificate = %q\n client_key_wo = \"not-a-key\"\n client_key_wo_version = 1\n}", pki.certPEM)),
			`Invalid client_key_wo.*must be a PEM private key`},
		{conn(fmt.Sprintf("tls = {\n client_key_wo = %q\n client_key_wo_version = 1\n ca_bundle = %q\n}", pki.keyPEM, pki.caPEM)),
			`Missing client certificate`},

		{server("transport_type = \"stdio\"\ncommand = \"npx\"\nheaders_wo = { \"X-Key\" = \"k\" }\nheaders_wo_version = 1"),
			`headers_wo not allowed for a stdio server`},
		{server("transport_type = \"stdio\"\ncommand = \"npx\"\nauth_type = \"oauth2\"\n" + oauth2("")), `oauth2 not allowed for a stdio server`},
		{server("url = \"https://mcp.example.com/mcp\"\n" + oauth2("")), `oauth2 without OAuth 2.0 authentication`},
		{server("url = \"https://mcp.example.com/mcp\"\nauth_type = \"bearer\""), `Missing bearer token`},
		{server("url = \"https://mcp.example.com/mcp\"\nauth_type = \"oauth2\"\nbearer_token = \"t\"\n" + oauth2("")),
			`Bearer token without bearer authentication.*auth_type is "oauth2"`},
		{server("url = \"https://mcp.example.com/mcp\"\nauth_type = \"oauth2\""), `Missing oauth2`},
		{server("url = \"https://mcp.example.com/mcp\"\ntls = { ca_bundle = \"\" }"), `Invalid ca_bundle.*at least one PEM CERTIFICATE`},
	}
	steps := make([]resource.TestStep, len(tests))
	for i, tt := range tests {
		// Terraform wraps long messages at any space.
		want := strings.ReplaceAll(tt.want, " ", `\s+`)
		steps[i] = resource.TestStep{Config: tt.config, PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)` + want)}
	}
	writeOnlyTest(t, nil, steps)
}
