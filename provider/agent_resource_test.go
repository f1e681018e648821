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
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

const agentAddr = "mcp_agent.test"

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// assignmentAttr is an attribute of the i-th assignment block.
func assignmentAttr(i int, name string) tfjsonpath.Path {
	return tfjsonpath.New("assignment").AtSliceIndex(i).AtMapKey(name)
}

// checkAgentsDestroyed asserts every mcp_agent Terraform knew is gone from
// the API, then the servers, projects and connections.
func (e *accEnv) checkAgentsDestroyed(s *terraform.State) error {
	if err := checkGone(s, "mcp_agent", "agent", e.client.GetAgent); err != nil {
		return err
	}
	if err := e.checkServersDestroyed(s); err != nil {
		return err
	}
	return e.checkDestroyed(s)
}

// checkGatewayURL checks that addr's gateway_url is <something>/<kind>/<its id>.
func checkGatewayURL(addr, kind string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		got, want := rs.Primary.Attributes["gateway_url"], "/mcp/"+kind+"/"+rs.Primary.ID
		if !strings.HasPrefix(got, "http") || !strings.HasSuffix(got, want) {
			return fmt.Errorf("%s.gateway_url = %q, want an http(s) URL ending in %s", addr, got, want)
		}
		return nil
	}
}

// agentRecords starts two MCP servers with instructions and returns the
// configuration of a connection to one and a proxied server in front of
// the other.
func agentRecords(t *testing.T) string {
	t.Helper()
	oms := mcptest.StartHTTP(t, mcptest.Config{Name: "oms", Tools: true, Instructions: "Orders are looked up by number."})
	ledger := mcptest.StartHTTP(t, mcptest.Config{Name: "ledger", Tools: true, Instructions: "Amounts are in cents."})
	return fmt.Sprintf(`
resource "mcp_connection" "oms" {
  name       = "Order Management System"
  server_url = %q
}
`, oms.URL) + serverInProject("agents", "ledger", "Ledger", fmt.Sprintf("url = %q", ledger.URL), `connection_type = "proxy"`)
}

// Instructions as the API composes them (SPEC §10): "## <record name>",
// then the record's instructions, the records separated by blank lines.
var (
	omsThenLedger = regexp.MustCompile(`(?s)^## Order Management System\n+Orders are looked up by number\.\n\n## Ledger\n+Amounts are in cents\.$`)
	ledgerThenOMS = regexp.MustCompile(`(?s)^## Ledger\n+Amounts are in cents\.\n\n## Order Management System\n+Orders are looked up by number\.$`)
)

