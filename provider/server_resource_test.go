package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/health"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

const serverAddr = "mcp_server.test"

var serverIDPattern = regexp.MustCompile(`^mcp_[A-Za-z0-9]+$`)

// newServerAccEnv is newAccEnv with the API's real MCP server prober,
// allowed to reach loopback (where the test MCP servers listen) and to start
// the stdio programs in stdioDir named by stdio.
func newServerAccEnv(t *testing.T, stdioDir string, stdio ...string) *accEnv {
	t.Helper()
	return newAccEnv(t, apitest.WithConfig(func(s *apitest.Server, cfg *httpapi.Config) {
		sc, err := health.NewServerChecker(health.CheckerConfig{
			Store:         s.Store,
			Keyring:       s.Keyring,
			Prober:        probe.New(probe.Options{Timeout: 10 * time.Second, AllowPrivate: true, StdioTerminateDelay: 200 * time.Millisecond}),
			Interval:      time.Hour,
			StdioCommands: stdio,
			StdioPath:     stdioDir,
		})
		if err != nil {
			t.Fatalf("NewServerChecker: %v", err)
		}
		// Runs before the store closes: background probes finish first.
		t.Cleanup(sc.Wait)
		cfg.ServerChecker = sc
		cfg.StdioCommands = stdio
	}))
}

// project makes a project outside Terraform, for configurations that only
// manage servers.
func (e *accEnv) project(t *testing.T, name string) string {
	t.Helper()
	p, err := e.client.CreateProject(context.Background(), contract.CreateProjectRequest{Name: name})
	if err != nil {
		t.Fatalf("CreateProject(%q): %v", name, err)
	}
	return p.ID
}

// checkServersDestroyed asserts every mcp_server and mcp_project Terraform knew is gone from the API.
func (e *accEnv) checkServersDestroyed(s *terraform.State) error {
	if err := checkGone(s, "mcp_server", "MCP server", e.client.GetServer); err != nil {
		return err
	}
	return e.checkProjectsDestroyed(s)
}

// tokenWatch follows the Authorization headers an MCP server receives.
type tokenWatch struct {
	mcp  *mcptest.Server
	seen int
}

// mark forgets the requests so far, so the next check looks only at later ones.
func (w *tokenWatch) mark() { w.seen = len(w.mcp.Requests()) }

// saw checks that a request since the last mark carried want as its bearer
// token ("" for none). Earlier requests are left out: a background probe
// of a previous step may still arrive.
func (w *tokenWatch) saw(want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		reqs := w.mcp.Requests()[w.seen:]
		header := ""
		if want != "" {
			header = "Bearer " + want
		}
		for _, r := range reqs {
			if r.Authorization == header {
				return nil
			}
		}
		got := make([]string, len(reqs))
		for i, r := range reqs {
			got[i] = r.Authorization
		}
		return fmt.Errorf("no request to the MCP server carried Authorization %q; got %q", header, got)
	}
}

