package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

const addr = "mcp_connection.test"

// connectionConfig is mcp_connection.test named name at url, with the
// attribute lines extra.
func connectionConfig(e *accEnv, name, url, extra string) string {
	return e.providerBlock() + fmt.Sprintf(`
resource "mcp_connection" "test" {
  name       = %q
  server_url = %q
%s}
`, name, url, extra)
}

// bearerConfig is mcp_connection.test named name at url, with a
// write-only token.
func bearerConfig(e *accEnv, name, url, token string, version int) string {
	return connectionConfig(e, name, url, fmt.Sprintf(
		"  auth_type               = \"bearer\"\n  bearer_token_wo         = %q\n  bearer_token_wo_version = %d\n", token, version))
}

// storedTokenConfig is mcp_connection.test named name at url, with a token
// stored in state (bearer_token).
func storedTokenConfig(e *accEnv, name, url, token string) string {
	return connectionConfig(e, name, url, fmt.Sprintf("  auth_type    = \"bearer\"\n  bearer_token = %q\n", token))
}

func TestAccConnection_lifecycle(t *testing.T) {
	e := newAccEnv(t)
	sameID := sameValues()

	writeOnlyTest(t, e.checkDestroyed, []resource.TestStep{
		{
			Config: connectionConfig(e, "Order Management System", "https://mcp.example.com/oms", ""),
			ConfigPlanChecks: planned(addr, plancheck.ResourceActionCreate,
				plancheck.ExpectUnknownValue(addr, attr("status")),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(addr, attr("id")),
				statecheck.ExpectKnownValue(addr, attr("id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f-]{36}$`))),
				statecheck.ExpectKnownValue(addr, attr("tenant_id"), knownvalue.StringExact(e.srv.TenantID.String())),
				statecheck.ExpectKnownValue(addr, attr("name"), knownvalue.StringExact("Order Management System")),
				statecheck.ExpectKnownValue(addr, attr("server_url"), knownvalue.StringExact("https://mcp.example.com/oms")),
				statecheck.ExpectKnownValue(addr, attr("auth_type"), knownvalue.StringExact("none")),
				statecheck.ExpectKnownValue(addr, attr("status"), knownvalue.StringExact("unknown")),
				statecheck.ExpectKnownValue(addr, attr("instructions"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, attr("last_error"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, attr("last_health_check_at"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, attr("created_at"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`))),
				statecheck.ExpectKnownValue(addr, attr("updated_at"), knownvalue.NotNull()),
				statecheck.ExpectKnownValue(addr, attr("bearer_token"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, attr("bearer_token_wo"), knownvalue.Null()),
			},
			Check: e.checkToken(t, ""),
		},
		{
			// Rename, move and switch to bearer in place.
			Config: bearerConfig(e, "OMS", "https://mcp.example.com/oms/v2", "lifecycle-token-1", 1),
			ConfigPlanChecks: planned(addr, plancheck.ResourceActionUpdate,
				// Stable values are carried, self-changing ones are left open.
				plancheck.ExpectKnownValue(addr, attr("tenant_id"), knownvalue.StringExact(e.srv.TenantID.String())),
				plancheck.ExpectUnknownValue(addr, attr("updated_at")),
				absentFromPlan{"lifecycle-token-1"},
			),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(addr, attr("id")),
				statecheck.ExpectKnownValue(addr, attr("name"), knownvalue.StringExact("OMS")),
				statecheck.ExpectKnownValue(addr, attr("server_url"), knownvalue.StringExact("https://mcp.example.com/oms/v2")),
				statecheck.ExpectKnownValue(addr, attr("auth_type"), knownvalue.StringExact("bearer")),
				statecheck.ExpectKnownValue(addr, attr("bearer_token_wo"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, attr("bearer_token_wo_version"), knownvalue.Int64Exact(1)),
				absentFromState{"lifecycle-token-1"},
			},
			Check: e.checkToken(t, "lifecycle-token-1"),
		},
		// The API never returns a token, and the version is Terraform's own bookkeeping.
		importStep(addr, "bearer_token", "bearer_token_wo", "bearer_token_wo_version"),
		{
			// Back to no authentication: the API drops the stored token.
			Config:           connectionConfig(e, "OMS", "https://mcp.example.com/oms/v2", ""),
			ConfigPlanChecks: planned(addr, plancheck.ResourceActionUpdate),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(addr, attr("id")),
				statecheck.ExpectKnownValue(addr, attr("auth_type"), knownvalue.StringExact("none")),
				statecheck.ExpectKnownValue(addr, attr("bearer_token_wo_version"), knownvalue.Null()),
			},
			Check: e.checkToken(t, ""),
		},
	})
}

func TestAccConnection_writeOnlyTokenRotation(t *testing.T) {
	e := newAccEnv(t)
	cfg := func(token string, version int) string {
		return bearerConfig(e, "rotating", "https://mcp.example.com/rotating", token, version)
	}
	sameID := sameValues()

	writeOnlyTest(t, e.checkDestroyed, []resource.TestStep{
		{
			Config: cfg("wo-token-1", 1),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				absentFromPlan{"wo-token-1"},
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(addr, attr("id")),
				statecheck.ExpectKnownValue(addr, attr("bearer_token_wo"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, attr("bearer_token"), knownvalue.Null()),
				absentFromState{"wo-token-1"},
			},
			Check: e.checkToken(t, "wo-token-1"),
		},
		{
			// Terraform cannot see a write-only value change: without a
			// version bump nothing is planned and the API keeps the old token.
			Config: cfg("wo-token-2", 1),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectEmptyPlan(),
			}},
			Check: e.checkToken(t, "wo-token-1"),
		},
		{
			Config: cfg("wo-token-2", 2),
			ConfigPlanChecks: planned(addr, plancheck.ResourceActionUpdate,
				absentFromPlan{"wo-token-2"},
			),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(addr, attr("id")),
				statecheck.ExpectKnownValue(addr, attr("bearer_token_wo_version"), knownvalue.Int64Exact(2)),
				absentFromState{"wo-token-2"},
				absentFromState{"wo-token-1"},
			},
			Check: e.checkToken(t, "wo-token-2"),
		},
	})
}

func TestAccConnection_sensitiveBearerToken(t *testing.T) {
	e := newAccEnv(t)
	cfg := func(token string) string {
		return storedTokenConfig(e, "sensitive", "https://mcp.example.com/sensitive", token)
	}
	parallelTest(t, e.checkDestroyed, []resource.TestStep{
		{
			Config: cfg("plain-token-1"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectSensitiveValue(addr, attr("bearer_token")),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, attr("bearer_token"), knownvalue.StringExact("plain-token-1")),
				statecheck.ExpectSensitiveValue(addr, attr("bearer_token")),
			},
			Check: e.checkToken(t, "plain-token-1"),
		},
		{
			Config:           cfg("plain-token-2"),
			ConfigPlanChecks: planned(addr, plancheck.ResourceActionUpdate),
			Check:            e.checkToken(t, "plain-token-2"),
		},
		{
			// Moving to the write-only token sends it even though the old
			// token is unchanged on the API side.
			Config: bearerConfig(e, "sensitive", "https://mcp.example.com/sensitive", "now-write-only", 1),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, attr("bearer_token"), knownvalue.Null()),
				absentFromState{"now-write-only"},
			},
			Check: e.checkToken(t, "now-write-only"),
		},
	})
}

func TestAccConnection_deletedOutOfBand(t *testing.T) {
	e := newAccEnv(t)
	cfg := connectionConfig(e, "vanishing", "https://mcp.example.com/vanishing", "")
	var firstID string
	deleteIt := deleteOutOfBand(t, e.client.DeleteConnection, &firstID)
	parallelTest(t, e.checkDestroyed, []resource.TestStep{
		createdStep(cfg, addr, &firstID),
		// Refresh finds it gone: a plan to re-create, not an error.
		goneStep(cfg, deleteIt),
		recreatedStep(cfg, addr, "connection", &firstID, nil),
	})
}

func TestAccConnection_changedOutOfBand(t *testing.T) {
	e := newAccEnv(t)
	cfg := bearerConfig(e, "drifting", "https://mcp.example.com/drifting", "drift-token", 1)
	var id string
	writeOnlyTest(t, e.checkDestroyed, []resource.TestStep{
		createdStep(cfg, addr, &id),
		{
			// Someone renames it, moves it and drops its credentials in the API.
			PreConfig: changeOutOfBand(t, func(ctx context.Context) error {
				none := contract.AuthNone
				_, err := e.client.UpdateConnection(ctx, id, contract.UpdateConnectionRequest{
					Name: new("renamed-by-hand"), ServerURL: new("https://elsewhere.example.com/mcp"), AuthType: &none,
				})
				return err
			}),
			Config: cfg,
			ConfigPlanChecks: planned(addr, plancheck.ResourceActionUpdate,
				plancheck.ExpectKnownValue(addr, attr("name"), knownvalue.StringExact("drifting")),
				plancheck.ExpectKnownValue(addr, attr("auth_type"), knownvalue.StringExact("bearer")),
			),
			Check: resource.ComposeAggregateTestCheckFunc(
				e.checkToken(t, "drift-token"),
				func(*terraform.State) error {
					conn, err := e.client.GetConnection(context.Background(), id)
					if err != nil {
						return err
					}
					if conn.Name != "drifting" || conn.ServerURL != "https://mcp.example.com/drifting" || conn.AuthType != contract.AuthBearer {
						return fmt.Errorf("apply did not repair the connection: %+v", conn)
					}
					return nil
				},
			),
		},
	})
}

func TestAccConnection_duplicateName(t *testing.T) {
	e := newAccEnv(t)
	_, err := e.client.CreateConnection(context.Background(), contract.CreateConnectionRequest{
		Name: "taken", ServerURL: "https://mcp.example.com/taken",
	})
	if err != nil {
		t.Fatal(err)
	}
	parallelTest(t, e.checkDestroyed, []resource.TestStep{{
		Config:      connectionConfig(e, "taken", "https://mcp.example.com/other", ""),
		ExpectError: regexp.MustCompile(`(?s)MCP connection name already in use.*"taken"\s+already\s+exists.*Choose\s+another\s+name`),
	}})
}

func TestAccConnection_import(t *testing.T) {
	e := newAccEnv(t)
	conn, err := e.client.CreateConnection(context.Background(), contract.CreateConnectionRequest{
		Name: "made-elsewhere", ServerURL: "https://mcp.example.com/elsewhere",
		AuthType: contract.AuthBearer, BearerToken: new("pre-existing"),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := storedTokenConfig(e, "made-elsewhere", "https://mcp.example.com/elsewhere", "pre-existing")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testFactories,
		Steps: []resource.TestStep{
			{
				Config:        cfg,
				ResourceName:  addr,
				ImportState:   true,
				ImportStateId: "not-a-uuid",
				ExpectError:   regexp.MustCompile(`(?s)Invalid import ID.*must be a connection id \(a UUID`),
			},
			{
				Config:        cfg,
				ResourceName:  addr,
				ImportState:   true,
				ImportStateId: "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11",
				ExpectError:   regexp.MustCompile(`Cannot import non-existent remote object`),
			},
			{
				Config:             cfg,
				ResourceName:       addr,
				ImportState:        true,
				ImportStateId:      conn.ID,
				ImportStatePersist: true,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 || states[0].Attributes["name"] != "made-elsewhere" || states[0].Attributes["auth_type"] != "bearer" {
						return fmt.Errorf("imported %+v", states)
					}
					return nil
				},
			},
			{
				// After import only the token, which the API never returns,
				// differs; applying sends it and converges.
				Config:           cfg,
				ConfigPlanChecks: planned(addr, plancheck.ResourceActionUpdate),
				Check:            e.checkToken(t, "pre-existing"),
			},
		},
	})
}

func TestAccConnection_planTimeValidation(t *testing.T) {
	e := newAccEnv(t)
	cfg := func(body string) string {
		return e.providerBlock() + "resource \"mcp_connection\" \"test\" {\n" + body + "\n}\n"
	}
	long := strings.Repeat("n", contract.NameMaxLength+1)
	tests := []struct {
		body string
		want string
	}{
		{`name = ""
server_url = "https://mcp.example.com"`, `Invalid name.*name must not be empty`},
		{`name = "` + long + `"
server_url = "https://mcp.example.com"`, `Invalid name.*at most 200 characters, got 201`},
		{`name = "x"
server_url = "ftp://mcp.example.com"`, `Invalid MCP server URL.*absolute http or https URL`},
		{`name = "x"
server_url = "mcp.example.com/path"`, `Invalid MCP server URL`},
		{`name = "x"
server_url = "https://user:pw@mcp.example.com"`, `must not carry credentials`},
		{`name = "x"
server_url = "https://mcp.example.com"
auth_type = "basic"`, `auth_type.*value must be one of`},
		{`name = "x"
server_url = "https://mcp.example.com"
auth_type = "bearer"`, `Missing bearer token.*bearer_token_wo`},
		{`name = "x"
server_url = "https://mcp.example.com"
bearer_token = "t"`, `Bearer token without bearer authentication.*auth_type = "bearer"`},
		{`name = "x"
server_url = "https://mcp.example.com"
auth_type = "bearer"
bearer_token = "t"
bearer_token_wo = "t"
bearer_token_wo_version = 1`, `Invalid Attribute Combination.*bearer_token`},
		{`name = "x"
server_url = "https://mcp.example.com"
auth_type = "bearer"
bearer_token_wo = "t"`, `bearer_token_wo_version.*must be specified`},
		{`name = "x"
server_url = "https://mcp.example.com"
auth_type = "bearer"
bearer_token = "has space"`, `Invalid bearer token.*printable ASCII`},
	}
	steps := make([]resource.TestStep, len(tests))
	for i, tt := range tests {
		steps[i] = resource.TestStep{
			Config:      cfg(tt.body),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)` + tt.want),
		}
	}
	writeOnlyTest(t, nil, steps)
}

// TestAccConnection_unknownValues feeds values known only after apply into
// every attribute the validators and ValidateConfig look at.
func TestAccConnection_unknownValues(t *testing.T) {
	e := newAccEnv(t)
	unknowns := e.providerBlock() + `
resource "terraform_data" "in" {
  input = {
    name  = "from-terraform-data"
    auth  = "bearer"
    token = "token-from-terraform-data"
  }
}
resource "mcp_connection" "test" {
  name                    = terraform_data.in.output.name
  server_url              = "https://mcp.example.com/${terraform_data.in.output.name}"
  auth_type               = terraform_data.in.output.auth
  bearer_token_wo         = terraform_data.in.output.token
  bearer_token_wo_version = 1
}
`
	writeOnlyTest(t, e.checkDestroyed, []resource.TestStep{
		{
			Config:           unknowns,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: unknownValues(addr, "name", "auth_type")},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, attr("name"), knownvalue.StringExact("from-terraform-data")),
				statecheck.ExpectKnownValue(addr, attr("server_url"), knownvalue.StringExact("https://mcp.example.com/from-terraform-data")),
				statecheck.ExpectKnownValue(addr, attr("auth_type"), knownvalue.StringExact("bearer")),
			},
			Check: e.checkToken(t, "token-from-terraform-data"),
		},
		{
			// An unknown that turns out invalid is caught at apply, when
			// Terraform validates the configuration again with known values.
			Config: unknowns + `
resource "terraform_data" "bad" {
  input = "none"
}
resource "mcp_connection" "late" {
  name         = "late"
  server_url   = "https://mcp.example.com/late"
  auth_type    = terraform_data.bad.output
  bearer_token = "a-token"
}
`,
			ExpectError: regexp.MustCompile(`(?s)Bearer token without bearer authentication.*mcp_connection\.late`),
		},
	})
}
