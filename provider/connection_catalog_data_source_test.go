package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

const connectionCatalogAddr = "data.mcp_connection_catalog.test"

// catalogCheckConfig is mcp_connection.test, its catalog, and a check block
// asserting that the server still offers get_order.
func catalogCheckConfig(e *accEnv, url string) string {
	return approvedConfig(e, url) + getOrderCheck("mcp_connection_catalog", "connection_id", addr)
}

// connectionIDOf returns the id of the only connection named name, outside Terraform.
func (e *accEnv) connectionIDOf(t *testing.T, name string) string {
	t.Helper()
	list, err := e.client.ListAllConnections(context.Background(), client.ConnectionListOptions{Name: name})
	if err != nil || len(list) != 1 {
		t.Fatalf("connections named %q: %d, %v; want one", name, len(list), err)
	}
	return list[0].ID
}

// TestAccConnectionCatalog_drift follows one connection through the whole
// story: its catalog with hashes, an approval, the server dropping a tool
// (tools_drift, a failing check block), and the approval removed.
func TestAccConnectionCatalog_drift(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	cs := startChangingServer(t)
	cs.addTool("get_order", "Returns one order by id.")
	vars := config.Variables{} // filled in PreConfig, once the hash is known
	changedAt := differentValues()
	var hash string

	parallelTest(t, e.checkDestroyed, []resource.TestStep{
		{
			Config:          catalogCheckConfig(e, cs.URL),
			ConfigVariables: vars,
			ConfigStateChecks: append(passedCheckState(addr, 2),
				statecheck.ExpectKnownValue(addr, attr("tools_drift"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(addr, attr("approved_tools_hash"), knownvalue.Null()),
				statecheck.ExpectKnownValue(connectionCatalogAddr, attr("tools"), knownvalue.ListSizeExact(2)),
				statecheck.ExpectKnownValue(connectionCatalogAddr, attr("prompts"), knownvalue.ListExact(nil)),
				statecheck.ExpectKnownValue(connectionCatalogAddr, attr("resources"), knownvalue.ListExact(nil)),
				statecheck.ExpectKnownValue(connectionCatalogAddr, attr("truncated"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(connectionCatalogAddr, attr("observed_at"), knownvalue.StringRegexp(timestamp)),
				samePair(connectionCatalogAddr, attr("tools_hash"), addr, attr("tools_hash")),
				changedAt.AddStateValue(addr, attr("tools_changed_at")),
			),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckTypeSetElemNestedAttrs(connectionCatalogAddr, "tools.*", map[string]string{
					"name": "get_order", "description": "Returns one order by id.",
				}),
				resource.TestCheckTypeSetElemNestedAttrs(connectionCatalogAddr, "tools.*", map[string]string{"name": "echo"}),
				resource.TestMatchResourceAttr(connectionCatalogAddr, "tools.0.hash", hashPattern),
				resource.TestMatchResourceAttr(connectionCatalogAddr, "tools.1.hash", hashPattern),
				resource.TestMatchResourceAttr(connectionCatalogAddr, "tools.0.input_schema", regexp.MustCompile(`^\{.*"type":"object".*\}$`)),
				resource.TestMatchResourceAttr(connectionCatalogAddr, "tools.1.input_schema", regexp.MustCompile(`^\{.*"properties":\{.*\}$`)),
				func(s *terraform.State) error {
					rs := s.RootModule().Resources[addr]
					if rs == nil {
						return fmt.Errorf("%s not in state", addr)
					}
					hash = rs.Primary.Attributes["tools_hash"]
					return nil
				},
			),
			ConfigPlanChecks: getOrderOffered(),
		},
		{
			// Approve what the first check read.
			PreConfig:       func() { vars["approved"] = config.StringVariable(hash) },
			Config:          catalogCheckConfig(e, cs.URL),
			ConfigVariables: vars,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: append(unknownCheckState(addr),
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
			)},
			ConfigStateChecks: []statecheck.StateCheck{
				samePair(addr, attr("approved_tools_hash"), addr, attr("tools_hash")),
				statecheck.ExpectKnownValue(addr, attr("tools_drift"), knownvalue.Bool(false)),
			},
		},
		{
			// The server drops get_order and the API's scheduler checks it.
			PreConfig: func() {
				cs.RemoveTools("get_order")
				e.checkNow(t, e.connectionIDOf(t, "approved"))
			},
			Config:           catalogCheckConfig(e, cs.URL),
			ConfigVariables:  vars,
			ConfigPlanChecks: getOrderDropped(),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, attr("tools_drift"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(addr, attr("tool_count"), knownvalue.Int64Exact(1)),
				differentPair(addr, attr("approved_tools_hash"), addr, attr("tools_hash")),
				statecheck.ExpectKnownValue(connectionCatalogAddr, attr("tools"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"name": knownvalue.StringExact("echo"), "hash": knownvalue.StringRegexp(hashPattern),
					}),
				})),
				changedAt.AddStateValue(addr, attr("tools_changed_at")),
			},
		},
		{
			// A hash the record never had is refused at apply, with what to do.
			Config:          catalogCheckConfig(e, cs.URL),
			ConfigVariables: config.Variables{"approved": config.StringVariable(neverHad)},
			ExpectError: regexp.MustCompile(`(?s)Approved tools hash not accepted.*refused\s+approved_tools_hash.*` +
				`Apply\s+without\s+approved_tools_hash,\s+read\s+tools_hash`),
		},
		{
			// Removing approved_tools_hash removes the approval.
			PreConfig:       func() { delete(vars, "approved") },
			Config:          catalogCheckConfig(e, cs.URL),
			ConfigVariables: vars,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, attr("approved_tools_hash"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, attr("tools_drift"), knownvalue.Bool(false)),
			},
		},
		{
			ResourceName:      addr,
			ImportState:       true,
			ImportStateVerify: true,
			Config:            catalogCheckConfig(e, cs.URL),
			ConfigVariables:   vars,
		},
	})
}

