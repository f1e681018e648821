package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

func TestAccConnectionDataSource(t *testing.T) {
	e := newAccEnv(t)
	base := storedTokenConfig(e, "Inventory", "https://mcp.example.com/inventory", "inventory-token")
	checks := append(sameAs(addr, []string{"data.mcp_connection.by_id"}, "id", "tenant_id", "name", "server_url", "auth_type",
		"status", "instructions", "last_error", "last_health_check_at", "created_at", "updated_at"),
		samePair("data.mcp_connection.by_name", attr("id"), addr, attr("id")),
		statecheck.ExpectKnownValue("data.mcp_connection.by_name", attr("server_url"), knownvalue.StringExact("https://mcp.example.com/inventory")),
		statecheck.ExpectKnownValue("data.mcp_connection.by_name", attr("auth_type"), knownvalue.StringExact("bearer")),
	)
	steps := append([]resource.TestStep{{Config: base + lookupConfig("mcp_connection", addr), ConfigStateChecks: checks}},
		exactlyOneSteps(base, "mcp_connection", addr)...)
	steps = append(steps, notFoundSteps(base, "mcp_connection", "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11", "no such connection",
		regexp.MustCompile(`(?s)MCP connection not found.*No MCP connection with id\s+3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11`),
		regexp.MustCompile(`(?s)MCP connection not found.*No MCP connection named\s+"no such connection"`))...)
	parallelTest(t, e.checkDestroyed, append(steps, []resource.TestStep{
		{
			Config: base + `
data "mcp_connection" "bad" {
  id = "inventory"
}
`,
			ExpectError: regexp.MustCompile(`(?s)Invalid connection id.*must be a connection id \(a UUID`),
		},
		{
			// A valid last step, so the post-test destroy has a valid configuration.
			Config: base,
		},
	}...))
}