func TestAccAgent_lifecycle(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	records := agentRecords(t)
	cfg := func(agent string) string { return e.providerBlock() + records + agent }
	sameID := sameValues()

	parallelTest(t, e.checkAgentsDestroyed, []resource.TestStep{
		{
			Config: cfg(`
resource "mcp_agent" "test" {
  name        = "Support"
  description = "Answers customers"
  assignment {
    connection_id = mcp_connection.oms.id
    prefix        = "oms"
  }
  assignment {
    server_id     = mcp_server.ledger.id
    allowed_tools = ["echo"]
  }
}
`),
			ConfigPlanChecks: planned(agentAddr, plancheck.ResourceActionCreate,
				plancheck.ExpectUnknownValue(agentAddr, attr("instructions")),
				plancheck.ExpectUnknownValue(agentAddr, attr("gateway_url")),
				plancheck.ExpectUnknownValue(agentAddr, assignmentAttr(1, "prefix")),
				plancheck.ExpectKnownValue(agentAddr, assignmentAttr(0, "prefix"), knownvalue.StringExact("oms")),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(agentAddr, attr("id")),
				statecheck.ExpectKnownValue(agentAddr, attr("id"), knownvalue.StringRegexp(uuidPattern)),
				statecheck.ExpectKnownValue(agentAddr, attr("tenant_id"), knownvalue.StringExact(e.srv.TenantID.String())),
				statecheck.ExpectKnownValue(agentAddr, attr("name"), knownvalue.StringExact("Support")),
				statecheck.ExpectKnownValue(agentAddr, attr("description"), knownvalue.StringExact("Answers customers")),
				samePair(agentAddr, assignmentAttr(0, "connection_id"), "mcp_connection.oms", attr("id")),
				statecheck.ExpectKnownValue(agentAddr, assignmentAttr(0, "server_id"), knownvalue.Null()),
				statecheck.ExpectKnownValue(agentAddr, assignmentAttr(0, "allowed_tools"), knownvalue.Null()),
				samePair(agentAddr, assignmentAttr(1, "server_id"), "mcp_server.ledger", attr("id")),
				statecheck.ExpectKnownValue(agentAddr, assignmentAttr(1, "connection_id"), knownvalue.Null()),
				// The API's default: the server's name, lowercased.
				statecheck.ExpectKnownValue(agentAddr, assignmentAttr(1, "prefix"), knownvalue.StringExact("ledger")),
				statecheck.ExpectKnownValue(agentAddr, assignmentAttr(1, "allowed_tools"),
					knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("echo")})),
				statecheck.ExpectKnownValue(agentAddr, attr("instructions"), knownvalue.StringRegexp(omsThenLedger)),
				statecheck.ExpectKnownValue(agentAddr, attr("created_at"), knownvalue.StringRegexp(timestampPattern)),
				statecheck.ExpectKnownValue(agentAddr, attr("updated_at"), knownvalue.StringRegexp(timestampPattern)),
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				checkGatewayURL(agentAddr, "agents"),
				checkGatewayURL("mcp_server.ledger", "servers"),
			),
		},
		{
			// The order composes the instructions; allowed_tools moves
			// from one record to the other, and an empty set means none.
			Config: cfg(`
resource "mcp_agent" "test" {
  name = "Support desk"
  assignment {
    server_id = mcp_server.ledger.id
  }
  assignment {
    connection_id = mcp_connection.oms.id
    prefix        = "orders"
    allowed_tools = []
  }
}
`),
			ConfigPlanChecks: planned(agentAddr, plancheck.ResourceActionUpdate,
				plancheck.ExpectUnknownValue(agentAddr, attr("instructions")),
				plancheck.ExpectUnknownValue(agentAddr, attr("updated_at")),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(agentAddr, attr("id")),
				statecheck.ExpectKnownValue(agentAddr, attr("name"), knownvalue.StringExact("Support desk")),
				statecheck.ExpectKnownValue(agentAddr, attr("description"), knownvalue.Null()),
				statecheck.ExpectKnownValue(agentAddr, assignmentAttr(0, "prefix"), knownvalue.StringExact("ledger")),
				statecheck.ExpectKnownValue(agentAddr, assignmentAttr(0, "allowed_tools"), knownvalue.Null()),
				statecheck.ExpectKnownValue(agentAddr, assignmentAttr(1, "prefix"), knownvalue.StringExact("orders")),
				statecheck.ExpectKnownValue(agentAddr, assignmentAttr(1, "allowed_tools"), knownvalue.SetSizeExact(0)),
				statecheck.ExpectKnownValue(agentAddr, attr("instructions"), knownvalue.StringRegexp(ledgerThenOMS)),
			},
			Check: checkGatewayURL(agentAddr, "agents"),
		},
		importStep(agentAddr),
		{
			// Without assignments the agent has no records and no instructions.
			Config: cfg(`
resource "mcp_agent" "test" {
  name = "Support desk"
}
`),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(agentAddr, attr("id")),
				statecheck.ExpectKnownValue(agentAddr, attr("assignment"), knownvalue.ListSizeExact(0)),
				statecheck.ExpectKnownValue(agentAddr, attr("instructions"), knownvalue.Null()),
			},
		},
		{
			ResourceName:  agentAddr,
			ImportState:   true,
			ImportStateId: "not-a-uuid",
			ExpectError:   regexp.MustCompile(`(?s)Invalid import ID.*must be an agent id.*terraform import mcp_agent\.example`),
		},
	})
}

func TestAccAgent_drift(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	cfg := e.providerBlock() + agentRecords(t) + `
resource "mcp_agent" "test" {
  name = "Drifting"
  assignment {
    connection_id = mcp_connection.oms.id
  }
}
`
	var firstID, serverID string
	ctx := context.Background()
	parallelTest(t, e.checkAgentsDestroyed, []resource.TestStep{
		{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				// "Order Management System", as the API's default prefix.
				statecheck.ExpectKnownValue(agentAddr, assignmentAttr(0, "prefix"), knownvalue.StringExact("order_management_system")),
			},
			Check: func(s *terraform.State) (err error) {
				if firstID, err = idOf(s, agentAddr); err != nil {
					return err
				}
				serverID, err = idOf(s, "mcp_server.ledger")
				return err
			},
		},
		{
			// Assignments changed outside Terraform show as a diff...
			PreConfig: changeOutOfBand(t, func(ctx context.Context) error {
				as := []contract.Assignment{{ServerID: &serverID, Prefix: "ledger"}}
				_, err := e.client.UpdateAgent(ctx, firstID, contract.UpdateAgentRequest{Name: new("Renamed"), Assignments: &as})
				return err
			}),
			Config:             cfg,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		},
		{
			// ...that apply repairs in place.
			Config:           cfg,
			ConfigPlanChecks: planned(agentAddr, plancheck.ResourceActionUpdate),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(agentAddr, attr("name"), knownvalue.StringExact("Drifting")),
				statecheck.ExpectKnownValue(agentAddr, attr("assignment"), knownvalue.ListSizeExact(1)),
				samePair(agentAddr, assignmentAttr(0, "connection_id"), "mcp_connection.oms", attr("id")),
				statecheck.ExpectKnownValue(agentAddr, assignmentAttr(0, "server_id"), knownvalue.Null()),
			},
			Check: func(*terraform.State) error {
				a, err := e.client.GetAgent(ctx, firstID)
				if err != nil {
					return err
				}
				if a.Name != "Drifting" || len(a.Assignments) != 1 || a.Assignments[0].ConnectionID == nil {
					return fmt.Errorf("the API holds %+v after the repair", a)
				}
				return nil
			},
		},
		// Deleted outside Terraform: a plan to re-create, not an error.
		recreatedStep(cfg, agentAddr, "agent", &firstID, deleteOutOfBand(t, e.client.DeleteAgent, &firstID)),
	})
}

