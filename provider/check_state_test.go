package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// hashPattern is the shape of a tool and a catalog hash.
var hashPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// neverHad is a well-formed hash no record has had.
var neverHad = contract.HashPrefix + strings.Repeat("0", 64)

// changingServer is a real Go SDK MCP server, served statelessly over
// Streamable HTTP, whose tools a test changes between checks. It starts
// with mcptest's "echo" tool.
type changingServer struct {
	*mcp.Server
	URL string
}

func startChangingServer(t *testing.T) *changingServer {
	t.Helper()
	srv := mcptest.NewServer(mcptest.Config{Tools: true})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true})
	mux := http.NewServeMux()
	mux.Handle(mcptest.Path, h)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return &changingServer{Server: srv, URL: hs.URL + mcptest.Path}
}

// addTool offers a tool that takes an order id.
func (s *changingServer) addTool(name, description string) {
	mcp.AddTool(s.Server, &mcp.Tool{Name: name, Description: description},
		func(context.Context, *mcp.CallToolRequest, struct {
			ID string `json:"id"`
		}) (*mcp.CallToolResult, struct{}, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, struct{}{}, nil
		})
}

// expectCheck asserts the result of a Terraform check block in the plan:
// a failing assertion is a warning to Terraform, never an error, so the
// plan's check results are where a test sees it.
type expectCheck struct {
	name    string
	status  tfjson.CheckStatus
	message string // a substring of the failure message, when status is fail
}

func (c expectCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, r := range req.Plan.Checks {
		if r.Address.Kind != tfjson.CheckKindCheckBlock || r.Address.Name != c.name {
			continue
		}
		if r.Status != c.status {
			resp.Error = fmt.Errorf("check block %q: status %q, want %q", c.name, r.Status, c.status)
			return
		}
		if c.message == "" {
			return
		}
		for _, in := range r.Instances {
			for _, p := range in.Problems {
				if strings.Contains(p.Message, c.message) {
					return
				}
			}
		}
		resp.Error = fmt.Errorf("check block %q failed without the message %q: %+v", c.name, c.message, r.Instances)
		return
	}
	resp.Error = fmt.Errorf("the plan has no result for check block %q", c.name)
}

// getOrderCheck is the catalog data source typeName, labelled test, of the
// record at recordAddr (its id attribute idAttr), and the check block
// offers_get_order asserting that the record's server still offers get_order.
func getOrderCheck(typeName, idAttr, recordAddr string) string {
	return fmt.Sprintf(`
data %[1]q "test" {
  %[2]s = %[3]s.id
}

check "offers_get_order" {
  assert {
    condition     = contains([for t in data.%[1]s.test.tools : t.name], "get_order")
    error_message = "The MCP server no longer offers get_order."
  }
}
`, typeName, idAttr, recordAddr)
}

// getOrderOffered checks, after apply, that the check block of
// getOrderCheck passes.
func getOrderOffered() resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
		expectCheck{name: "offers_get_order", status: tfjson.CheckStatusPass},
	}}
}

// getOrderDropped checks that a plan changes nothing but that the check
// block of getOrderCheck fails, the server no longer offering get_order.
func getOrderDropped() resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectEmptyPlan(),
		expectCheck{name: "offers_get_order", status: tfjson.CheckStatusFail, message: "no longer offers get_order"},
	}}
}

// unknownCheckState asserts that a plan leaves open every attribute a
// check writes, which is what no UseStateForUnknown means.
func unknownCheckState(address string) []plancheck.PlanCheck {
	return unknownValues(address, "protocol_version", "last_error_kind", "tool_count", "tools_hash", "tools_changed_at",
		"tools_drift", "capabilities", "server_implementation")
}

