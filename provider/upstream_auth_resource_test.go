package provider

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
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
		{conn("tls = { ca_bundle = \"not a certificate\" }"), `Invalid ca_bundle.*tls.ca_bundle must`},
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

// storedAuthSecrets opens the secrets beyond the bearer token that the API
// stored for the record with id of typeName (mcp_connection or
// mcp_server); the API never returns them, so this is the only way to see
// what arrived. ok is false when it stores none.
func (e *accEnv) storedAuthSecrets(t *testing.T, typeName, id string) (secrets store.AuthSecrets, ok bool) {
	t.Helper()
	ctx := context.Background()
	var (
		auth store.UpstreamAuth
		aad  []byte
	)
	switch typeName {
	case "mcp_connection":
		uid, err := uuid.Parse(id)
		if err != nil {
			t.Fatalf("connection id %q: %v", id, err)
		}
		row, err := e.srv.Store.GetConnection(ctx, e.srv.TenantID, uid)
		if err != nil {
			t.Fatalf("store.GetConnection(%s): %v", id, err)
		}
		auth, aad = row.UpstreamAuth, store.ConnectionAuthAAD(uid)
	default:
		row, err := e.srv.Store.GetServer(ctx, e.srv.TenantID, id)
		if err != nil {
			t.Fatalf("store.GetServer(%s): %v", id, err)
		}
		auth, aad = row.UpstreamAuth, store.ServerAuthAAD(id)
	}
	if auth.AuthSecretsCiphertext == nil || auth.AuthSecretsKeyID == nil {
		return secrets, false
	}
	plain, err := e.srv.Keyring.Open(auth.AuthSecretsCiphertext, *auth.AuthSecretsKeyID, aad)
	if err != nil {
		t.Fatalf("open stored secrets: %v", err)
	}
	if err := json.Unmarshal(plain, &secrets); err != nil {
		t.Fatalf("stored secrets: %v", err)
	}
	return secrets, true
}

// checkAuthSecrets compares the secrets the API stores for the resource at
// address a with want (the zero value for none).
func (e *accEnv) checkAuthSecrets(t *testing.T, a string, want store.AuthSecrets) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[a]
		if !ok {
			return fmt.Errorf("%s not in state", a)
		}
		got, _ := e.storedAuthSecrets(t, rs.Type, rs.Primary.ID)
		if !reflect.DeepEqual(got, want) && (!got.Empty() || !want.Empty()) {
			// The values are the test's own, not real secrets.
			return fmt.Errorf("the API holds %+v for %s, want %+v", got, a, want)
		}
		return nil
	}
}

// checkAuthSettings checks the settings the API returns for the resource
// at a: its OAuth 2.0 client id and CA bundle.
func (e *accEnv) checkAuthSettings(a, clientID, ca string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[a]
		if !ok {
			return fmt.Errorf("%s not in state", a)
		}
		var auth contract.UpstreamAuth
		if rs.Type == "mcp_connection" {
			c, err := e.client.GetConnection(context.Background(), rs.Primary.ID)
			if err != nil {
				return err
			}
			auth = c.UpstreamAuth
		} else {
			srv, err := e.client.GetServer(context.Background(), rs.Primary.ID)
			if err != nil {
				return err
			}
			auth = srv.UpstreamAuth
		}
		if auth.OAuth2 == nil || auth.OAuth2.ClientID != clientID || auth.TLS == nil || auth.TLS.CABundle == nil || *auth.TLS.CABundle != ca {
			return fmt.Errorf("the API has oauth2 %+v and tls %+v for %s, want client id %q and the new CA", auth.OAuth2, auth.TLS, a, clientID)
		}
		return nil
	}
}

// authSecrets are the values one step of the upstream auth tests configures.
type authSecrets struct {
	apiKey, clientSecret, clientKey string
	headersV, secretV, keyV         int
	clientID, ca                    string // not secrets; "" for the defaults
}

// upstreamAuthBody is the §9 part of a resource block: two headers,
// OAuth 2.0 with a token URL and every option, and mutual TLS.
func upstreamAuthBody(pki testPKI, s authSecrets) string {
	clientID, ca := cmp.Or(s.clientID, "mcp-api"), cmp.Or(s.ca, pki.caPEM)
	return fmt.Sprintf(`
  headers_wo = {
    "X-Api-Key" = %q
    "X-Tenant"  = "acme"
  }
  headers_wo_version = %d
  auth_type          = "oauth2"
  oauth2 = {
    token_url                  = "https://auth.example.com/oauth2/token"
    client_id                  = %q
    client_secret_wo           = %q
    client_secret_wo_version   = %d
    scopes                     = ["tools:read", "tools:call"]
    audience                   = "https://mcp.example.com"
    resource                   = "https://mcp.example.com/mcp"
    token_endpoint_auth_method = "client_secret_post"
  }
  tls = {
    ca_bundle             = %q
    client_certificate    = %q
    client_key_wo         = %q
    client_key_wo_version = %d
  }
`, s.apiKey, s.headersV, clientID, s.clientSecret, s.secretV, ca, pki.certPEM, s.clientKey, s.keyV)
}

