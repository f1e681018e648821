package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// timestamp is how the API writes times: RFC 3339, UTC, milliseconds.
var timestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// mentions matches a string that contains every one of parts, in order.
func mentions(parts ...string) knownvalue.Check {
	quoted := make([]string, len(parts))
	for i, p := range parts {
		quoted[i] = regexp.QuoteMeta(p)
	}
	return knownvalue.StringRegexp(regexp.MustCompile(`(?s)` + strings.Join(quoted, ".*")))
}

// unknownHealth asserts that the plan leaves every attribute a health check
// writes open: a planned value the check then changed would make Terraform
// report an inconsistent result after apply.
func unknownHealth() []plancheck.PlanCheck {
	return unknownValues(addr, "status", "instructions", "last_error", "last_health_check_at", "updated_at")
}

// checkedActive asserts a passing check of a server that returned instructions.
func checkedActive(instructions string) []statecheck.StateCheck {
	return []statecheck.StateCheck{
		statecheck.ExpectKnownValue(addr, attr("status"), knownvalue.StringExact("active")),
		statecheck.ExpectKnownValue(addr, attr("instructions"), knownvalue.StringExact(instructions)),
		statecheck.ExpectKnownValue(addr, attr("last_error"), knownvalue.Null()),
		statecheck.ExpectKnownValue(addr, attr("last_health_check_at"), knownvalue.StringRegexp(timestamp)),
	}
}

// authorizedAs fails unless s saw requests and every one of them carried
// "Authorization: Bearer <token>" — the token arrived, and only that one.
func authorizedAs(s *mcptest.Server, token string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		reqs := s.Requests()
		if len(reqs) == 0 {
			return fmt.Errorf("the MCP server at %s was never called; want a health check with the bearer token", s.URL)
		}
		for i, r := range reqs {
			if r.Authorization != "Bearer "+token {
				return fmt.Errorf("request %d (%s %v) to the MCP server carried Authorization %q, want %q",
					i, r.Method, r.RPCMethods, r.Authorization, "Bearer "+token)
			}
		}
		return nil
	}
}

// lastAuthorizedAs fails unless the last request s saw carried token.
func lastAuthorizedAs(s *mcptest.Server, token string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		reqs := s.Requests()
		if len(reqs) == 0 {
			return fmt.Errorf("the MCP server at %s was never called", s.URL)
		}
		if got := reqs[len(reqs)-1].Authorization; got != "Bearer "+token {
			return fmt.Errorf("the last request to the MCP server carried Authorization %q, want %q", got, "Bearer "+token)
		}
		return nil
	}
}

// untouched fails if s has seen more than n requests.
func untouched(s *mcptest.Server, n *int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := len(s.Requests()); got != *n {
			return fmt.Errorf("the MCP server saw %d requests, want %d: nothing should have checked it", got, *n)
		}
		return nil
	}
}

// checkNow checks the connection the way the API's scheduler does, outside
// Terraform and its provider.
func (e *accEnv) checkNow(t *testing.T, id string) {
	t.Helper()
	uid, err := uuid.Parse(id)
	if err != nil {
		t.Fatalf("connection id %q: %v", id, err)
	}
	if _, err := e.srv.ConnectionChecker.CheckConnection(context.Background(), e.srv.TenantID, uid); err != nil {
		t.Fatalf("checking connection %s out of band: %v", id, err)
	}
}

func TestAccConnectionHealth_checkedOnCreate(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	const instructions = "Use list_orders before cancel_order."
	mcp := mcptest.StartHTTP(t, mcptest.Config{Instructions: instructions, Tools: true, BearerToken: "create-token"})

	writeOnlyTest(t, e.checkDestroyed, []resource.TestStep{{
		Config: bearerConfig(e, "checked", mcp.URL, "create-token", 1),
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: append(unknownHealth(),
			plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
			plancheck.ExpectKnownValue(addr, attr("check_on_apply"), knownvalue.Bool(true)),
		)},
		ConfigStateChecks: append(checkedActive(instructions),
			statecheck.ExpectKnownValue(addr, attr("check_on_apply"), knownvalue.Bool(true)),
			// The check is the last write, so it is also the update time.
			samePair(addr, attr("updated_at"), addr, attr("last_health_check_at")),
			absentFromState{"create-token"},
		),
		Check: resource.ComposeAggregateTestCheckFunc(
			authorizedAs(mcp, "create-token"),
			e.checkToken(t, "create-token"),
		),
	}})
}

