package provider

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

const serverCatalogAddr = "data.mcp_server_catalog.test"

// serverCatalogConfig is mcp_server.test in projectID at url, with
// approved_tools_hash from the variable "approved", its catalog, and a
// check block asserting that the server still offers get_order.
func serverCatalogConfig(e *accEnv, projectID, url string) string {
	return e.providerBlock() + approvedVariable + serverBlock("test", strconv.Quote(projectID), "catalog", fmt.Sprintf("url = %q", url), "approved_tools_hash = var.approved") +
		getOrderCheck("mcp_server_catalog", "server_id", serverAddr)
}

// TestAccServerCatalog_drift creates a server already approved (the hash
// is what another record of the same server read), then drops a tool.
func TestAccServerCatalog_drift(t *testing.T) {
	e := newServerAccEnv(t, "")
	ctx := context.Background()
	projectID := e.project(t, "catalog")
	cs := startChangingServer(t)
	cs.addTool("get_order", "Returns one order by id.")

	other, err := e.client.CreateServer(ctx, contract.CreateServerRequest{ProjectID: projectID, Name: "other", URL: new(cs.URL)})
	if err != nil {
		t.Fatal(err)
	}
	if other, err = e.client.ConnectServer(ctx, other.ID); err != nil || other.ToolsHash == nil {
		t.Fatalf("connecting the other server: %+v, %v", other, err)
	}
	hash := *other.ToolsHash
	vars := config.Variables{"approved": config.StringVariable(hash)}

	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{
		{
			Config:          serverCatalogConfig(e, projectID, cs.URL),
			ConfigVariables: vars,
			ConfigStateChecks: append(passedCheckState(serverAddr, 2),
				statecheck.ExpectKnownValue(serverAddr, attr("approved_tools_hash"), knownvalue.StringExact(hash)),
				statecheck.ExpectKnownValue(serverAddr, attr("tools_hash"), knownvalue.StringExact(hash)),
				statecheck.ExpectKnownValue(serverAddr, attr("tools_drift"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(serverCatalogAddr, attr("tools_hash"), knownvalue.StringExact(hash)),
				statecheck.ExpectKnownValue(serverCatalogAddr, attr("tools"), knownvalue.ListSizeExact(2)),
			),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckTypeSetElemNestedAttrs(serverCatalogAddr, "tools.*", map[string]string{"name": "get_order"}),
				resource.TestMatchResourceAttr(serverCatalogAddr, "tools.0.hash", hashPattern),
				resource.TestMatchResourceAttr(serverCatalogAddr, "tools.0.input_schema", regexp.MustCompile(`^\{.*\}$`)),
			),
			ConfigPlanChecks: getOrderOffered(),
		},
		{
			// The server drops get_order and the API probes it again.
			PreConfig: func() {
				cs.RemoveTools("get_order")
				list, err := e.client.ListAllServers(ctx, client.ServerListOptions{ProjectID: projectID, Name: "catalog"})
				if err != nil || len(list) != 1 {
					t.Fatalf("servers named catalog: %d, %v", len(list), err)
				}
				if _, err := e.client.ConnectServer(ctx, list[0].ID); err != nil {
					t.Fatalf("ConnectServer: %v", err)
				}
			},
			Config:           serverCatalogConfig(e, projectID, cs.URL),
			ConfigVariables:  vars,
			ConfigPlanChecks: getOrderDropped(),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(serverAddr, attr("tools_drift"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(serverAddr, attr("tool_count"), knownvalue.Int64Exact(1)),
				differentPair(serverAddr, attr("approved_tools_hash"), serverAddr, attr("tools_hash")),
				statecheck.ExpectKnownValue(serverCatalogAddr, attr("tools"), knownvalue.ListSizeExact(1)),
			},
		},
		{
			Config:          serverCatalogConfig(e, projectID, cs.URL),
			ConfigVariables: config.Variables{"approved": config.StringVariable("sha256:" + hash[len("sha256:"):len(hash)-1])},
			PlanOnly:        true,
			ExpectError:     regexp.MustCompile(`Invalid approved_tools_hash`),
		},
		{
			Config:          serverCatalogConfig(e, projectID, cs.URL),
			ConfigVariables: config.Variables{"approved": config.StringVariable(neverHad)},
			ExpectError:     regexp.MustCompile(`(?s)Approved tools hash not accepted.*MCP\s+server\s+"catalog".*Apply\s+without\s+approved_tools_hash`),
		},
	})
}

// TestAccServerCatalog_missing: a server that never passed a check has no catalog.
func TestAccServerCatalog_missing(t *testing.T) {
	e := newServerAccEnv(t, "")
	projectID := e.project(t, "missing")

	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{
		{
			Config: e.serverConfig(projectID, "unchecked", fmt.Sprintf("url = %q", mcptest.ClosedURL(t)+"/mcp"), "connect_on_apply = false") + `
data "mcp_server_catalog" "test" {
  server_id = mcp_server.test.id
}
`,
			ExpectError: regexp.MustCompile(`(?s)No catalog yet.*MCP\s+server\s+"unchecked".*exists`),
		},
		{
			Config: e.providerBlock() + `
data "mcp_server_catalog" "test" {
  server_id = "mcp_missing0"
}
`,
			ExpectError: regexp.MustCompile(`(?s)MCP server not found.*mcp_missing0`),
		},
	})
}