// upstreamAuthSteps are the steps both resources go through, at address a
// configured by cfg: create with every method, no secret in plan or state;
// new values without new versions send nothing; each version bump sends
// its own secret and only it; import; removing everything removes the
// secrets from the API.
func upstreamAuthSteps(t *testing.T, e *accEnv, a string, pki testPKI, cfg func(auth string) string) []resource.TestStep {
	other := newTestPKI(t) // a certificate for the last rotation
	first := authSecrets{apiKey: "hdr-secret-1", clientSecret: "oauth-secret-1", clientKey: pki.keyPEM, headersV: 1, secretV: 1, keyV: 1}
	// New values everywhere; versions not bumped yet. The new key is the
	// same key in another encoding: a key must belong to its certificate.
	changed := authSecrets{apiKey: "hdr-secret-2", clientSecret: "oauth-secret-2", clientKey: pki.keyPEMAlt, headersV: 1, secretV: 1, keyV: 1}
	every := []string{first.apiKey, first.clientSecret, first.clientKey, changed.apiKey, changed.clientSecret, changed.clientKey,
		other.keyPEM, "oauth-secret-3"}
	noSecretInPlan := make([]plancheck.PlanCheck, 0, len(every))
	noSecretInState := make([]statecheck.StateCheck, 0, len(every))
	for _, s := range every {
		if strings.HasPrefix(s, "-----BEGIN") {
			// A PEM key's body is what must not leak; its first line is public.
			s = strings.Split(s, "\n")[1]
		}
		noSecretInPlan = append(noSecretInPlan, absentFromPlan{s})
		noSecretInState = append(noSecretInState, absentFromState{s})
	}
	stored := func(apiKey, clientSecret, clientKey string) resource.TestCheckFunc {
		return e.checkAuthSecrets(t, a, store.AuthSecrets{
			Headers:      map[string]string{"X-Api-Key": apiKey, "X-Tenant": "acme"},
			ClientSecret: clientSecret, ClientKey: clientKey,
		})
	}
	nested := func(obj, name string) tfjsonpath.Path { return tfjsonpath.New(obj).AtMapKey(name) }
	headersBumped, secretBumped, keyBumped := changed, changed, changed
	headersBumped.headersV = 2
	secretBumped.headersV, secretBumped.secretV = 2, 2
	keyBumped.headersV, keyBumped.secretV, keyBumped.keyV = 2, 2, 2
	certRotated := keyBumped
	certRotated.clientKey = other.keyPEM
	// Other settings and other secret values, versions as they were.
	settingsChanged := secretBumped
	settingsChanged.clientID, settingsChanged.ca = "mcp-api-2", other.caPEM
	settingsChanged.clientSecret, settingsChanged.clientKey = "oauth-secret-3", pki.keyPEMAlt

	return []resource.TestStep{
		{
			Config:           cfg(upstreamAuthBody(pki, first)),
			ConfigPlanChecks: planned(a, plancheck.ResourceActionCreate, append(noSecretInPlan, plancheck.ExpectUnknownValue(a, attr("header_names")))...),
			ConfigStateChecks: append([]statecheck.StateCheck{
				statecheck.ExpectKnownValue(a, attr("auth_type"), knownvalue.StringExact("oauth2")),
				statecheck.ExpectKnownValue(a, attr("header_names"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("X-Api-Key"), knownvalue.StringExact("X-Tenant")})),
				statecheck.ExpectKnownValue(a, attr("headers_wo"), knownvalue.Null()),
				statecheck.ExpectKnownValue(a, attr("headers_wo_version"), knownvalue.Int64Exact(1)),
				statecheck.ExpectKnownValue(a, nested("oauth2", "client_id"), knownvalue.StringExact("mcp-api")),
				statecheck.ExpectKnownValue(a, nested("oauth2", "client_secret_wo"), knownvalue.Null()),
				statecheck.ExpectKnownValue(a, nested("oauth2", "scopes"), knownvalue.SetExact([]knownvalue.Check{
					knownvalue.StringExact("tools:read"), knownvalue.StringExact("tools:call")})),
				statecheck.ExpectKnownValue(a, nested("oauth2", "token_endpoint_auth_method"), knownvalue.StringExact("client_secret_post")),
				statecheck.ExpectKnownValue(a, nested("tls", "client_certificate"), knownvalue.StringExact(pki.certPEM)),
				statecheck.ExpectKnownValue(a, nested("tls", "client_key_wo"), knownvalue.Null()),
			}, noSecretInState...),
			Check: stored(first.apiKey, first.clientSecret, first.clientKey),
		},
		{
			// Terraform cannot see new write-only values: nothing changes,
			// nothing is sent, until a version changes.
			Config:            cfg(upstreamAuthBody(pki, changed)),
			ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: append(noSecretInPlan, plancheck.ExpectEmptyPlan())},
			ConfigStateChecks: noSecretInState,
			Check:             stored(first.apiKey, first.clientSecret, first.clientKey),
		},
		{
			Config:            cfg(upstreamAuthBody(pki, headersBumped)),
			ConfigPlanChecks:  planned(a, plancheck.ResourceActionUpdate, noSecretInPlan...),
			ConfigStateChecks: noSecretInState,
			Check:             stored(changed.apiKey, first.clientSecret, first.clientKey),
		},
		{
			Config:            cfg(upstreamAuthBody(pki, secretBumped)),
			ConfigPlanChecks:  planned(a, plancheck.ResourceActionUpdate, noSecretInPlan...),
			ConfigStateChecks: noSecretInState,
			Check:             stored(changed.apiKey, changed.clientSecret, first.clientKey),
		},
		{
			// oauth2 and tls change, but not their secrets' versions: the
			// settings are sent, the secrets are not.
			Config:           cfg(upstreamAuthBody(pki, settingsChanged)),
			ConfigPlanChecks: planned(a, plancheck.ResourceActionUpdate, noSecretInPlan...),
			ConfigStateChecks: append(noSecretInState,
				statecheck.ExpectKnownValue(a, nested("oauth2", "client_id"), knownvalue.StringExact("mcp-api-2")),
				statecheck.ExpectKnownValue(a, nested("tls", "ca_bundle"), knownvalue.StringExact(other.caPEM))),
			Check: resource.ComposeTestCheckFunc(stored(changed.apiKey, changed.clientSecret, first.clientKey),
				e.checkAuthSettings(a, "mcp-api-2", other.caPEM)),
		},
		{
			Config:            cfg(upstreamAuthBody(pki, keyBumped)),
			ConfigPlanChecks:  planned(a, plancheck.ResourceActionUpdate, noSecretInPlan...),
			ConfigStateChecks: noSecretInState,
			Check:             stored(changed.apiKey, changed.clientSecret, pki.keyPEMAlt),
		},
		{
			// A new certificate sends its key along, whatever the version.
			Config:            cfg(upstreamAuthBody(other, certRotated)),
			ConfigPlanChecks:  planned(a, plancheck.ResourceActionUpdate, noSecretInPlan...),
			ConfigStateChecks: append(noSecretInState, statecheck.ExpectKnownValue(a, nested("tls", "client_certificate"), knownvalue.StringExact(other.certPEM))),
			Check:             stored(changed.apiKey, changed.clientSecret, other.keyPEM),
		},
		// The API returns no secret; the versions are Terraform's own.
		importStep(a, "headers_wo_version", "oauth2.client_secret_wo_version", "tls.client_key_wo_version", "check_on_apply", "connect_on_apply"),
		{
			// Dropping every method removes every secret from the API.
			Config:           cfg(""),
			ConfigPlanChecks: planned(a, plancheck.ResourceActionUpdate, plancheck.ExpectUnknownValue(a, attr("header_names"))),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(a, attr("auth_type"), knownvalue.StringExact("none")),
				statecheck.ExpectKnownValue(a, attr("header_names"), knownvalue.ListExact([]knownvalue.Check{})),
				statecheck.ExpectKnownValue(a, attr("oauth2"), knownvalue.Null()),
				statecheck.ExpectKnownValue(a, attr("tls"), knownvalue.Null()),
			},
			Check: e.checkAuthSecrets(t, a, store.AuthSecrets{}),
		},
	}
}