func TestAccServer_http(t *testing.T) {
	e := newServerAccEnv(t, "")
	mcp := mcptest.StartHTTP(t, mcptest.Config{Name: "Example MCP", Version: "1.0.0", Tools: true, Resources: true})
	closed := mcptest.ClosedURL(t) + "/mcp"
	cfg := func(name, url, extra string) string {
		return e.providerBlock() + serverInProject("servers", "test", name, fmt.Sprintf("url = %q", url), extra)
	}
	sameID := sameValues()

	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{
		{
			Config: cfg("Production Server", mcp.URL, `description = "Main production MCP server"`),
			ConfigPlanChecks: planned(serverAddr, plancheck.ResourceActionCreate,
				plancheck.ExpectUnknownValue(serverAddr, attr("status")),
				plancheck.ExpectKnownValue(serverAddr, attr("transport_type"), knownvalue.StringExact("http")),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(serverAddr, attr("id")),
				statecheck.ExpectKnownValue(serverAddr, attr("id"), knownvalue.StringRegexp(serverIDPattern)),
				samePair(serverAddr, attr("project_id"), projectAddr, attr("id")),
				statecheck.ExpectKnownValue(serverAddr, attr("name"), knownvalue.StringExact("Production Server")),
				statecheck.ExpectKnownValue(serverAddr, attr("description"), knownvalue.StringExact("Main production MCP server")),
				statecheck.ExpectKnownValue(serverAddr, attr("url"), knownvalue.StringExact(mcp.URL)),
				statecheck.ExpectKnownValue(serverAddr, attr("transport_type"), knownvalue.StringExact("http")),
				statecheck.ExpectKnownValue(serverAddr, attr("connection_type"), knownvalue.StringExact("direct")),
				statecheck.ExpectKnownValue(serverAddr, attr("command"), knownvalue.Null()),
				statecheck.ExpectKnownValue(serverAddr, attr("args"), knownvalue.Null()),
				statecheck.ExpectKnownValue(serverAddr, attr("connect_on_apply"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connected")),
				statecheck.ExpectKnownValue(serverAddr, attr("capabilities"), knownvalue.ObjectExact(map[string]knownvalue.Check{
					"tools": knownvalue.Bool(true), "resources": knownvalue.Bool(true), "prompts": knownvalue.Bool(false),
				})),
				statecheck.ExpectKnownValue(serverAddr, attr("server_implementation"), knownvalue.ObjectExact(map[string]knownvalue.Check{
					"name": knownvalue.StringExact("Example MCP"), "version": knownvalue.StringExact("1.0.0"),
				})),
				statecheck.ExpectKnownValue(serverAddr, attr("last_error"), knownvalue.Null()),
				statecheck.ExpectKnownValue(serverAddr, attr("last_connected_at"), knownvalue.StringRegexp(timestampPattern)),
				statecheck.ExpectKnownValue(serverAddr, attr("created_at"), knownvalue.StringRegexp(timestampPattern)),
				statecheck.ExpectKnownValue(serverAddr, attr("updated_at"), knownvalue.StringRegexp(timestampPattern)),
				statecheck.ExpectKnownValue(serverAddr, attr("bearer_token"), knownvalue.Null()),
			},
		},
		{
			// A new url is connected to on apply: nothing listens there, so
			// the state holds the failure, and the apply still succeeds.
			Config:           cfg("Prod", closed, `connection_type = "proxy"`),
			ConfigPlanChecks: planned(serverAddr, plancheck.ResourceActionUpdate),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(serverAddr, attr("id")),
				statecheck.ExpectKnownValue(serverAddr, attr("name"), knownvalue.StringExact("Prod")),
				statecheck.ExpectKnownValue(serverAddr, attr("description"), knownvalue.Null()),
				statecheck.ExpectKnownValue(serverAddr, attr("connection_type"), knownvalue.StringExact("proxy")),
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("error")),
				statecheck.ExpectKnownValue(serverAddr, attr("last_error"), knownvalue.StringRegexp(regexp.MustCompile(`.+`))),
				statecheck.ExpectKnownValue(serverAddr, attr("capabilities"), knownvalue.Null()),
				statecheck.ExpectKnownValue(serverAddr, attr("server_implementation"), knownvalue.Null()),
			},
		},
		{
			// Back to the live server: connected again.
			Config: cfg("Prod", mcp.URL, `connection_type = "proxy"`),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(serverAddr, attr("id")),
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connected")),
				statecheck.ExpectKnownValue(serverAddr, attr("last_error"), knownvalue.Null()),
			},
		},
		{
			ResourceName:      serverAddr,
			ImportState:       true,
			ImportStateVerify: true,
			// The API's own background probe, started by the update, may
			// record its (equal) result after the apply's connect did.
			ImportStateVerifyIgnore: []string{"last_connected_at", "updated_at"},
		},
	})
}

