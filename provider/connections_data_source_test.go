package provider

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

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
