package provider

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

func TestAccServerDataSource(t *testing.T) {
	e := newServerAccEnv(t, "")
	mcp := mcptest.StartHTTP(t, mcptest.Config{Name: "looked-up", Version: "0.9.0", Tools: true})
	base := e.providerBlock() + serverInProject("lookups", "test", "Inventory",
		`description = "found by id and by name"`, fmt.Sprintf("url = %q", mcp.URL))
	sources := []string{"data.mcp_server.by_id", "data.mcp_server.by_name"}
	checks := sameAs(serverAddr, sources, "id", "project_id", "name", "description", "transport_type", "connection_type", "url",
		"command", "args", "capabilities", "server_implementation", "last_error", "created_at")
	for _, ds := range sources {
		checks = append(checks,
			statecheck.ExpectKnownValue(ds, attr("status"), knownvalue.StringExact("connected")),
			statecheck.ExpectKnownValue(ds, attr("server_implementation"), knownvalue.ObjectExact(map[string]knownvalue.Check{
				"name": knownvalue.StringExact("looked-up"), "version": knownvalue.StringExact("0.9.0"),
			})),
		)
	}
	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{
		{
			Config: base + `
data "mcp_server" "by_id" {
  id = mcp_server.test.id
}
data "mcp_server" "by_name" {
  name       = mcp_server.test.name
  project_id = mcp_project.test.id
}
`,
			ConfigStateChecks: checks,
		},
		{
			Config:      base + `data "mcp_server" "none" {}`,
			ExpectError: regexp.MustCompile(`(?s)Missing MCP server lookup.*Set id.*or name and project_id`),
		},
		{
			Config: base + `
data "mcp_server" "both" {
  id   = mcp_server.test.id
  name = "Inventory"
}
`,
			ExpectError: regexp.MustCompile(`(?s)Conflicting MCP server lookup`),
		},
		{
			Config:      base + `data "mcp_server" "no_project" { name = "Inventory" }`,
			ExpectError: regexp.MustCompile(`(?s)Missing project_id.*unique only within a\s+project`),
		},
		{
			Config: base + `
data "mcp_server" "extra_project" {
  id         = mcp_server.test.id
  project_id = mcp_project.test.id
}
`,
			ExpectError: regexp.MustCompile(`(?s)project_id not used with id`),
		},
		{
			Config:      base + `data "mcp_server" "bad" { id = "proj_abc" }`,
			ExpectError: regexp.MustCompile(`(?s)Invalid MCP server id.*must be an MCP server id such as mcp_abc123`),
		},
		{
			Config:      base + `data "mcp_server" "missing" { id = "mcp_nosuchserver" }`,
			ExpectError: regexp.MustCompile(`(?s)MCP server not found.*No MCP server with id mcp_nosuchserver`),
		},
		{
			Config: base + `
data "mcp_server" "missing" {
  name       = "inventory"
  project_id = mcp_project.test.id
}
`,
			ExpectError: regexp.MustCompile(`(?s)MCP server not found.*No MCP server named "inventory" exists in\s+project\s+proj_`),
		},
	})
	if !slices.ContainsFunc(mcp.Requests(), func(r mcptest.Request) bool { return r.Method == "POST" }) {
		t.Error("the MCP server was never contacted")
	}
}
