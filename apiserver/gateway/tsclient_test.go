package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/nodefixture"
)

// The TypeScript SDK's clients (the 1.x @modelcontextprotocol/sdk and the
// 2.x @modelcontextprotocol/client, from npm) through /mcp/servers/{id},
// at each downstream protocol version each can speak: a second real client
// besides the Go SDK's, with its own idea of headers, session ids and the
// 2026-07-28 handshake.

// tsclient is the installed client script: node, and a directory holding
// client.mjs beside a node_modules with the pinned SDKs.
type tsclient struct{ node, dir string }

// installTSClient installs (once, cached) and locates Node 22 and the SDKs.
func installTSClient(t *testing.T) tsclient {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "testdata", "tsclient")
	in, err := nodefixture.Run(src, "tsclient", "@modelcontextprotocol/client/package.json")
	if err != nil {
		t.Fatal(err)
	}
	node, modules := in.Node, in.Modules
	// Node resolves an ES module's imports from the module's own directory
	// upwards, so the script runs from a directory beside the cached modules.
	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join(src, "client.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "client.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return tsclient{node: node, dir: dir}
}

// tsResult is what client.mjs prints.
type tsResult struct {
	SDK             string   `json:"sdk"`
	ProtocolVersion string   `json:"protocolVersion"`
	Server          string   `json:"server"`
	Tools           []string `json:"tools"`
	Call            string   `json:"call"`
	CallIsError     bool     `json:"callIsError"`
	Prompt          string   `json:"prompt"`
	Resource        string   `json:"resource"`
	Error           string   `json:"error"`
	// Status is the HTTP status of a transport error.
	Status int `json:"status"`
}

// tsTarget is what one client session is run against: the URL and the
// bearer token, and the names the upstream's tool, prompt and resource
// have there (an agent endpoint prefixes them).
type tsTarget struct {
	url, bearer            string
	tool, prompt, resource string
}

// exec runs one session of the sdk ("v1" or "v2") client at version and
// returns what it printed and how it exited.
func (c tsclient) exec(t *testing.T, sdk, version string, to tsTarget) (tsResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.node, "client.mjs", sdk, to.url, version, to.tool, to.prompt, to.resource)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "MCP_BEARER="+to.bearer)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	var res tsResult
	if err := json.Unmarshal(bytes.TrimSpace(out), &res); err != nil {
		t.Fatalf("%s client at %s printed no result (%v): %s\n%s", sdk, version, runErr, out, stderr.String())
	}
	if runErr == nil && res.Error != "" {
		runErr = errors.New(res.Error)
	}
	return res, runErr
}

// run is exec for a session that must succeed.
func (c tsclient) run(t *testing.T, sdk, version string, to tsTarget) tsResult {
	t.Helper()
	res, err := c.exec(t, sdk, version, to)
	if err != nil {
		t.Fatalf("%s client at %s failed (%v): %s", sdk, version, err, res.Error)
	}
	return res
}

func TestTypeScriptClientsAtEachVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("installs Node and the TypeScript SDKs from npm; not in -short")
	}
	ts := installTSClient(t)
	// The upstreams start before the API, so that they are closed after it:
	// an httptest server waits for the gateway's open upstream streams.
	cfg := mcptest.Config{Name: "upstream", Tools: true, Prompts: true, Resources: true}
	stateful := mcptest.StartHTTP(t, mcptest.Config{Name: cfg.Name, Tools: true, Prompts: true, Resources: true, Stateful: true})
	stateless := mcptest.StartHTTP(t, cfg)
	e := newEnv(t)

	upstreams := []struct{ name, url string }{
		// An initialize-era upstream (sessions, 2025-11-25) and a
		// 2026-07-28 one (stateless): the gateway serves every downstream
		// version in front of either.
		{"stateful upstream", stateful.URL},
		{"stateless upstream", stateless.URL},
	}
	cases := []struct{ sdk, version string }{
		// The 1.x SDK knows no 2026-07-28.
		{"v1", "2025-06-18"},
		{"v1", "2025-11-25"},
		{"v2", "2025-06-18"},
		{"v2", "2025-11-25"},
		{"v2", "2026-07-28"},
	}
	for _, u := range upstreams {
		id := e.register(t, "ts "+u.name, u.url, contract.ConnectionProxy)
		target := tsTarget{url: e.endpoint(id), bearer: e.api.APIKey, tool: "echo", prompt: "greet", resource: "mcptest://readme"}
		t.Run(u.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.sdk+"/"+c.version, func(t *testing.T) {
					res := ts.run(t, c.sdk, c.version, target)
					if res.ProtocolVersion != c.version {
						t.Errorf("negotiated %q, want %s", res.ProtocolVersion, c.version)
					}
					if res.Server != "upstream" {
						t.Errorf("serverInfo name %q, want the upstream's", res.Server)
					}
					if !slices.Equal(res.Tools, []string{"echo"}) {
						t.Errorf("tools %v, want [echo]", res.Tools)
					}
					if res.CallIsError || res.Call != "hi "+c.version {
						t.Errorf("echo answered %q (isError %v), want %q", res.Call, res.CallIsError, "hi "+c.version)
					}
					if res.Prompt != "hello" || res.Resource != "hello" {
						t.Errorf("prompt %q and resource %q, want hello and hello", res.Prompt, res.Resource)
					}
				})
			}
		})
	}

	// The agent endpoint, with the agent's token: the assigned server's
	// tool and prompt under its prefix, at every version.
	t.Run("agent endpoint", func(t *testing.T) {
		ctx := context.Background()
		id := e.register(t, "ts agent upstream", stateful.URL, contract.ConnectionProxy)
		a, err := e.client.CreateAgent(ctx, contract.CreateAgentRequest{Name: "ts agent",
			Assignments: []contract.Assignment{{ServerID: &id, Prefix: "ts"}}})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := e.client.CreateAgentToken(ctx, a.ID, contract.CreateAgentTokenRequest{Name: "ts"})
		if err != nil {
			t.Fatal(err)
		}
		target := tsTarget{url: e.api.URL + "/mcp/agents/" + a.ID, bearer: *tok.Token, tool: "ts__echo", prompt: "ts__greet", resource: "-"}
		for _, c := range cases {
			t.Run(c.sdk+"/"+c.version, func(t *testing.T) {
				res := ts.run(t, c.sdk, c.version, target)
				if res.ProtocolVersion != c.version {
					t.Errorf("negotiated %q, want %s", res.ProtocolVersion, c.version)
				}
				if !slices.Equal(res.Tools, []string{"ts__echo"}) {
					t.Errorf("tools %v, want [ts__echo]", res.Tools)
				}
				if res.CallIsError || res.Call != "hi "+c.version {
					t.Errorf("ts__echo answered %q (isError %v), want %q", res.Call, res.CallIsError, "hi "+c.version)
				}
				if res.Prompt != "hello" {
					t.Errorf("prompt %q, want hello", res.Prompt)
				}
			})
		}
	})

	// A wrong key never reaches the upstream: the client fails at the
	// handshake with the gateway's 401.
	t.Run("wrong key", func(t *testing.T) {
		id := e.register(t, "ts wrong key", stateful.URL, contract.ConnectionProxy)
		for _, sdk := range []string{"v1", "v2"} {
			res, err := ts.exec(t, sdk, "2025-11-25", tsTarget{url: e.endpoint(id), bearer: "mcpk_wrong_" + strings.Repeat("0", 48),
				tool: "echo", prompt: "greet", resource: "mcptest://readme"})
			if err == nil {
				t.Fatalf("the %s client succeeded with a wrong key: %+v", sdk, res)
			}
			if res.Status != http.StatusUnauthorized {
				t.Errorf("%s client: error %q with status %d, want 401", sdk, res.Error, res.Status)
			}
		}
	})
}