func TestAccAgent_dataSource(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	cfg := e.providerBlock() + agentRecords(t) + `
resource "mcp_agent" "test" {
  name = "Looked up"
  assignment {
    connection_id = mcp_connection.oms.id
    allowed_tools = ["echo"]
  }
  assignment {
    server_id = mcp_server.ledger.id
    prefix    = "books"
  }
}
data "mcp_agent" "by_name" {
  name       = "Looked up"
  depends_on = [mcp_agent.test]
}
data "mcp_agent" "by_id" {
  id = mcp_agent.test.id
}
`
	sources := []string{"data.mcp_agent.by_name", "data.mcp_agent.by_id"}
	checks := sameAs(agentAddr, sources,
		"id", "tenant_id", "name", "description", "assignment", "instructions", "gateway_url", "created_at", "updated_at")
	for _, ds := range sources {
		checks = append(checks,
			statecheck.ExpectKnownValue(ds, assignmentAttr(1, "prefix"), knownvalue.StringExact("books")),
			statecheck.ExpectKnownValue(ds, attr("instructions"), knownvalue.StringRegexp(omsThenLedger)),
		)
	}
	parallelTest(t, e.checkAgentsDestroyed, append([]resource.TestStep{{Config: cfg, ConfigStateChecks: checks}},
		notFoundSteps(e.providerBlock(), "mcp_agent", "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11", "Nobody",
			regexp.MustCompile(`(?s)Agent not found.*No agent with id 3f0b8a52`),
			regexp.MustCompile(`(?s)Agent not found.*No agent named "Nobody"`))...))
}

// TestAccAgent_serverGatewayURL follows gateway_url of an mcp_server as it
// switches between direct and proxy: null, then known in the same apply,
// then null again.
func TestAccAgent_serverGatewayURL(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	mcp := mcptest.StartModern(t)
	cfg := func(connType string) string {
		return e.providerBlock() + serverInProject("gateway", "test", "switching",
			fmt.Sprintf("url = %q", mcp.URL), fmt.Sprintf("connection_type = %q", connType))
	}
	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{
		{
			Config: cfg("direct"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectKnownValue(serverAddr, attr("gateway_url"), knownvalue.Null()),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(serverAddr, attr("gateway_url"), knownvalue.Null()),
			},
		},
		{
			Config: cfg("proxy"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue(serverAddr, attr("gateway_url")),
			}},
			Check: checkGatewayURL(serverAddr, "servers"),
		},
		{
			// Staying proxied keeps the URL known in the plan.
			Config: strings.Replace(cfg("proxy"), `"switching"`, `"switched"`, 1),
			ConfigPlanChecks: planned(serverAddr, plancheck.ResourceActionUpdate,
				plancheck.ExpectKnownValue(serverAddr, attr("gateway_url"), knownvalue.StringRegexp(regexp.MustCompile(`/mcp/servers/mcp_`))),
			),
			Check: checkGatewayURL(serverAddr, "servers"),
		},
		{
			Config: cfg("direct"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectKnownValue(serverAddr, attr("gateway_url"), knownvalue.Null()),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(serverAddr, attr("gateway_url"), knownvalue.Null()),
			},
		},
	})
}