// passedCheckState asserts the check state of a passing check of a
// changingServer offering tools tools.
func passedCheckState(address string, tools int) []statecheck.StateCheck {
	return []statecheck.StateCheck{
		statecheck.ExpectKnownValue(address, attr("protocol_version"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\d$`))),
		statecheck.ExpectKnownValue(address, attr("last_error_kind"), knownvalue.Null()),
		statecheck.ExpectKnownValue(address, attr("tool_count"), knownvalue.Int64Exact(int64(tools))),
		statecheck.ExpectKnownValue(address, attr("tools_hash"), knownvalue.StringRegexp(hashPattern)),
		statecheck.ExpectKnownValue(address, attr("tools_changed_at"), knownvalue.StringRegexp(timestamp)),
		statecheck.ExpectKnownValue(address, attr("capabilities"), knownvalue.ObjectExact(map[string]knownvalue.Check{
			"tools": knownvalue.Bool(true), "resources": knownvalue.Bool(false), "prompts": knownvalue.Bool(false),
		})),
		statecheck.ExpectKnownValue(address, attr("server_implementation"), knownvalue.ObjectExact(map[string]knownvalue.Check{
			"name": knownvalue.StringExact("mcptest"), "version": knownvalue.StringExact("1.0.0"),
		})),
	}
}

// approvedVariable is the variable "approved", null unless set, that the
// configurations give approved_tools_hash.
const approvedVariable = `
variable "approved" {
  type    = string
  default = null
}
`

// approvedConfig is mcp_connection.test at url with approved_tools_hash
// from the variable "approved" (null unless set).
func approvedConfig(e *accEnv, url string) string {
	return e.providerBlock() + approvedVariable + fmt.Sprintf(`
resource "mcp_connection" "test" {
  name                = "approved"
  server_url          = %q
  approved_tools_hash = var.approved
}
`, url)
}

// TestAccConnection_approvedOnCreate sets approved_tools_hash in the
// create itself: the provider creates without it, checks, then approves,
// which the API accepts because the check has just read that hash.
func TestAccConnection_approvedOnCreate(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	cs := startChangingServer(t)
	ctx := context.Background()
	// Another connection to the same server learns the hash it offers.
	other, err := e.client.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "other", ServerURL: cs.URL})
	if err != nil {
		t.Fatal(err)
	}
	if other, err = e.client.CheckConnection(ctx, other.ID); err != nil || other.ToolsHash == nil {
		t.Fatalf("checking the other connection: %+v, %v", other, err)
	}
	hash := *other.ToolsHash

	parallelTest(t, e.checkDestroyed, []resource.TestStep{{
		Config:          approvedConfig(e, cs.URL),
		ConfigVariables: config.Variables{"approved": config.StringVariable(hash)},
		ConfigStateChecks: append(passedCheckState(addr, 1),
			statecheck.ExpectKnownValue(addr, attr("approved_tools_hash"), knownvalue.StringExact(hash)),
			statecheck.ExpectKnownValue(addr, attr("tools_hash"), knownvalue.StringExact(hash)),
			statecheck.ExpectKnownValue(addr, attr("tools_drift"), knownvalue.Bool(false)),
		),
	}})
}

// TestAccConnection_approvalRefusedOnCreate approves a hash the record
// never had: the apply fails saying what to do, and the created connection
// stays in state (tainted, so destroyed after), never orphaned in the API.
func TestAccConnection_approvalRefusedOnCreate(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	cs := startChangingServer(t)

	parallelTest(t, e.checkDestroyed, []resource.TestStep{
		{
			Config:          approvedConfig(e, cs.URL),
			ConfigVariables: config.Variables{"approved": config.StringVariable("sha256:ABC")},
			PlanOnly:        true,
			ExpectError:     regexp.MustCompile(`(?s)Invalid approved_tools_hash.*64\s+lower-case\s+hex\s+digits`),
		},
		{
			Config:          approvedConfig(e, cs.URL),
			ConfigVariables: config.Variables{"approved": config.StringVariable(neverHad)},
			ExpectError: regexp.MustCompile(`(?s)Approved tools hash not accepted.*was\s+saved.*its\s+tools_hash\s+now\s+is\s+sha256:` +
				`.*Apply\s+without\s+approved_tools_hash`),
		},
		{
			// The tainted connection from the failed create is replaced, not duplicated.
			Config:           approvedConfig(e, cs.URL),
			ConfigPlanChecks: planned(addr, plancheck.ResourceActionDestroyBeforeCreate),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, attr("approved_tools_hash"), knownvalue.Null()),
			},
		},
	})
	if list, err := e.client.ListAllConnections(context.Background(), client.ConnectionListOptions{}); err != nil || len(list) != 0 {
		t.Errorf("connections left after destroy: %d, %v; want none (an orphan of the refused create?)", len(list), err)
	}
}