func TestAccConnectionHealth_wrongToken(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	mcp := mcptest.StartHTTP(t, mcptest.Config{Instructions: "guarded", BearerToken: "the-right-token"})

	writeOnlyTest(t, e.checkDestroyed, []resource.TestStep{
		{
			// A failing check is the connection's state, not a failed apply.
			Config: bearerConfig(e, "checked", mcp.URL, "a-wrong-token", 1),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, attr("status"), knownvalue.StringExact("error")),
				statecheck.ExpectKnownValue(addr, attr("last_error"), mentions("HTTP 401", "check the bearer token")),
				statecheck.ExpectKnownValue(addr, attr("instructions"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, attr("last_health_check_at"), knownvalue.StringRegexp(timestamp)),
				absentFromState{"a-wrong-token"},
			},
			Check: authorizedAs(mcp, "a-wrong-token"),
		},
		{
			// What last_error says to do: fix the token. The new one is
			// sent and checked in the same apply.
			Config: bearerConfig(e, "checked", mcp.URL, "the-right-token", 2),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: append(unknownHealth(),
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
			)},
			ConfigStateChecks: checkedActive("guarded"),
			Check:             lastAuthorizedAs(mcp, "the-right-token"),
		},
	})
}

func TestAccConnectionHealth_recheckedOnUpdate(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	first := mcptest.StartHTTP(t, mcptest.Config{Instructions: "first server", BearerToken: "shared-token"})
	second := mcptest.StartHTTP(t, mcptest.Config{Instructions: "second server", BearerToken: "shared-token", Stateful: true})
	checkedAt := differentValues()
	var seen int

	writeOnlyTest(t, e.checkDestroyed, []resource.TestStep{
		{
			Config:            bearerConfig(e, "checked", first.URL, "shared-token", 1),
			ConfigStateChecks: append(checkedActive("first server"), checkedAt.AddStateValue(addr, attr("last_health_check_at"))),
		},
		{
			// A new URL: the API forgets the old server's instructions and
			// the provider checks the new one, with the token it kept.
			Config: bearerConfig(e, "checked", second.URL, "shared-token", 1),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: append(unknownHealth(),
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
			)},
			ConfigStateChecks: append(checkedActive("second server"), checkedAt.AddStateValue(addr, attr("last_health_check_at"))),
			Check:             authorizedAs(second, "shared-token"),
		},
		{
			// A new token is checked too: the server refuses this one.
			Config: bearerConfig(e, "checked", second.URL, "rotated-token", 2),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: append(unknownHealth(),
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
			)},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, attr("status"), knownvalue.StringExact("error")),
				statecheck.ExpectKnownValue(addr, attr("last_error"), mentions("HTTP 401", "check the bearer token")),
				checkedAt.AddStateValue(addr, attr("last_health_check_at")),
			},
			Check: lastAuthorizedAs(second, "rotated-token"),
		},
		{
			Config: bearerConfig(e, "checked", second.URL, "shared-token", 3),
			ConfigStateChecks: append(checkedActive("second server"),
				checkedAt.AddStateValue(addr, attr("last_health_check_at")),
				absentFromState{"shared-token"},
				absentFromState{"rotated-token"},
			),
			Check: lastAuthorizedAs(second, "shared-token"),
		},
		{
			// A rename changes neither endpoint nor credentials: no check,
			// and the result of the last one stays.
			PreConfig:        func() { seen = len(second.Requests()) },
			Config:           bearerConfig(e, "checked and renamed", second.URL, "shared-token", 3),
			ConfigPlanChecks: planned(addr, plancheck.ResourceActionUpdate),
			ConfigStateChecks: append(checkedActive("second server"),
				statecheck.ExpectKnownValue(addr, attr("name"), knownvalue.StringExact("checked and renamed")),
			),
			Check: untouched(second, &seen),
		},
	})
}

// TestAccConnectionHealth_checkOnApplyOff registers a connection without
// checking it, lets the scheduler check it, and reads the result on refresh.
func TestAccConnectionHealth_checkOnApplyOff(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	mcp := mcptest.StartHTTP(t, mcptest.Config{Instructions: "checked later"})
	cfg := func(extra string) string { return connectionConfig(e, "later", mcp.URL, extra) }
	var (
		id, scheduledAt string
		none            int
	)

	parallelTest(t, e.checkDestroyed, []resource.TestStep{
		{
			Config: cfg("  check_on_apply = false\n"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, attr("check_on_apply"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(addr, attr("status"), knownvalue.StringExact("unknown")),
				statecheck.ExpectKnownValue(addr, attr("instructions"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, attr("last_error"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, attr("last_health_check_at"), knownvalue.Null()),
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				untouched(mcp, &none),
				keepID(addr, &id),
			),
		},
		{
			// The scheduler checks it; terraform refresh reads the result,
			// and the plan after it is empty.
			PreConfig:    func() { e.checkNow(t, id) },
			RefreshState: true,
			RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
				plancheck.ExpectEmptyPlan(),
			}},
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(addr, "status", "active"),
				resource.TestCheckResourceAttr(addr, "instructions", "checked later"),
				resource.TestCheckNoResourceAttr(addr, "last_error"),
				resource.TestMatchResourceAttr(addr, "last_health_check_at", timestamp),
				func(s *terraform.State) error {
					scheduledAt = s.RootModule().Resources[addr].Primary.Attributes["last_health_check_at"]
					return nil
				},
			),
		},
		{
			// Turning check_on_apply on checks the connection in that apply.
			Config: cfg(""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: append(unknownHealth(),
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(addr, attr("check_on_apply"), knownvalue.Bool(true)),
			)},
			ConfigStateChecks: checkedActive("checked later"),
			Check: func(s *terraform.State) error {
				if got := s.RootModule().Resources[addr].Primary.Attributes["last_health_check_at"]; got == scheduledAt {
					return fmt.Errorf("last_health_check_at is still the scheduler's %s: turning check_on_apply on did not check", got)
				}
				return nil
			},
		},
		{
			// The server goes away and the scheduler notices: an ordinary
			// plan and apply pick that up without planning any change.
			PreConfig: func() {
				mcp.HTTP.Close()
				e.checkNow(t, id)
			},
			Config: cfg(""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectEmptyPlan(),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, attr("status"), knownvalue.StringExact("error")),
				statecheck.ExpectKnownValue(addr, attr("last_error"), mentions("connection refused")),
				// A failed check keeps what the server said when it last answered.
				statecheck.ExpectKnownValue(addr, attr("instructions"), knownvalue.StringExact("checked later")),
			},
		},
	})
}

