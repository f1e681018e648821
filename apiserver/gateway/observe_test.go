package gateway_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/metrics"
	"github.com/mcpconn/terraform-provider-mcp/internal/logbuf"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/promtest"
	"github.com/mcpconn/terraform-provider-mcp/internal/reqid"
)

// TestCallsAreCountedAndTraced: every audited call, at a server's and an
// agent's endpoint, is counted by endpoint kind, method and outcome — with
// no auditor configured, too — and its log line names the HTTP request
// that carried it, not the one that opened the session.
func TestCallsAreCountedAndTraced(t *testing.T) {
	m := metrics.New(metrics.Options{})
	scrape := httptest.NewServer(m.Handler())
	defer scrape.Close()
	var logs logbuf.Buffer
	e := newEnv(t, func(_ *apitest.Server, gc *gateway.Config) {
		gc.Metrics = m
		gc.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	up := mcptest.StartHTTP(t, mcptest.Config{Tools: true})
	server := e.register(t, "s", up.URL, contract.ConnectionProxy)
	if _, err := e.api.ServerChecker.CheckServer(ctx, e.api.TenantID, server); err != nil {
		t.Fatal(err)
	}
	agent, err := e.client.CreateAgent(ctx, contract.CreateAgentRequest{Name: "a", Assignments: []contract.Assignment{
		{ServerID: &server, Prefix: "p", AllowedTools: []string{"echo"}}}})
	if err != nil {
		t.Fatal(err)
	}
	token, err := e.client.CreateAgentToken(ctx, agent.ID, contract.CreateAgentTokenRequest{Name: "t"})
	if err != nil {
		t.Fatal(err)
	}

	var id atomic.Pointer[string]
	open := func(endpoint, key, opener string) *mcp.ClientSession {
		t.Helper()
		id.Store(new(opener))
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "observe", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{
			Endpoint: endpoint, HTTPClient: &http.Client{Transport: mcptest.Headers{Bearer: key, RequestID: &id}}, MaxRetries: -1,
		}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.Close() })
		return cs
	}
	call := func(cs *mcp.ClientSession, name, caller string) {
		t.Helper()
		id.Store(new(caller))
		_, _ = cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"text": "x"}})
	}
	direct := open(e.endpoint(server), e.api.APIKey, "open-server")
	call(direct, "echo", "call-server-ok")
	call(direct, "nope", "call-server-error")
	viaAgent := open(e.api.URL+"/mcp/agents/"+agent.ID, *token.Token, "open-agent")
	call(viaAgent, "p__echo", "call-agent-ok")
	call(viaAgent, "p__other", "call-agent-blocked")
	call(viaAgent, "zzz__echo", "call-agent-error")

	s := promtest.Get(t, scrape.URL+metrics.Path)
	for _, c := range []struct{ endpoint, outcome string }{
		{"server", "ok"}, {"server", "error"}, {"agent", "ok"}, {"agent", "blocked"}, {"agent", "error"},
	} {
		labels := map[string]string{"endpoint": c.endpoint, "method": "tools/call", "outcome": c.outcome}
		if v, _ := s.Value("mcp_api_gateway_calls_total", labels); v != 1 {
			t.Errorf("gateway calls %v: %v, want 1", labels, v)
		}
		if v, _ := s.Value("mcp_api_gateway_call_duration_seconds", labels); v != 1 {
			t.Errorf("gateway call durations %v: %v, want 1", labels, v)
		}
	}
	if strings.Contains(s.Text, server) || strings.Contains(s.Text, agent.ID) || strings.Contains(s.Text, "call-") {
		t.Errorf("the scrape names a record, agent or request:\n%s", s.Text)
	}

	var got []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if l["msg"] == "gateway call" {
			rid, _ := l[reqid.Attr].(string)
			endpoint, _ := l["endpoint"].(string)
			outcome, _ := l["outcome"].(string)
			got = append(got, rid+" "+endpoint+" "+outcome)
		}
	}
	want := []string{"call-server-ok server ok", "call-server-error server error", "call-agent-ok agent ok",
		"call-agent-blocked agent blocked", "call-agent-error agent error"}
	if !slices.Equal(got, want) {
		t.Errorf("gateway call lines %q, want %q", got, want)
	}
}
