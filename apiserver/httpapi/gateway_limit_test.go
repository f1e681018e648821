package httpapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// withRealGateway mounts the real gateway, and applies fn to the HTTP
// layer's configuration.
func withRealGateway(t *testing.T, fn func(cfg *httpapi.Config)) []apitest.Option {
	return []apitest.Option{apitest.WithProbes(), apitest.WithConfig(func(s *apitest.Server, cfg *httpapi.Config) {
		g, err := gateway.New(gateway.Config{
			Servers: s.Store,
			Targets: s.ServerChecker,
			Dialer:  probe.New(probe.Options{Timeout: 10 * time.Second, AllowPrivate: true}),
			Timeout: 20 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Gateway = g
		if fn != nil {
			fn(cfg)
		}
	})}
}

// proxyServer registers a proxied server in front of a real upstream and
// returns its id.
func proxyServer(t *testing.T, a *api, project string) string {
	t.Helper()
	upstream := mcptest.StartHTTP(t, mcptest.Config{Name: "upstream", Tools: true, Stateful: true})
	var srv struct{ Server contract.Server }
	a.do("POST", "/api/mcp/servers", map[string]any{"projectId": project, "name": "echo-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"url": upstream.URL, "connectionType": "proxy"}).expect(t, http.StatusCreated, &srv)
	return srv.Server.ID
}

// assignedAgent creates an agent with server assigned and returns it with a token.
func assignedAgent(t *testing.T, g *gatewaySetup, name, server string) (contract.Agent, string) {
	t.Helper()
	var ag contract.Agent
	g.api.do("POST", "/api/agents", map[string]any{"name": name,
		"assignments": []map[string]any{{"serverId": server}}}).expect(t, http.StatusCreated, &ag)
	_, tok := g.newToken(t, ag.ID, nil)
	return ag, tok
}

func connectMCP(ctx context.Context, endpoint, token, version string) (*mcp.ClientSession, error) {
	c := mcp.NewClient(&mcp.Implementation{Name: "httpapi-test", Version: "1"}, nil)
	return c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, MaxRetries: -1, DisableStandaloneSSE: true,
		HTTPClient: mcptest.BearerClient(token)}, &mcp.ClientSessionOptions{ProtocolVersion: version})
}

// TestGatewayServerThroughAgentToken drives /mcp/servers/{id} with the Go
// SDK client, the real gateway and a real upstream: the token of an agent
// that has the server assigned works, one of an agent that has not is
// refused, and no token reaches the logs or the audit events.
func TestGatewayServerThroughAgentToken(t *testing.T) {
	t.Parallel()
	logs, logOpt := captureLogs()
	s := apitest.Start(t, append(withRealGateway(t, nil), logOpt)...)
	a := newAPI(t, s)
	g := newGatewaySetup(t, a)
	server := proxyServer(t, a, g.project)
	agent, tok := assignedAgent(t, g, "echoer", server)
	endpoint := s.URL + "/mcp/servers/" + server

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, v := range []string{"2025-06-18", "2026-07-28"} {
		session, err := connectMCP(ctx, endpoint, tok, v)
		if err != nil {
			t.Fatalf("agent %s connects at %s: %v", agent.ID, v, err)
		}
		t.Cleanup(func() { _ = session.Close() })
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "via " + v}})
		if err != nil || res.IsError {
			t.Fatalf("call at %s: %+v, %v", v, res, err)
		}
		_ = session.Close()
	}
	if _, err := connectMCP(ctx, endpoint, g.otherTok, "2025-06-18"); err == nil {
		t.Fatal("an agent without the assignment connected")
	}
	if _, err := connectMCP(ctx, endpoint, contract.AgentTokenPrefix+"neverissued", "2025-06-18"); err == nil {
		t.Fatal("an unknown token connected")
	}

	assertNotLogged(t, logs.String(), tok, g.otherTok, g.botTok, s.APIKey)
	var leaked int
	if err := openDB(t, s).QueryRow(`SELECT count(*) FROM audit_events e WHERE strpos(CAST(e AS text), $1) > 0
		OR strpos(CAST(e AS text), $2) > 0`, tok, g.otherTok).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("audit events holding a token: %d, %v", leaked, err)
	}
}