func TestAccServer_sseWriteOnlyToken(t *testing.T) {
	e := newServerAccEnv(t, "")
	project := e.project(t, "sse")
	const token1, token2 = "sse-token-one", "sse-token-two"
	// The server accepts only token2: the first apply fails its handshake.
	mcp := mcptest.StartSSE(t, mcptest.Config{Prompts: true, BearerToken: token2})
	watch := &tokenWatch{mcp: mcp}
	cfg := func(token string, version int) string {
		return e.serverConfig(project, "events", `transport_type = "sse"`, fmt.Sprintf("url = %q", mcp.URL),
			fmt.Sprintf("bearer_token_wo = %q", token), fmt.Sprintf("bearer_token_wo_version = %d", version))
	}
	sameID := sameValues()

	writeOnlyTest(t, e.checkServersDestroyed, []resource.TestStep{
		{
			Config: cfg(token1, 1),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				absentFromPlan{token1},
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(serverAddr, attr("id")),
				statecheck.ExpectKnownValue(serverAddr, attr("transport_type"), knownvalue.StringExact("sse")),
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("error")),
				statecheck.ExpectKnownValue(serverAddr, attr("bearer_token_wo"), knownvalue.Null()),
				statecheck.ExpectKnownValue(serverAddr, attr("bearer_token"), knownvalue.Null()),
				absentFromState{token1},
			},
			Check: watch.saw(token1),
		},
		{
			// Without a version bump Terraform cannot see the new token.
			Config: cfg(token2, 1),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectEmptyPlan(),
			}},
		},
		{
			PreConfig: watch.mark,
			Config:    cfg(token2, 2),
			ConfigPlanChecks: planned(serverAddr, plancheck.ResourceActionUpdate,
				absentFromPlan{token2},
			),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(serverAddr, attr("id")),
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connected")),
				statecheck.ExpectKnownValue(serverAddr, attr("capabilities"), knownvalue.ObjectExact(map[string]knownvalue.Check{
					"tools": knownvalue.Bool(false), "resources": knownvalue.Bool(false), "prompts": knownvalue.Bool(true),
				})),
				statecheck.ExpectKnownValue(serverAddr, attr("bearer_token_wo_version"), knownvalue.Int64Exact(2)),
				absentFromState{token1},
				absentFromState{token2},
			},
			Check: watch.saw(token2),
		},
		{
			// Dropping the token removes it from the server: the handshake fails again.
			PreConfig: watch.mark,
			Config:    e.serverConfig(project, "events", `transport_type = "sse"`, fmt.Sprintf("url = %q", mcp.URL)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("error")),
			},
			Check: watch.saw(""),
		},
	})
}

func TestAccServer_sensitiveBearerToken(t *testing.T) {
	e := newServerAccEnv(t, "")
	project := e.project(t, "sensitive")
	mcp := mcptest.StartHTTP(t, mcptest.Config{Tools: true, BearerToken: "plain-token"})
	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{{
		Config: e.serverConfig(project, "sensitive", fmt.Sprintf("url = %q", mcp.URL), `bearer_token = "plain-token"`),
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
			plancheck.ExpectSensitiveValue(serverAddr, attr("bearer_token")),
		}},
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectSensitiveValue(serverAddr, attr("bearer_token")),
			statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connected")),
		},
		Check: (&tokenWatch{mcp: mcp}).saw("plain-token"),
	}})
}

func TestAccServer_connectOnApply(t *testing.T) {
	e := newServerAccEnv(t, "")
	project := e.project(t, "lazy")
	mcp := mcptest.StartModern(t)
	cfg := func(connect bool) string {
		return e.serverConfig(project, "lazy", fmt.Sprintf("url = %q", mcp.URL), fmt.Sprintf("connect_on_apply = %t", connect))
	}
	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{
		{
			// Not connected on apply: the state holds what the create answered.
			Config: cfg(false),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connecting")),
				statecheck.ExpectKnownValue(serverAddr, attr("connect_on_apply"), knownvalue.Bool(false)),
			},
		},
		{
			// Turning it on connects now.
			Config:           cfg(true),
			ConfigPlanChecks: planned(serverAddr, plancheck.ResourceActionUpdate),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connected")),
				statecheck.ExpectKnownValue(serverAddr, attr("server_implementation").AtMapKey("name"), knownvalue.StringExact("mcptest-modern")),
			},
		},
	})
}

// TestAccServer_apiWithoutProber runs against an API that has no connect
// route: the apply succeeds (with a warning) and state holds "connecting".
func TestAccServer_apiWithoutProber(t *testing.T) {
	e := newAccEnv(t)
	project := e.project(t, "unprobed")
	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{{
		Config: e.serverConfig(project, "unprobed", `url = "https://mcp.example.com/mcp"`),
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connecting")),
		},
	}})
}