// TestAccConnectionCatalog_missing: a connection that never passed a check
// has no catalog, and the diagnostic says so; an unknown id says that.
func TestAccConnectionCatalog_missing(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())

	parallelTest(t, e.checkDestroyed, []resource.TestStep{
		{
			// First: the post-test destroy uses the last step's configuration.
			Config: e.providerBlock() + `
data "mcp_connection_catalog" "test" {
  connection_id = "not-a-uuid"
}
`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`Invalid connection id`),
		},
		{
			Config: e.providerBlock() + fmt.Sprintf(`
resource "mcp_connection" "test" {
  name           = "unchecked"
  server_url     = %q
  check_on_apply = false
}

data "mcp_connection_catalog" "test" {
  connection_id = mcp_connection.test.id
}
`, mcptest.ClosedURL(t)+"/mcp"),
			ExpectError: regexp.MustCompile(`(?s)No catalog yet.*"unchecked".*exists,\s+but\s+no\s+check\s+of\s+it\s+has\s+passed`),
		},
		{
			Config: e.providerBlock() + `
data "mcp_connection_catalog" "test" {
  connection_id = "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11"
}
`,
			ExpectError: regexp.MustCompile(`(?s)MCP connection not found.*3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11`),
		},
	})
}

// TestAccConnectionCatalog_checkWarning runs the real terraform CLI on a
// check block with the catalog as its scoped data source, as the examples
// write it: a tool that disappears is a warning that names the check and
// its message, and neither the apply nor the plan fails.
func TestAccConnectionCatalog_checkWarning(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	cs := startChangingServer(t)
	cs.addTool("get_order", "Returns one order by id.")
	tf := newTerraformCLI(t, e.srv.URL, e.srv.APIKey)
	tf.write(t, "main.tf", fmt.Sprintf(`
terraform {
  required_providers {
    mcp = { source = "mcpconn/mcp" }
  }
}

resource "mcp_connection" "oms" {
  name       = "oms"
  server_url = %q
}

check "oms_offers_get_order" {
  data "mcp_connection_catalog" "oms" {
    connection_id = mcp_connection.oms.id
  }

  assert {
    condition     = contains([for t in data.mcp_connection_catalog.oms.tools : t.name], "get_order")
    error_message = "The order MCP server no longer offers get_order."
  }
}
`, cs.URL))

	const warning = "Check block assertion failed"
	code, out := tf.exec(t, "apply", "-auto-approve", "-input=false", "-no-color")
	if code != 0 || strings.Contains(out, warning) {
		t.Fatalf("terraform apply exited %d, want 0 without a failed check:\n%s", code, out)
	}

	cs.RemoveTools("get_order")
	e.checkNow(t, e.connectionIDOf(t, "oms"))
	code, out = tf.exec(t, "plan", "-input=false", "-no-color")
	if code != 0 {
		t.Fatalf("terraform plan exited %d, want 0 (a failed check only warns):\n%s", code, out)
	}
	for _, want := range []string{"Warning: " + warning, `check "oms_offers_get_order"`, "no longer offers get_order"} {
		if !strings.Contains(out, want) {
			t.Errorf("terraform plan output does not contain %q:\n%s", want, out)
		}
	}
	tf.run(t, "destroy", "-auto-approve", "-input=false", "-no-color")
}