// TestAccConnectionHealth_failedChecks registers connections whose check
// fails: the apply succeeds and the state says why.
func TestAccConnectionHealth_failedChecks(t *testing.T) {
	tests := []struct {
		name      string
		start     func(t *testing.T) string // the URL of the server that fails
		lastError knownvalue.Check
	}{
		{"hung", func(t *testing.T) string { return mcptest.StartHung(t).URL },
			mentions("no answer within "+apitest.ProbeTimeout.String(), "did not complete in time")},
		{"a web page", func(t *testing.T) string { return mcptest.StartHTML(t).URL },
			mentions("not an MCP server", "HTML page", "check the URL")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAccEnv(t, apitest.WithProbes())
			parallelTest(t, e.checkDestroyed, []resource.TestStep{{
				Config: connectionConfig(e, tt.name, tt.start(t), ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, attr("status"), knownvalue.StringExact("error")),
					statecheck.ExpectKnownValue(addr, attr("last_error"), tt.lastError),
					statecheck.ExpectKnownValue(addr, attr("instructions"), knownvalue.Null()),
				},
			}})
		})
	}
}

// TestAccConnectionHealth_noProbes runs against an API that cannot run
// health checks: the connection is saved and the apply succeeds (with a
// warning, which TestConnectionHealthCheck_notRun asserts).
func TestAccConnectionHealth_noProbes(t *testing.T) {
	e := newAccEnv(t)
	mcp := mcptest.StartHTTP(t, mcptest.Config{Instructions: "never asked"})
	var none int

	parallelTest(t, e.checkDestroyed, []resource.TestStep{{
		Config: connectionConfig(e, "unprobed", mcp.URL, ""),
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue(addr, attr("id"), knownvalue.NotNull()),
			statecheck.ExpectKnownValue(addr, attr("status"), knownvalue.StringExact("unknown")),
			statecheck.ExpectKnownValue(addr, attr("instructions"), knownvalue.Null()),
			statecheck.ExpectKnownValue(addr, attr("last_error"), knownvalue.Null()),
			statecheck.ExpectKnownValue(addr, attr("last_health_check_at"), knownvalue.Null()),
		},
		Check: untouched(mcp, &none),
	}})
}

// TestConnectionHealthCheck_notRun calls the resource's health check against
// a real API without the health-check route: the acceptance harness cannot
// see warnings, so this asserts the one the apply shows.
func TestConnectionHealthCheck_notRun(t *testing.T) {
	srv := apitest.Start(t)
	c, err := client.New(srv.URL, srv.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := c.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "unprobed", ServerURL: "https://mcp.example.com/unprobed"})
	if err != nil {
		t.Fatal(err)
	}
	r := &connectionResource{recordResource{rec: connectionRecord, client: c}}

	var diags diag.Diagnostics
	got := r.healthCheck(ctx, &diags, conn)

	if got != conn {
		t.Errorf("healthCheck returned %+v, want the unchecked connection", got)
	}
	if diags.HasError() || diags.WarningsCount() != 1 {
		t.Fatalf("diagnostics %+v, want exactly one warning", diags)
	}
	w := diags.Warnings()[0]
	text := w.Summary() + ": " + w.Detail()
	for _, want := range []string{"did not run", conn.ID, `stays "unknown"`, "terraform refresh", "check_on_apply = false"} {
		if !strings.Contains(text, want) {
			t.Errorf("warning %q does not mention %q", text, want)
		}
	}
}

// TestAccConnectionHealth_import imports a checked connection: its health
// comes back as it is stored, and check_on_apply as its default.
func TestAccConnectionHealth_import(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	mcp := mcptest.StartHTTP(t, mcptest.Config{Instructions: "importable", BearerToken: "import-token"})

	writeOnlyTest(t, e.checkDestroyed, []resource.TestStep{
		{
			Config:            bearerConfig(e, "checked", mcp.URL, "import-token", 1),
			ConfigStateChecks: checkedActive("importable"),
		},
		// The API never returns a token; the version is Terraform's own bookkeeping.
		importStep(addr, "bearer_token", "bearer_token_wo", "bearer_token_wo_version"),
	})
}