func TestAccServer_stdio(t *testing.T) {
	bin := mcptest.BuildStdioServer(t)
	dir, command := filepath.Split(bin)
	e := newServerAccEnv(t, filepath.Clean(dir), command)
	project := e.project(t, "local")
	mcp := mcptest.StartHTTP(t, mcptest.Config{Name: "remote"})
	sameID := sameValues()
	// stdio is the server started as command, with the further attributes attrs.
	stdio := func(command string, attrs ...string) string {
		return e.serverConfig(project, "local", append([]string{`transport_type = "stdio"`, fmt.Sprintf("command = %q", command)}, attrs...)...)
	}

	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{
		{
			Config: stdio(command),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(serverAddr, attr("id")),
				statecheck.ExpectKnownValue(serverAddr, attr("command"), knownvalue.StringExact(command)),
				// The API's empty list reads as the configuration's null.
				statecheck.ExpectKnownValue(serverAddr, attr("args"), knownvalue.Null()),
				statecheck.ExpectKnownValue(serverAddr, attr("url"), knownvalue.Null()),
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connected")),
			},
		},
		{
			// An explicit empty list stays one.
			Config: stdio(command, "args = []"),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(serverAddr, attr("id")),
				statecheck.ExpectKnownValue(serverAddr, attr("args"), knownvalue.ListSizeExact(0)),
			},
		},
		{
			ResourceName:      serverAddr,
			ImportState:       true,
			ImportStateVerify: true,
			// [] and null read the same after import; a background probe
			// may have recorded after the apply's connect.
			ImportStateVerifyIgnore: []string{"args", "last_connected_at", "updated_at"},
		},
		{
			// Switching to http in place.
			Config:           e.serverConfig(project, "local", fmt.Sprintf("url = %q", mcp.URL)),
			ConfigPlanChecks: planned(serverAddr, plancheck.ResourceActionUpdate),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(serverAddr, attr("id")),
				statecheck.ExpectKnownValue(serverAddr, attr("transport_type"), knownvalue.StringExact("http")),
				statecheck.ExpectKnownValue(serverAddr, attr("command"), knownvalue.Null()),
				statecheck.ExpectKnownValue(serverAddr, attr("args"), knownvalue.Null()),
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connected")),
				statecheck.ExpectKnownValue(serverAddr, attr("server_implementation").AtMapKey("name"), knownvalue.StringExact("remote")),
			},
		},
		{
			// And back to stdio, now with arguments.
			Config: stdio(command, `args = ["-name", "from-args"]`),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(serverAddr, attr("id")),
				statecheck.ExpectKnownValue(serverAddr, attr("url"), knownvalue.Null()),
				statecheck.ExpectKnownValue(serverAddr, attr("args"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("-name"), knownvalue.StringExact("from-args"),
				})),
				// The name the child reports proves the arguments reached it.
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connected")),
				statecheck.ExpectKnownValue(serverAddr, attr("server_implementation").AtMapKey("name"), knownvalue.StringExact("from-args")),
			},
		},
		{
			// A command off the allowlist is the API's refusal, with its words.
			Config:      stdio("node"),
			ExpectError: regexp.MustCompile(`(?s)MCP API rejected the request.*command "node" is\s+not\s+allowed.*MCP_API_STDIO_COMMANDS`),
		},
	})
}

func TestAccServer_import(t *testing.T) {
	e := newServerAccEnv(t, "")
	project := e.project(t, "imports")
	mcp := mcptest.StartHTTP(t, mcptest.Config{Tools: true, BearerToken: "pre-existing"})
	s, err := e.client.CreateServer(context.Background(), contract.CreateServerRequest{
		ProjectID: project, Name: "made-elsewhere", URL: new(mcp.URL), ConnectionType: contract.ConnectionProxy,
		BearerToken: new("pre-existing"),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.serverConfig(project, "made-elsewhere", fmt.Sprintf("url = %q", mcp.URL), `connection_type = "proxy"`,
		`bearer_token = "pre-existing"`)
	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{
		{
			Config:        cfg,
			ResourceName:  serverAddr,
			ImportState:   true,
			ImportStateId: "proj_abc",
			ExpectError:   regexp.MustCompile(`(?s)Invalid import ID.*must be an MCP server id such as mcp_abc123.*terraform import mcp_server\.example`),
		},
		{
			Config:        cfg,
			ResourceName:  serverAddr,
			ImportState:   true,
			ImportStateId: "mcp_doesnotexist",
			ExpectError:   regexp.MustCompile(`Cannot import non-existent remote object`),
		},
		{
			Config:             cfg,
			ResourceName:       serverAddr,
			ImportState:        true,
			ImportStateId:      s.ID,
			ImportStatePersist: true,
			ImportStateCheck: func(states []*terraform.InstanceState) error {
				a := states[0].Attributes
				if len(states) != 1 || a["name"] != "made-elsewhere" || a["connection_type"] != "proxy" ||
					a["project_id"] != project || a["connect_on_apply"] != "true" || a["bearer_token"] != "" {
					return fmt.Errorf("imported %+v", a)
				}
				return nil
			},
		},
		{
			// Only the token, which the API never returns, differs; sending
			// the same token again is no endpoint change for the API.
			Config:           cfg,
			ConfigPlanChecks: planned(serverAddr, plancheck.ResourceActionUpdate),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(serverAddr, attr("id"), knownvalue.StringExact(s.ID)),
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connected")),
			},
			Check: (&tokenWatch{mcp: mcp}).saw("pre-existing"),
		},
	})
}

