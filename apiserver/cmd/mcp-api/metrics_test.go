package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/promtest"
)

// send makes a request with the request id id, answering want.
func send(t *testing.T, method, url, key, id, body string, want int) string {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Request-Id", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	if got := resp.Header.Get("X-Request-Id"); got != id {
		t.Fatalf("%s %s: X-Request-Id %q echoed, want %q", method, url, got, id)
	}
	return string(b)
}

// TestServeMetricsAndTracing: serve's metrics listener (real HTTP, not the
// API's port) shows requests, checks and gateway calls as they happen, by
// route template and without any id; and the log lines of the check and
// the gateway call an API request caused name its X-Request-Id.
func TestServeMetricsAndTracing(t *testing.T) {
	env := serveEnv(t)
	env["MCP_API_ALLOW_PRIVATE_TARGETS"] = "true"
	env["MCP_API_LOG_LEVEL"] = "debug"
	metricsAddr := mcptest.ClosedAddr(t)
	env["MCP_API_METRICS_LISTEN"] = metricsAddr
	key := env["MCP_API_BOOTSTRAP_KEY"]
	upstream := mcptest.StartHTTP(t, mcptest.Config{Name: "upstream", Tools: true, Stateful: true})
	s := startServe(t, env, "--no-scheduler")
	scrapeURL := "http://" + metricsAddr + "/metrics"

	if resp, err := http.Get(s.url + "/metrics"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the API's port serves /metrics (%s); they belong on their own listener", resp.Status)
	}
	before := promtest.Get(t, scrapeURL)

	// A connection, checked on demand.
	var conn struct {
		ID       string `json:"id"`
		TenantID string `json:"tenantId"`
	}
	body := send(t, http.MethodPost, s.url+"/api/mcp-connections", key, "trace-create-conn",
		`{"name":"c","serverUrl":"`+upstream.URL+`","authType":"none"}`, http.StatusCreated)
	if err := json.Unmarshal([]byte(body), &conn); err != nil {
		t.Fatal(err)
	}
	send(t, http.MethodPost, s.url+"/api/mcp-connections/"+conn.ID+"/health-check", key, "trace-check-42", "", http.StatusOK)

	// A proxy server, probed in the background after its create.
	var project struct {
		Project struct{ ID string } `json:"project"`
	}
	if err := json.Unmarshal([]byte(post(t, s.url+"/api/projects", key, `{"name":"p"}`)), &project); err != nil {
		t.Fatal(err)
	}
	var srv struct {
		Server struct {
			ID         string `json:"id"`
			GatewayURL string `json:"gatewayUrl"`
		} `json:"server"`
	}
	body = send(t, http.MethodPost, s.url+"/api/mcp/servers", key, "trace-create-7",
		`{"projectId":"`+project.Project.ID+`","name":"s","url":"`+upstream.URL+`","connectionType":"proxy"}`, http.StatusCreated)
	if err := json.Unmarshal([]byte(body), &srv); err != nil {
		t.Fatal(err)
	}
	serverChecked := map[string]string{"kind": "server", "result": "ok", "error_kind": "none"}
	s.waitFor(t, func() bool {
		v, _ := promtest.Get(t, scrapeURL).Value("mcp_api_checks_total", serverChecked)
		return v == 1
	})

	// Gateway calls: in a session opened by another request (2025-11-25),
	// whose handlers run in the session's context, and stateless
	// (2026-07-28).
	var id atomic.Pointer[string]
	ctx := context.Background()
	call := func(version, opener, caller string) {
		t.Helper()
		id.Store(new(opener))
		var opts *mcp.ClientSessionOptions
		if version != "" {
			opts = &mcp.ClientSessionOptions{ProtocolVersion: version}
		}
		session, err := mcp.NewClient(&mcp.Implementation{Name: "metrics-test", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{
			Endpoint: srv.Server.GatewayURL, HTTPClient: &http.Client{Transport: mcptest.Headers{Bearer: key, RequestID: &id}}, MaxRetries: -1,
		}, opts)
		if err != nil {
			t.Fatalf("connect through the gateway: %v", err)
		}
		defer session.Close()
		id.Store(new(caller))
		if res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}}); err != nil || res.IsError {
			t.Fatalf("call through the gateway: %+v, %v", res, err)
		}
	}
	call("2025-11-25", "trace-open-1", "trace-call-9")
	call("", "trace-open-2", "trace-call-10")
	get(t, s.url+"/no/such/route/"+conn.ID, key, http.StatusNotFound)

	after := promtest.Get(t, scrapeURL)
	moved := func(name string, labels map[string]string, by float64) {
		t.Helper()
		was, _ := before.Value(name, labels)
		now, ok := after.Value(name, labels)
		if !ok || now-was != by {
			t.Errorf("%s%v went from %v to %v (present: %v), want up by %v", name, labels, was, now, ok, by)
		}
	}
	moved("mcp_api_http_requests_total", map[string]string{"route": "/api/mcp-connections", "method": "POST", "code": "201"}, 1)
	moved("mcp_api_http_requests_total", map[string]string{"route": "/api/mcp-connections/:id/health-check", "method": "POST", "code": "200"}, 1)
	moved("mcp_api_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "code": "404"}, 1)
	moved("mcp_api_http_request_duration_seconds", map[string]string{"route": "/api/mcp-connections/:id/health-check", "method": "POST"}, 1)
	moved("mcp_api_checks_total", map[string]string{"kind": "connection", "result": "ok", "error_kind": "none"}, 1)
	moved("mcp_api_checks_total", serverChecked, 1)
	moved("mcp_api_check_duration_seconds", map[string]string{"kind": "connection", "result": "ok"}, 1)
	moved("mcp_api_gateway_calls_total", map[string]string{"endpoint": "server", "method": "tools/call", "outcome": "ok"}, 2)
	moved("mcp_api_gateway_call_duration_seconds", map[string]string{"endpoint": "server", "method": "tools/call", "outcome": "ok"}, 2)
	for _, route := range after.LabelValues("mcp_api_http_requests_total", "route") {
		if strings.HasPrefix(route, "/mcp/") && !strings.Contains(route, ":") {
			t.Errorf("a gateway request is counted under its raw path %q", route)
		}
	}
	if v, ok := after.Value("mcp_api_checks_overdue", map[string]string{"kind": "connection"}); !ok || v != 0 {
		t.Errorf("connections overdue: %v (present: %v), want 0", v, ok)
	}
	if v, ok := after.Value("mcp_api_db_open_connections", nil); !ok || v < 1 {
		t.Errorf("database pool: %v open connections (present: %v), want at least 1", v, ok)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "mcp_api_db_wait_count_total"} {
		if !after.Has(name) {
			t.Errorf("%s is missing from the scrape", name)
		}
	}
	// Bounded labels: no tenant, record or request id, no secret.
	for _, v := range []string{conn.ID, conn.TenantID, srv.Server.ID, project.Project.ID, key,
		"trace-", "no/such", upstream.URL} {
		if strings.Contains(after.Text, v) {
			t.Errorf("the scrape contains %q", v)
		}
	}

	// Each line names the request that caused it.
	s.stop()
	s.wait(t)
	want := map[string][]string{
		"MCP connection check passed": {"trace-check-42"},
		"MCP server check passed":     {"trace-create-7"},
		"gateway call":                {"trace-call-9", "trace-call-10"},
	}
	got := map[string][]string{}
	for _, line := range logLines(t, s.stderr.String()) {
		msg, _ := line["msg"].(string)
		if _, ok := want[msg]; ok {
			id, _ := line["request_id"].(string)
			got[msg] = append(got[msg], id)
		}
	}
	for msg, ids := range want {
		if !slices.Equal(got[msg], ids) {
			t.Errorf("log lines %q name requests %q, want %q; log:\n%s", msg, got[msg], ids, s.stderr)
		}
	}
}

