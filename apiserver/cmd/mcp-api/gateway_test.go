package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/internal/logbuf"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// bearer adds the API key to every request, as an agent's MCP client would.
// connectThroughGateway opens an MCP session, as the client name, with the
// gateway endpoint, authenticated with key.
func connectThroughGateway(t *testing.T, ctx context.Context, name, endpoint, key string) *mcp.ClientSession {
	t.Helper()
	session, err := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   endpoint,
		HTTPClient: mcptest.BearerClient(key),
		MaxRetries: -1,
	}, nil)
	if err != nil {
		t.Fatalf("connect through the gateway: %v", err)
	}
	return session
}

// TestServeProxiesMCPServers: serve mounts the gateway, so a proxy server is
// an MCP endpoint at its gatewayUrl and a direct one says it is direct.
func TestServeProxiesMCPServers(t *testing.T) {
	env := serveEnv(t)
	env["MCP_API_ALLOW_PRIVATE_TARGETS"] = "true"
	env["MCP_API_GATEWAY_TIMEOUT"] = "20s"
	key := env["MCP_API_BOOTSTRAP_KEY"]
	upstream := mcptest.StartHTTP(t, mcptest.Config{Name: "upstream", Tools: true, Stateful: true})
	s := startServe(t, env, "--no-scheduler")

	var project struct {
		Project struct{ ID string } `json:"project"`
	}
	if err := json.Unmarshal([]byte(post(t, s.url+"/api/projects", key, `{"name":"gw"}`)), &project); err != nil {
		t.Fatal(err)
	}
	create := func(name, connectionType string) (id, gatewayURL string) {
		var out struct {
			Server struct {
				ID         string  `json:"id"`
				GatewayURL *string `json:"gatewayUrl"`
			} `json:"server"`
		}
		body := post(t, s.url+"/api/mcp/servers", key, `{"projectId":"`+project.Project.ID+`","name":"`+name+
			`","url":"`+upstream.URL+`","connectionType":"`+connectionType+`"}`)
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		if out.Server.GatewayURL != nil {
			gatewayURL = *out.Server.GatewayURL
		}
		return out.Server.ID, gatewayURL
	}

	direct, none := create("direct", "direct")
	if none != "" {
		t.Fatalf("a direct server has gatewayUrl %q", none)
	}
	if body := get(t, s.url+"/mcp/servers/"+direct, key, http.StatusNotFound); !strings.Contains(body, "is direct") {
		t.Fatalf("a direct server's MCP endpoint: %s", body)
	}

	proxied, gatewayURL := create("proxied", "proxy")
	if gatewayURL != s.url+"/mcp/servers/"+proxied {
		t.Fatalf("gatewayUrl %q, want %s/mcp/servers/%s", gatewayURL, s.url, proxied)
	}
	get(t, gatewayURL, "", http.StatusUnauthorized)

	ctx := context.Background()
	session := connectThroughGateway(t, ctx, "serve-test", gatewayURL, key)
	defer session.Close()
	tools, err := session.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) != 1 || tools.Tools[0].Name != "echo" {
		t.Fatalf("tools through the gateway: %+v, %v", tools, err)
	}
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "through the gateway"}})
	if err != nil || res.IsError {
		t.Fatalf("call through the gateway: %+v, %v", res, err)
	}
}