func TestAccServer_drift(t *testing.T) {
	e := newServerAccEnv(t, "")
	mcp := mcptest.StartLegacy(t)
	// inProject is the configuration with the server in the project projectExpr.
	inProject := func(projectExpr string) string {
		return e.providerBlock() + `
resource "mcp_project" "a" {
  name = "a"
}
resource "mcp_project" "b" {
  name = "b"
}
` + serverBlock("test", projectExpr, "drifting", `description = "as configured"`, fmt.Sprintf("url = %q", mcp.URL))
	}
	cfg := inProject("mcp_project.a.id")
	var firstID, projectA, projectB string
	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{
		{
			Config: cfg,
			Check: func(s *terraform.State) (err error) {
				if projectA, err = idOf(s, "mcp_project.a"); err != nil {
					return err
				}
				if projectB, err = idOf(s, "mcp_project.b"); err != nil {
					return err
				}
				firstID, err = idOf(s, serverAddr)
				return err
			},
		},
		{
			// Renamed, moved, re-pointed and disconnected by hand: the apply
			// puts it back and connects again.
			PreConfig: changeOutOfBand(t, func(ctx context.Context) error {
				_, err := e.client.UpdateServer(ctx, firstID, contract.UpdateServerRequest{
					Name: new("renamed-by-hand"), ProjectID: new(projectB), URL: new(mcptest.ClosedURL(t) + "/mcp"),
					Description: new(""),
				})
				if err == nil {
					_, err = e.client.DisconnectServer(ctx, firstID)
				}
				return err
			}),
			Config: cfg,
			ConfigPlanChecks: planned(serverAddr, plancheck.ResourceActionUpdate,
				plancheck.ExpectKnownValue(serverAddr, attr("name"), knownvalue.StringExact("drifting")),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connected")),
			},
			Check: func(*terraform.State) error {
				s, err := e.client.GetServer(context.Background(), firstID)
				if err != nil {
					return err
				}
				if s.Name != "drifting" || s.ProjectID != projectA || s.URL == nil || *s.URL != mcp.URL ||
					s.Description == nil || *s.Description != "as configured" || s.Status != contract.ServerConnected {
					return fmt.Errorf("apply did not repair the server: %+v", s)
				}
				return nil
			},
		},
		{
			// Moving it to the other project in configuration is an update, not a replacement.
			Config:           inProject("mcp_project.b.id"),
			ConfigPlanChecks: planned(serverAddr, plancheck.ResourceActionUpdate),
			Check: func(s *terraform.State) error {
				id, err := idOf(s, serverAddr)
				if err == nil && id != firstID {
					err = fmt.Errorf("moving replaced the server: %s, was %s", id, firstID)
				}
				return err
			},
		},
		// Deleted by hand: refresh drops it and the plan re-creates it.
		recreatedStep(cfg, serverAddr, "server", &firstID, deleteOutOfBand(t, e.client.DeleteServer, &firstID)),
	})
}

func TestAccServer_duplicateName(t *testing.T) {
	e := newServerAccEnv(t, "")
	project := e.project(t, "dups")
	if _, err := e.client.CreateServer(context.Background(), contract.CreateServerRequest{
		ProjectID: project, Name: "taken", URL: new("https://mcp.example.com/mcp"),
	}); err != nil {
		t.Fatal(err)
	}
	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{
		{
			Config:      e.serverConfig(project, "taken", `url = "https://mcp.example.com/other"`),
			ExpectError: regexp.MustCompile(`(?s)MCP server name already in use.*"taken"\s+already\s+exists.*unique\s+within\s+a\s+project`),
		},
		{
			Config: e.providerBlock() + `
resource "mcp_server" "test" {
  project_id = "proj_nosuchproject"
  name       = "orphan"
  url        = "https://mcp.example.com/other"
}
`,
			ExpectError: regexp.MustCompile(`(?s)MCP API rejected the request.*"proj_nosuchproject"\s+is\s+not\s+one\s+of\s+your\s+projects`),
		},
	})
}

