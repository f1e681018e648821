package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// testProvider is the real provider with short retry waits, so the failure
// tests do not sit through production backoff.
func testProvider() *mcpProvider {
	return &mcpProvider{
		version:    "test",
		clientOpts: []client.Option{client.WithRetryWait(5*time.Millisecond, 20*time.Millisecond)},
	}
}

var testFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"mcp": providerserver.NewProtocol6WithError(testProvider()),
}

// accEnv is one acceptance test's API server and a client to arrange and
// inspect it outside Terraform.
type accEnv struct {
	srv    *apitest.Server
	client *client.Client
}

// newAccEnv starts a real API server on a throwaway database. Acceptance
// tests need TF_ACC=1, like resource.Test itself; checking first avoids
// starting PostgreSQL for a test that is not going to run.
func newAccEnv(t *testing.T, opts ...apitest.Option) *accEnv {
	t.Helper()
	if os.Getenv(resource.EnvTfAcc) == "" {
		t.Skipf("acceptance test: set %s=1 to run it", resource.EnvTfAcc)
	}
	srv := apitest.Start(t, opts...)
	c, err := client.New(srv.URL, srv.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	return &accEnv{srv: srv, client: c}
}

// providerBlock configures the provider for this environment.
func (e *accEnv) providerBlock() string {
	return providerConfig(e.srv.URL, e.srv.APIKey)
}

func providerConfig(endpoint, key string) string {
	return fmt.Sprintf(`
provider "mcp" {
  endpoint = %q
  api_key  = %q
}
`, endpoint, key)
}

// storedToken decrypts the bearer token the API stored for a connection;
// the API never returns it, so this is the only way to see what arrived.
func (e *accEnv) storedToken(t *testing.T, id string) (string, bool) {
	t.Helper()
	uid, err := uuid.Parse(id)
	if err != nil {
		t.Fatalf("connection id %q: %v", id, err)
	}
	row, err := e.srv.Store.GetConnection(context.Background(), e.srv.TenantID, uid)
	if err != nil {
		t.Fatalf("store.GetConnection(%s): %v", id, err)
	}
	if row.TokenCiphertext == nil || row.TokenKeyID == nil {
		return "", false
	}
	plain, err := e.srv.Keyring.Open(row.TokenCiphertext, *row.TokenKeyID, store.ConnectionTokenAAD(uid))
	if err != nil {
		t.Fatalf("open stored token: %v", err)
	}
	return string(plain), true
}

// checkToken compares the token the API stores for mcp_connection.test with want
// ("" for none), by decrypting it with the server's keyring.
func (e *accEnv) checkToken(t *testing.T, want string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		got, ok := e.storedToken(t, rs.Primary.ID)
		switch {
		case want == "" && ok:
			return fmt.Errorf("the API still holds a token for %s", addr)
		case want != "" && !ok:
			return fmt.Errorf("the API holds no token for %s, want %q", addr, want)
		case got != want:
			return fmt.Errorf("the API holds token %q for %s, want %q", got, addr, want)
		}
		return nil
	}
}

// checkDestroyed asserts every mcp_connection Terraform knew is gone from the API.
func (e *accEnv) checkDestroyed(s *terraform.State) error {
	return checkGone(s, "mcp_connection", "MCP connection", e.client.GetConnection)
}

// checkGone asserts that every resource of type typeName in s is gone from
// the API: get answers ErrNotFound for its id. kind names it in errors.
func checkGone[T any](s *terraform.State, typeName, kind string, get func(context.Context, string) (*T, error)) error {
	for _, rs := range s.RootModule().Resources {
		if rs.Type != typeName {
			continue
		}
		_, err := get(context.Background(), rs.Primary.ID)
		if err == nil {
			return fmt.Errorf("%s %s still exists after destroy", kind, rs.Primary.ID)
		}
		if !errors.Is(err, client.ErrNotFound) {
			return fmt.Errorf("checking %s %s: %w", kind, rs.Primary.ID, err)
		}
	}
	return nil
}

// absentFromState fails if secret appears anywhere in the state.
type absentFromState struct{ secret string }

func (c absentFromState) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	b, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	if strings.Contains(string(b), c.secret) {
		resp.Error = fmt.Errorf("the secret %q is stored in the Terraform state", c.secret)
	}
}

// absentFromPlan fails if secret appears in the plan's values. The plan's
// "configuration" section is left out: it echoes the literal HCL, which is
// the user's own file, not something Terraform persists from the provider.
type absentFromPlan struct{ secret string }

func (c absentFromPlan) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	b, err := json.Marshal([]any{req.Plan.PlannedValues, req.Plan.ResourceChanges, req.Plan.PriorState, req.Plan.ResourceDrift})
	if err != nil {
		resp.Error = err
		return
	}
	if strings.Contains(string(b), c.secret) {
		resp.Error = fmt.Errorf("the secret %q is in the Terraform plan", c.secret)
	}
}

// configureDiagnostics runs ConfigureProvider through the framework's real
// protocol server and returns its diagnostics, so tests can count them.
func configureDiagnostics(t *testing.T, endpoint, apiKey tftypes.Value) []*tfprotov6.Diagnostic {
	t.Helper()
	server, err := providerserver.NewProtocol6WithError(testProvider())()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{}); err != nil {
		t.Fatal(err)
	}
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"endpoint": tftypes.String, "api_key": tftypes.String}}
	cfg, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, map[string]tftypes.Value{"endpoint": endpoint, "api_key": apiKey}))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{TerraformVersion: "1.11.4", Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Diagnostics
}