// TestGatewayRateLimitPerAgent: over its bucket an agent's Go SDK client
// gets a JSON-RPC error naming the agent, a plain POST gets a 429 with
// Retry-After and that error as its body, other requests a plain 429;
// another agent and an API key have buckets of their own.
func TestGatewayRateLimitPerAgent(t *testing.T) {
	t.Parallel()
	// one request per 100 s after a burst of 5: the refusals are certain
	s := apitest.Start(t, withRealGateway(t, func(cfg *httpapi.Config) {
		cfg.GatewayRateLimit, cfg.GatewayRateBurst = 0.01, 5
	})...)
	a := newAPI(t, s)
	g := newGatewaySetup(t, a)
	server := proxyServer(t, a, g.project)
	endpoint := s.URL + "/mcp/servers/" + server

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, v := range []string{"2025-06-18", "2026-07-28"} {
		agent, tok := assignedAgent(t, g, "limited-"+v, server)
		session, err := connectMCP(ctx, endpoint, tok, v)
		if err != nil {
			t.Fatalf("connect at %s: %v", v, err)
		}
		// closed even when the test fails, or the upstream's cleanup
		// waits for the session's stream
		t.Cleanup(func() { _ = session.Close() })
		var rpcErr *jsonrpc.Error
		for i := 0; ; i++ {
			if i == 10 {
				t.Fatalf("at %s: 10 calls past a burst of 5 and none refused", v)
			}
			res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}})
			if err == nil {
				if res.IsError {
					t.Fatalf("at %s: tool error %+v", v, res)
				}
				continue
			}
			if !errors.As(err, &rpcErr) {
				t.Fatalf("at %s: call refused with %v, want a JSON-RPC error", v, err)
			}
			break
		}
		want := "rate limit exceeded for agent " + agent.ID + "; retry after "
		if rpcErr.Code != -32000 || !strings.Contains(rpcErr.Message, want) {
			t.Fatalf("at %s: JSON-RPC error %d %q, want -32000 saying %q", v, rpcErr.Code, rpcErr.Message, want)
		}

		// The same agent with a plain POST.
		r := a.as(tok).do("POST", "/mcp/servers/"+server, `{"jsonrpc":"2.0","id":7,"method":"tools/list"}`,
			"Accept", "application/json")
		var body struct {
			ID    json.RawMessage `json:"id"`
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		r.expect(t, http.StatusTooManyRequests, &body)
		if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 {
			t.Errorf("Retry-After = %q, want whole seconds", r.header.Get("Retry-After"))
		}
		if string(body.ID) != "7" || body.Error.Code != -32000 || !strings.Contains(body.Error.Message, want) {
			t.Errorf("429 body %s, want the JSON-RPC error of request 7", r.body)
		}
		a.as(tok).do("GET", "/mcp/servers/"+server, nil).expectEnvelopeError(t, http.StatusTooManyRequests, want)
		a.as(tok).do("POST", "/mcp/servers/"+server, `not json`).expectEnvelopeError(t, http.StatusTooManyRequests, want)
	}

	// Other callers are not held back by the limited agents.
	_, fresh := assignedAgent(t, g, "fresh", server)
	session, err := connectMCP(ctx, endpoint, fresh, "2025-06-18")
	if err != nil {
		t.Fatalf("another agent: %v", err)
	}
	_ = session.Close()
	session, err = connectMCP(ctx, endpoint, s.APIKey, "2025-06-18")
	if err != nil {
		t.Fatalf("an API key: %v", err)
	}
	_ = session.Close()
}

// TestGatewayRateLimitLetsResponsesThrough: a client's JSON-RPC response
// (to sampling or elicitation) and a DELETE ending a session are never
// refused, even over the limit.
func TestGatewayRateLimitLetsResponsesThrough(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, withEchoGateway(), apitest.WithConfig(func(_ *apitest.Server, cfg *httpapi.Config) {
		cfg.GatewayRateLimit, cfg.GatewayRateBurst = 0.01, 1
	}))
	a := newAPI(t, s)
	g := newGatewaySetup(t, a)
	path := "/mcp/agents/" + g.bot.ID
	bot := a.as(g.botTok)
	bot.do("POST", path, `{"jsonrpc":"2.0","id":1,"method":"ping"}`).expect(t, http.StatusOK, nil)
	r := bot.do("POST", path, `{"jsonrpc":"2.0","id":2,"method":"ping"}`, "Accept", "application/json, text/event-stream")
	var body struct {
		ID    json.RawMessage `json:"id"`
		Error struct{ Message string }
	}
	// an MCP client's request: the answer it understands
	r.expect(t, http.StatusOK, &body)
	if string(body.ID) != "2" || !strings.Contains(body.Error.Message, "rate limit exceeded for agent "+g.bot.ID) || r.header.Get("Retry-After") == "" {
		t.Fatalf("refused MCP request: %s (Retry-After %q)", r.body, r.header.Get("Retry-After"))
	}
	var seen seenCaller
	bot.do("POST", path, `{"jsonrpc":"2.0","id":"s-1","result":{"model":"m"}}`).expect(t, http.StatusOK, &seen)
	if seen.Endpoint != "agent "+g.bot.ID {
		t.Fatalf("the response did not reach the gateway: %+v", seen)
	}
	bot.do("POST", path, `{"jsonrpc":"2.0","method":"notifications/cancelled"}`).expectError(t, http.StatusTooManyRequests, "rate limit exceeded")
	// nor is ending a session
	bot.do("DELETE", path, nil).expect(t, http.StatusOK, nil)
	// the other agent has a bucket of its own
	a.as(g.otherTok).do("POST", "/mcp/agents/"+g.other.ID, `{}`).expect(t, http.StatusOK, nil)
}

// openDB opens the server's database directly, for what no API shows.
func openDB(t *testing.T, s *apitest.Server) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