func TestAccServer_planTimeValidation(t *testing.T) {
	e := newAccEnv(t)
	const project = `project_id = "proj_abc"
name = "x"
`
	tests := []struct{ body, want string }{
		{project + `transport_type = "grpc"
url = "https://mcp.example.com"`, `transport_type.*value must be one of`},
		{project + `connection_type = "tunnel"
url = "https://mcp.example.com"`, `connection_type.*value must be one of`},
		{project, `Missing url.*transport_type = "http" needs url`},
		{project + `transport_type = "sse"`, `Missing url.*transport_type = "sse" needs url`},
		{project + `url = "https://mcp.example.com"
command = "npx"`, `command not allowed for an http server.*only used when transport_type = "stdio"`},
		{project + `url = "https://mcp.example.com"
args = ["-y"]`, `args not allowed for an http server`},
		{project + `transport_type = "stdio"
command = "npx"
url = "https://mcp.example.com"`, `url not allowed for a stdio server.*Remove url`},
		{project + `transport_type = "stdio"`, `Missing command for a stdio server.*MCP_API_STDIO_COMMANDS`},
		{project + `transport_type = "stdio"
command = "npx"
bearer_token = "t"`, `Bearer token not allowed for a stdio server`},
		{project + `transport_type = "stdio"
command = "/usr/bin/npx"`, `Invalid command.*bare program name`},
		{project + `transport_type = "stdio"
command = "npx -y server"`, `Invalid command.*put arguments in args`},
		{`project_id = "mcp_abc"
name = "x"
url = "https://mcp.example.com"`, `Invalid project id.*must be a project id such as proj_abc123`},
		{project + `url = "ftp://mcp.example.com"`, `Invalid MCP server URL`},
		{project + `url = "https://mcp.example.com"
description = ""`, `Invalid description.*remove the argument`},
		{project + `url = "https://mcp.example.com"
bearer_token = "t"
bearer_token_wo = "t"
bearer_token_wo_version = 1`, `Invalid Attribute Combination.*bearer_token`},
		{project + `url = "https://mcp.example.com"
bearer_token_wo = "t"`, `bearer_token_wo_version.*must be specified`},
		{project + `url = "https://mcp.example.com"
bearer_token = "has space"`, `Invalid bearer token.*printable ASCII`},
		{project + `transport_type = "stdio"
command = "npx"
args = [` + strings.Repeat(`"a", `, contract.MaxArgs+1) + `]`, fmt.Sprintf(`Invalid args.*at most %d items, got %d`, contract.MaxArgs, contract.MaxArgs+1)},
	}
	steps := make([]resource.TestStep, len(tests))
	for i, tt := range tests {
		steps[i] = resource.TestStep{
			Config:   e.providerBlock() + "resource \"mcp_server\" \"test\" {\n" + tt.body + "\n}\n",
			PlanOnly: true,
			// Terraform wraps long messages at any space.
			ExpectError: regexp.MustCompile(`(?s)` + strings.ReplaceAll(tt.want, " ", `\s+`)),
		}
	}
	writeOnlyTest(t, nil, steps)
}

// TestAccServer_unknownValues feeds values known only after apply into the
// attributes ValidateConfig looks at: the plan must not fail on them.
func TestAccServer_unknownValues(t *testing.T) {
	e := newServerAccEnv(t, "")
	mcp := mcptest.StartModern(t)
	parallelTest(t, e.checkServersDestroyed, []resource.TestStep{{
		Config: e.providerBlock() + fmt.Sprintf(`
resource "terraform_data" "in" {
  input = {
    transport = "http"
    url       = %q
  }
}
`, mcp.URL) + serverInProject("unknowns", "test", "unknowns",
			"transport_type = terraform_data.in.output.transport", "url = terraform_data.in.output.url"),
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: unknownValues(serverAddr, "transport_type", "url")},
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue(serverAddr, attr("transport_type"), knownvalue.StringExact("http")),
			statecheck.ExpectKnownValue(serverAddr, attr("status"), knownvalue.StringExact("connected")),
		},
	}})
}

