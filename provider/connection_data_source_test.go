package provider

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

func TestAccConnectionDataSource(t *testing.T) {
	e := newAccEnv(t)
	base := e.providerBlock() + `
resource "mcp_connection" "test" {
  name         = "Inventory"
  server_url   = "https://mcp.example.com/inventory"
  auth_type    = "bearer"
  bearer_token = "inventory-token"
}
`
	same := func(a string) statecheck.StateCheck {
		return statecheck.CompareValuePairs(addr, attr(a), "data.mcp_connection.by_id", attr(a), compare.ValuesSame())
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: base + `
data "mcp_connection" "by_id" {
  id = mcp_connection.test.id
}
data "mcp_connection" "by_name" {
  name = mcp_connection.test.name
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					same("id"), same("tenant_id"), same("name"), same("server_url"), same("auth_type"),
					same("status"), same("instructions"), same("last_error"), same("last_health_check_at"),
					same("created_at"), same("updated_at"),
					statecheck.CompareValuePairs("data.mcp_connection.by_name", attr("id"), addr, attr("id"), compare.ValuesSame()),
					statecheck.ExpectKnownValue("data.mcp_connection.by_name", attr("server_url"), knownvalue.StringExact("https://mcp.example.com/inventory")),
					statecheck.ExpectKnownValue("data.mcp_connection.by_name", attr("auth_type"), knownvalue.StringExact("bearer")),
				},
			},
			{
				Config: base + `
data "mcp_connection" "none" {}
`,
				ExpectError: regexp.MustCompile(`Exactly one of these attributes must be configured: \[id,name\]`),
			},
			{
				Config: base + `
data "mcp_connection" "both" {
  id   = mcp_connection.test.id
  name = "Inventory"
}
`,
				ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination`),
			},
			{
				Config: base + `
data "mcp_connection" "missing" {
  id = "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11"
}
`,
				ExpectError: regexp.MustCompile(`(?s)MCP connection not found.*No MCP connection with id\s+3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11`),
			},
			{
				Config: base + `
data "mcp_connection" "missing" {
  name = "no such connection"
}
`,
				ExpectError: regexp.MustCompile(`(?s)MCP connection not found.*No MCP connection named\s+"no such connection"`),
			},
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
		},
	})
}

func TestAccConnectionsDataSource(t *testing.T) {
	e := newAccEnv(t)
	ctx := context.Background()
	// More than one page of the client's page size would be slow to create
	// through Terraform; created directly, they exercise paging all the same.
	for _, name := range []string{"alpha", "beta", "gamma"} {
		if _, err := e.client.CreateConnection(ctx, contract.CreateConnectionRequest{
			Name: name, ServerURL: "https://mcp.example.com/" + name,
		}); err != nil {
			t.Fatal(err)
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testFactories,
		Steps: []resource.TestStep{
			{
				// First, so the post-test destroy sees the valid configuration below.
				Config: e.providerBlock() + `
data "mcp_connections" "bad" {
  status = "sleeping"
}
`,
				ExpectError: regexp.MustCompile(`(?s)status.*value must be one of`),
			},
			{
				Config: e.providerBlock() + `
data "mcp_connections" "all" {}
data "mcp_connections" "beta" {
  name = "beta"
}
data "mcp_connections" "unknown" {
  status = "unknown"
}
data "mcp_connections" "active" {
  status = "active"
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.mcp_connections.all", attr("connections"), knownvalue.ListSizeExact(3)),
					statecheck.ExpectKnownValue("data.mcp_connections.all", attr("connections").AtSliceIndex(0).AtMapKey("name"), knownvalue.StringExact("alpha")),
					statecheck.ExpectKnownValue("data.mcp_connections.beta", attr("connections"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"name":                 knownvalue.StringExact("beta"),
							"server_url":           knownvalue.StringExact("https://mcp.example.com/beta"),
							"auth_type":            knownvalue.StringExact("none"),
							"status":               knownvalue.StringExact("unknown"),
							"tenant_id":            knownvalue.StringExact(e.srv.TenantID.String()),
							"last_health_check_at": knownvalue.Null(),
							"id":                   knownvalue.NotNull(),
						}),
					})),
					statecheck.ExpectKnownValue("data.mcp_connections.unknown", attr("connections"), knownvalue.ListSizeExact(3)),
					// No matches is an empty list, not null.
					statecheck.ExpectKnownValue("data.mcp_connections.active", attr("connections"), knownvalue.ListExact([]knownvalue.Check{})),
				},
			},
		},
	})
}