// TestServeGatewayRateLimit: MCP_API_GATEWAY_RATE_LIMIT and _BURST reach
// the gateway routes (an API key caller is limited per key), not /api.
func TestServeGatewayRateLimit(t *testing.T) {
	env := serveEnv(t)
	env["MCP_API_ALLOW_PRIVATE_TARGETS"] = "true"
	env["MCP_API_GATEWAY_RATE_LIMIT"] = "0.01"
	env["MCP_API_GATEWAY_RATE_BURST"] = "2"
	key := env["MCP_API_BOOTSTRAP_KEY"]
	upstream := mcptest.StartHTTP(t, mcptest.Config{Name: "upstream", Tools: true})
	s := startServe(t, env, "--no-scheduler")

	var project struct {
		Project struct{ ID string } `json:"project"`
	}
	if err := json.Unmarshal([]byte(post(t, s.url+"/api/projects", key, `{"name":"gw"}`)), &project); err != nil {
		t.Fatal(err)
	}
	var srv struct {
		Server struct{ ID string } `json:"server"`
	}
	body := post(t, s.url+"/api/mcp/servers", key, `{"projectId":"`+project.Project.ID+`","name":"limited","url":"`+upstream.URL+`","connectionType":"proxy"}`)
	if err := json.Unmarshal([]byte(body), &srv); err != nil {
		t.Fatal(err)
	}
	endpoint := s.url + "/mcp/servers/" + srv.Server.ID
	for range 2 {
		do(t, "GET", endpoint, key, "", http.StatusBadRequest) // the SDK refuses a GET without Accept: text/event-stream
	}
	if body := get(t, endpoint, key, http.StatusTooManyRequests); !strings.Contains(body, "rate limit exceeded for API key") {
		t.Fatalf("429 body %s", body)
	}
	// /api has a limit of its own (none here)
	for range 3 {
		get(t, s.url+"/api/projects", key, http.StatusOK)
	}
}

// TestKilledReplicaLosesNoReturnedCall: a gateway call's reply waits for its
// audit event to commit (in a group with others), so a replica killed with
// SIGKILL in the middle of a session has every call that returned on record.
func TestKilledReplicaLosesNoReturnedCall(t *testing.T) {
	env := serveEnv(t)
	env["MCP_API_ALLOW_PRIVATE_TARGETS"] = "true"
	key := env["MCP_API_BOOTSTRAP_KEY"]
	upstream := mcptest.StartHTTP(t, mcptest.Config{Name: "upstream", Tools: true, Stateful: true})

	// The replica to kill: this test binary, run as serve.
	addr := mcptest.ClosedAddr(t)
	replica := exec.Command(os.Args[0], "-test.run=^$")
	replica.Env = append(os.Environ(), serveArgsEnv+"=serve --no-scheduler --listen "+addr)
	for k, v := range env {
		replica.Env = append(replica.Env, k+"="+v)
	}
	var out logbuf.Buffer
	replica.Stdout, replica.Stderr = &out, &out
	if err := replica.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = replica.Process.Kill(); _ = replica.Wait() })
	url := "http://" + addr
	(&serving{url: url}).waitFor(t, func() bool {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	var project struct {
		Project struct{ ID string } `json:"project"`
	}
	if err := json.Unmarshal([]byte(post(t, url+"/api/projects", key, `{"name":"kill"}`)), &project); err != nil {
		t.Fatal(err)
	}
	var srv struct {
		Server struct{ ID string } `json:"server"`
	}
	body := post(t, url+"/api/mcp/servers", key, `{"projectId":"`+project.Project.ID+`","name":"audited","url":"`+upstream.URL+`","connectionType":"proxy"}`)
	if err := json.Unmarshal([]byte(body), &srv); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	session := connectThroughGateway(t, ctx, "kill-test", url+"/mcp/servers/"+srv.Server.ID, key)
	defer session.Close()

	// Calls in flight from several goroutines; the replica dies once 30
	// have returned, others still on their way.
	const before = 30
	var returned atomic.Int64
	killed := make(chan struct{})
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				select {
				case <-killed:
					return
				default:
				}
				res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "audited"}})
				if err != nil {
					return
				}
				if !res.IsError {
					returned.Add(1)
				}
			}
		})
	}
	(&serving{url: url}).waitFor(t, func() bool { return returned.Load() >= before })
	if err := replica.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(killed)
	_ = replica.Wait()
	wg.Wait()
	n := returned.Load()

	// Another replica on the same database reads the log.
	s := startServe(t, env, "--no-scheduler")
	var events struct {
		Data []struct {
			Action, Outcome string
			RecordID        *string `json:"recordId"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(get(t, s.url+"/api/audit-events?action=tools/call&limit=100&recordId="+srv.Server.ID, key, http.StatusOK)), &events); err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, ev := range events.Data {
		if ev.Outcome == "ok" {
			ok++
		}
	}
	if int64(ok) < n {
		t.Fatalf("%d calls returned before the replica was killed, but only %d tools/call events are on record", n, ok)
	}
	t.Logf("%d calls returned, %d events on record (calls whose reply was lost may be on record too)", n, ok)
}