// httpModel is a configured http server as state, plan and config hold it.
func httpModel() serverResourceModel {
	return serverResourceModel{
		serverFields: serverFields{
			recordFields:   recordFields{ID: types.StringValue("mcp_abc"), Name: types.StringValue("srv")},
			ProjectID:      types.StringValue("proj_a"),
			Description:    types.StringNull(),
			TransportType:  types.StringValue("http"),
			ConnectionType: types.StringValue("direct"),
			URL:            types.StringValue("https://mcp.example.com/mcp"),
			Command:        types.StringNull(),
			Args:           types.ListNull(types.StringType),
		},
		bearerTokenFields: bearerTokenFields{
			BearerToken:          types.StringNull(),
			BearerTokenWO:        types.StringNull(),
			BearerTokenWOVersion: types.Int64Null(),
		},
		ConnectOnApply: types.BoolValue(true),
	}
}

func stdioModel() serverResourceModel {
	m := httpModel()
	m.TransportType = types.StringValue("stdio")
	m.URL = types.StringNull()
	m.Command = types.StringValue("npx")
	return m
}

func TestServerUpdateRequest(t *testing.T) {
	tests := []struct {
		name         string
		state        serverResourceModel
		plan         func(*serverResourceModel)
		config       func(*serverResourceModel) // on top of the plan
		want         string                     // the JSON body
		wantEndpoint bool
	}{
		{name: "nothing", state: httpModel(), plan: func(*serverResourceModel) {}, want: `{}`},
		{name: "only connect_on_apply", state: httpModel(), plan: func(m *serverResourceModel) { m.ConnectOnApply = types.BoolValue(false) }, want: `{}`},
		{
			name: "name, project, description and connection type", state: httpModel(),
			plan: func(m *serverResourceModel) {
				m.Name, m.ProjectID = types.StringValue("new"), types.StringValue("proj_b")
				m.Description, m.ConnectionType = types.StringValue("d"), types.StringValue("proxy")
			},
			want: `{"projectId":"proj_b","name":"new","description":"d","connectionType":"proxy"}`,
		},
		{
			name: "description removed", state: func() serverResourceModel { m := httpModel(); m.Description = types.StringValue("d"); return m }(),
			plan: func(m *serverResourceModel) { m.Description = types.StringNull() },
			want: `{"description":""}`,
		},
		{
			name: "url", state: httpModel(),
			plan:         func(m *serverResourceModel) { m.URL = types.StringValue("https://other.example.com/mcp") },
			want:         `{"url":"https://other.example.com/mcp"}`,
			wantEndpoint: true,
		},
		{
			name: "write-only token version", state: httpModel(),
			plan:         func(m *serverResourceModel) { m.BearerTokenWOVersion = types.Int64Value(1) },
			config:       func(m *serverResourceModel) { m.BearerTokenWO = types.StringValue("wo") },
			want:         `{"bearerToken":"wo"}`,
			wantEndpoint: true,
		},
		{
			name: "token removed", state: func() serverResourceModel { m := httpModel(); m.BearerToken = types.StringValue("t"); return m }(),
			plan:         func(m *serverResourceModel) { m.BearerToken = types.StringNull() },
			want:         `{"bearerToken":""}`,
			wantEndpoint: true,
		},
		{
			name: "http to stdio sends command and an empty args list, never url or token", state: httpModel(),
			plan: func(m *serverResourceModel) {
				*m = stdioModel()
			},
			want:         `{"transportType":"stdio","command":"npx","args":[]}`,
			wantEndpoint: true,
		},
		{
			name: "stdio args only", state: stdioModel(),
			plan:         func(m *serverResourceModel) { m.Args = strList("-y", "pkg") },
			want:         `{"args":["-y","pkg"]}`,
			wantEndpoint: true,
		},
		{
			name: "stdio to http sends url and the token", state: stdioModel(),
			plan:         func(m *serverResourceModel) { *m = httpModel(); m.BearerToken = types.StringValue("t") },
			want:         `{"url":"https://mcp.example.com/mcp","transportType":"http","bearerToken":"t"}`,
			wantEndpoint: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := tt.state
			tt.plan(&plan)
			config := plan
			if tt.config != nil {
				tt.config(&config)
			}
			body, endpoint, diags := serverUpdateRequest(context.Background(), plan, tt.state, config)
			if diags.HasError() {
				t.Fatal(diags)
			}
			got, _ := json.Marshal(body)
			if string(got) != tt.want || endpoint != tt.wantEndpoint {
				t.Errorf("got %s, endpoint changed %v; want %s, %v", got, endpoint, tt.want, tt.wantEndpoint)
			}
		})
	}
}