func TestAccConnection_upstreamAuth(t *testing.T) {
	e := newAccEnv(t)
	pki := newTestPKI(t)
	cfg := func(auth string) string {
		// No check: the MCP server and the authorization server are made up.
		return connectionConfig(e, "upstream auth", "https://mcp.example.com/mcp", "  check_on_apply = false\n"+auth)
	}
	writeOnlyTest(t, e.checkDestroyed, upstreamAuthSteps(t, e, addr, pki, cfg))
}

func TestAccServer_upstreamAuth(t *testing.T) {
	e := newAccEnv(t)
	pki := newTestPKI(t)
	projectID := e.project(t, "upstream auth")
	cfg := func(auth string) string {
		return e.serverConfig(projectID, "upstream auth", `url = "https://mcp.example.com/mcp"`, "connect_on_apply = false", auth)
	}
	writeOnlyTest(t, e.checkServersDestroyed, upstreamAuthSteps(t, e, serverAddr, pki, cfg))
}

// TestAccUpstreamAuth_dataSources reads records made outside Terraform
// with every method: the data sources show the header names, oauth2 and
// tls settings, whether a key is held, and no secret.
func TestAccUpstreamAuth_dataSources(t *testing.T) {
	e := newAccEnv(t)
	pki := newTestPKI(t)
	ctx := context.Background()
	auth := contract.UpstreamAuthRequest{
		Headers: &map[string]string{"X-Tenant": "acme", "X-Api-Key": "ds-header-secret"},
		OAuth2: &contract.OAuth2Request{ClientID: "mcp-api", ClientSecret: new("ds-client-secret"),
			Scopes: []string{"tools:read"}, Resource: new("https://mcp.example.com/mcp")},
		TLS: &contract.TLSRequest{CABundle: &pki.caPEM, ClientCertificate: &pki.certPEM, ClientKey: &pki.keyPEM},
	}
	conn, err := e.client.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "ds", ServerURL: "https://mcp.example.com/mcp",
		AuthType: contract.AuthOAuth2, UpstreamAuthRequest: auth})
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	srv, err := e.client.CreateServer(ctx, contract.CreateServerRequest{ProjectID: e.project(t, "ds"), Name: "ds",
		URL: new("https://mcp.example.com/mcp"), AuthType: contract.AuthOAuth2, UpstreamAuthRequest: auth})
	if err != nil {
		t.Fatalf("CreateServer: %v", err)
	}
	var checks []statecheck.StateCheck
	for _, a := range []string{"data.mcp_connection.ds", "data.mcp_server.ds", "data.mcp_connections.all"} {
		// at is the path of names in a's record: the list's first element for the list.
		at := func(names ...string) tfjsonpath.Path {
			p := tfjsonpath.New(names[0])
			if a == "data.mcp_connections.all" {
				p = tfjsonpath.New("connections").AtSliceIndex(0).AtMapKey(names[0])
			}
			for _, n := range names[1:] {
				p = p.AtMapKey(n)
			}
			return p
		}
		checks = append(checks,
			statecheck.ExpectKnownValue(a, at("auth_type"), knownvalue.StringExact("oauth2")),
			statecheck.ExpectKnownValue(a, at("header_names"), knownvalue.ListExact([]knownvalue.Check{
				knownvalue.StringExact("X-Api-Key"), knownvalue.StringExact("X-Tenant")})),
			statecheck.ExpectKnownValue(a, at("oauth2", "client_id"), knownvalue.StringExact("mcp-api")),
			statecheck.ExpectKnownValue(a, at("oauth2", "token_url"), knownvalue.Null()),
			statecheck.ExpectKnownValue(a, at("oauth2", "token_endpoint_auth_method"), knownvalue.StringExact(contract.ClientSecretBasic)),
			statecheck.ExpectKnownValue(a, at("oauth2", "scopes"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("tools:read")})),
			statecheck.ExpectKnownValue(a, at("tls", "client_certificate"), knownvalue.StringExact(pki.certPEM)),
			statecheck.ExpectKnownValue(a, at("tls", "client_key_set"), knownvalue.Bool(true)),
		)
	}
	keyLine := strings.Split(pki.keyPEM, "\n")[1]
	checks = append(checks, absentFromState{"ds-header-secret"}, absentFromState{"ds-client-secret"}, absentFromState{keyLine})
	parallelTest(t, nil, []resource.TestStep{{
		Config: e.providerBlock() + fmt.Sprintf(`
data "mcp_connection" "ds" {
  id = %q
}
data "mcp_server" "ds" {
  id = %q
}
data "mcp_connections" "all" {}
`, conn.ID, srv.ID),
		ConfigStateChecks: checks,
	}})
}