func str(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }

var (
	nullStr    = tftypes.NewValue(tftypes.String, nil)
	unknownStr = tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
)

// TestProviderConfigure checks that every bad provider configuration yields
// exactly one error diagnostic that names the fix.
func TestProviderConfigure(t *testing.T) {
	srv := apitest.Start(t)
	closed := mcptest.ClosedURL(t)

	tests := []struct {
		name       string
		env        map[string]string
		endpoint   tftypes.Value
		apiKey     tftypes.Value
		wantErrors []string // substrings of the one diagnostic; none means success
	}{
		{name: "valid", endpoint: str(srv.URL), apiKey: str(srv.APIKey)},
		{name: "from environment", env: map[string]string{EnvEndpoint: srv.URL, EnvAPIKey: srv.APIKey}, endpoint: nullStr, apiKey: nullStr},
		{name: "config wins over environment", env: map[string]string{EnvEndpoint: closed, EnvAPIKey: "wrong"}, endpoint: str(srv.URL), apiKey: str(srv.APIKey)},
		{name: "missing endpoint", endpoint: nullStr, apiKey: str(srv.APIKey), wantErrors: []string{"Missing MCP API endpoint", EnvEndpoint}},
		{name: "missing key", endpoint: str(srv.URL), apiKey: nullStr, wantErrors: []string{"Missing MCP API key", EnvAPIKey}},
		{name: "unknown endpoint", endpoint: unknownStr, apiKey: str(srv.APIKey), wantErrors: []string{"Unknown MCP API endpoint"}},
		{name: "unknown key", endpoint: str(srv.URL), apiKey: unknownStr, wantErrors: []string{"Unknown MCP API key"}},
		{name: "relative endpoint", endpoint: str("127.0.0.1:8080"), apiKey: str(srv.APIKey), wantErrors: []string{"Invalid MCP API endpoint", "absolute http or https URL"}},
		{name: "wrong key", endpoint: str(srv.URL), apiKey: str("mcp_not_a_real_key"), wantErrors: []string{"rejected the API key", EnvAPIKey}},
		{name: "server down", endpoint: str(closed), apiKey: str(srv.APIKey), wantErrors: []string{"Cannot reach the MCP API", "Is the API running at " + closed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvEndpoint, "")
			t.Setenv(EnvAPIKey, "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			diags := configureDiagnostics(t, tt.endpoint, tt.apiKey)
			var errs []*tfprotov6.Diagnostic
			for _, d := range diags {
				if d.Severity == tfprotov6.DiagnosticSeverityError {
					errs = append(errs, d)
				}
			}
			if len(tt.wantErrors) == 0 {
				if len(errs) != 0 {
					t.Fatalf("unexpected errors: %s: %s", errs[0].Summary, errs[0].Detail)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("got %d error diagnostics, want exactly 1: %+v", len(errs), errs)
			}
			text := errs[0].Summary + ": " + errs[0].Detail
			for _, want := range tt.wantErrors {
				if !strings.Contains(text, want) {
					t.Errorf("diagnostic %q does not mention %q", text, want)
				}
			}
			if strings.Contains(text, "mcp_not_a_real_key") || strings.Contains(text, srv.APIKey) {
				t.Errorf("the API key leaked into the diagnostic: %q", text)
			}
		})
	}
}

// TestAccProvider_failures runs the provider against a wrong key and a
// stopped API with several resources: the plan fails once, with what to do.
func TestAccProvider_failures(t *testing.T) {
	e := newAccEnv(t)
	resources := `
resource "mcp_connection" "a" {
  name       = "a"
  server_url = "https://mcp.example.com/a"
}
resource "mcp_connection" "b" {
  name       = "b"
  server_url = "https://mcp.example.com/b"
}
data "mcp_connections" "all" {}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testFactories,
		Steps: []resource.TestStep{
			{
				Config:      providerConfig(e.srv.URL, "mcp_wrong_key") + resources,
				ExpectError: regexp.MustCompile(`(?s)MCP API rejected the API key.*MCP_API_KEY`),
			},
			{
				Config:      providerConfig(mcptest.ClosedURL(t), e.srv.APIKey) + resources,
				ExpectError: regexp.MustCompile(`(?s)Cannot reach the MCP API.*Is the API running at\s+http://127\.0\.0\.1`),
			},
			{
				// An endpoint known only after apply cannot configure the provider.
				Config: `
resource "terraform_data" "endpoint" {
  input = "` + e.srv.URL + `"
}
provider "mcp" {
  endpoint = terraform_data.endpoint.output
  api_key  = "` + e.srv.APIKey + `"
}
` + resources,
				ExpectError: regexp.MustCompile(`Unknown MCP API endpoint`),
			},
		},
	})
	// Nothing may have been created by the failed plans.
	list, err := e.client.ListAllConnections(context.Background(), client.ConnectionListOptions{})
	if err != nil || len(list) != 0 {
		t.Errorf("connections after failed runs: %d, %v; want none", len(list), err)
	}
}