// TestServeMetricsOff: off serves no metrics, and nothing is listened on
// for them.
func TestServeMetricsOff(t *testing.T) {
	env := serveEnv(t) // MCP_API_METRICS_LISTEN=off
	s := startServe(t, env, "--no-scheduler")
	s.stop()
	s.wait(t)
	for _, line := range logLines(t, s.stderr.String()) {
		if line["msg"] == "serving metrics" || line["msg"] == "metrics not served: cannot listen on the default address; set MCP_API_METRICS_LISTEN to a free host:port, or off" {
			t.Errorf("with metrics off: %v", line)
		}
	}

	// --metrics-listen wins over the variable, off included.
	addr := mcptest.ClosedAddr(t)
	env["MCP_API_METRICS_LISTEN"] = addr
	s = startServe(t, env, "--no-scheduler", "--metrics-listen", "off")
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Errorf("--metrics-listen off: something listens on %s, the variable's address", addr)
	}
	s.stop()
	s.wait(t)
}

// TestServeMetricsAddressTaken: an address that was asked for and cannot
// be listened on stops serve with a message naming it; the default one
// taken (another serve on the host) only costs this serve its metrics.
func TestServeMetricsAddressTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	env := serveEnv(t)
	env["MCP_API_METRICS_LISTEN"] = taken.Addr().String()
	r := runCmd(t, env, "serve", "--listen", mcptest.ClosedAddr(t), "--no-scheduler")
	if r.code == 0 || !strings.Contains(r.stderr, "metrics: listen on "+taken.Addr().String()+" (MCP_API_METRICS_LISTEN)") {
		t.Fatalf("serve with its metrics address taken: exit %d, stderr:\n%s", r.code, r.stderr)
	}

	// Hold the default address (or find it held by someone else already).
	if l, err := net.Listen("tcp", defaultMetricsListen); err == nil {
		defer l.Close()
	}
	delete(env, "MCP_API_METRICS_LISTEN")
	s := startServe(t, env, "--no-scheduler")
	s.stop()
	s.wait(t)
	found := false
	for _, line := range logLines(t, s.stderr.String()) {
		if line["msg"] == "metrics not served: cannot listen on the default address; set MCP_API_METRICS_LISTEN to a free host:port, or off" &&
			line["addr"] == defaultMetricsListen {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning that the default metrics address is taken:\n%s", s.stderr)
	}
}