func TestAccAgent_planTimeValidation(t *testing.T) {
	e := newAccEnv(t)
	const conn = `"3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11"`
	tests := []struct{ body, want string }{
		{`assignment {
  prefix = "x"
}`, `Assignment names no record.*assignment 0 sets neither connection_id nor server_id`},
		{`assignment {
  connection_id = ` + conn + `
  server_id     = "mcp_abc"
}`, `Assignment names two records.*assignment 0 sets both connection_id and server_id`},
		{`assignment {
  connection_id = ` + conn + `
  prefix        = "same"
}
assignment {
  server_id = "mcp_abc"
  prefix    = "same"
}`, `Duplicate assignment prefix.*assignments 0 and 1 both have prefix "same"`},
		{`assignment {
  connection_id = "mcp_abc"
}`, `Invalid connection id.*must be a connection id`},
		{`assignment {
  server_id = ` + conn + `
}`, `Invalid MCP server id.*must be an MCP server id such as mcp_abc123`},
		{`assignment {
  server_id = "mcp_abc"
  prefix    = "` + strings.Repeat("p", contract.PrefixMaxLength+1) + `"
}`, fmt.Sprintf(`Invalid assignment prefix.*must be 1 to %d characters from a-z, 0-9 and _`, contract.PrefixMaxLength)},
		{`assignment {
  server_id = "mcp_abc"
  prefix    = "a__b"
}`, `Invalid assignment prefix.*must not contain "__"`},
		{`assignment {
  server_id = "mcp_abc"
  prefix    = "Ledger"
}`, `Invalid assignment prefix.*a-z, 0-9 and _`},
		{`description = ""`, `Invalid description.*remove the argument`},
	}
	steps := make([]resource.TestStep, 0, len(tests)+3)
	for _, tt := range tests {
		steps = append(steps, resource.TestStep{
			Config:   e.providerBlock() + "resource \"mcp_agent\" \"test\" {\n  name = \"x\"\n" + tt.body + "\n}\n",
			PlanOnly: true,
			// Terraform wraps long messages at any space.
			ExpectError: regexp.MustCompile(`(?s)` + strings.ReplaceAll(tt.want, " ", `\s+`)),
		})
	}
	for _, tt := range []struct{ expires, want string }{
		{"tomorrow", `Invalid expires_at.*must be an RFC 3339 timestamp with a time zone`},
		{"2027-01-31T00:00:00", `Invalid expires_at.*must be an RFC 3339 timestamp with a time zone`},
		{"2027-01-31T00:00:00.123456Z", `Invalid expires_at.*precise to the millisecond`},
	} {
		steps = append(steps, resource.TestStep{
			Config: e.providerBlock() + fmt.Sprintf(`
resource "mcp_agent_token" "test" {
  agent_id   = %s
  name       = "ci"
  expires_at = %q
}
`, conn, tt.expires),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)` + strings.ReplaceAll(tt.want, " ", `\s+`)),
		})
	}
	steps = append(steps, resource.TestStep{
		Config:      e.providerBlock() + `data "mcp_agent" "test" {}`,
		PlanOnly:    true,
		ExpectError: regexp.MustCompile(`(?s)Missing Attribute Configuration.*Exactly one of these attributes must be configured: \[id,name\]`),
	})
	parallelTest(t, nil, steps)
}

// TestAccAgent_applyTimeRefusals covers what only the API can check: the
// default prefixes of two records clash, and a direct server is assigned.
func TestAccAgent_applyTimeRefusals(t *testing.T) {
	e := newAccEnv(t)
	records := e.providerBlock() + `
resource "mcp_connection" "ledger" {
  name       = "Ledger"
  server_url = "https://mcp.example.com/ledger"
}
` + serverInProject("refusals", "ledger", "ledger",
		`url = "https://mcp.example.com/ledger"`, `connection_type = "proxy"`, "connect_on_apply = false") + `
resource "mcp_server" "direct" {
  project_id       = mcp_project.test.id
  name             = "direct"
  url              = "https://mcp.example.com/direct"
  connect_on_apply = false
}
`
	parallelTest(t, e.checkAgentsDestroyed, []resource.TestStep{
		{
			Config: records + `
resource "mcp_agent" "test" {
  name = "clash"
  assignment {
    connection_id = mcp_connection.ledger.id
  }
  assignment {
    server_id = mcp_server.ledger.id
  }
}
`,
			ExpectError: regexp.MustCompile(`(?s)Duplicate\s+assignment\s+prefix.*"ledger"\s+is\s+already\s+used.*Set\s+prefix`),
		},
		{
			Config: records + `
resource "mcp_agent" "test" {
  name = "direct"
  assignment {
    server_id = mcp_server.direct.id
  }
}
`,
			ExpectError: regexp.MustCompile(`(?s)MCP API rejected the request.*not\s+a\s+proxy\s+server`),
		},
	})
}
