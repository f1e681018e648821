package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// auditLog is an Auditor that keeps what it is given.
type auditLog struct {
	mu     sync.Mutex
	events []store.AuditEvent
	// fail makes Record fail, as a database that is down would.
	fail bool
}

func (a *auditLog) Record(_ context.Context, ev store.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		return errors.New("the audit log is down")
	}
	a.events = append(a.events, ev)
	return nil
}

func (a *auditLog) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.events)
}

func (a *auditLog) take() []store.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.events
	a.events = nil
	return out
}

// agentEnv is a real API (for its store and records) and a gateway with
// agents and audit, mounted at /mcp/agents/{id} and /mcp/servers/{id} by a
// test server that stands in for the HTTP layer: a bearer token the test
// registered with as names the caller.
type agentEnv struct {
	api     *apitest.Server
	client  *client.Client
	project string
	gw      *gateway.Gateway
	audit   *auditLog
	url     string

	mu      sync.Mutex
	callers map[string]gateway.Caller
}

func newAgentEnv(t *testing.T) *agentEnv {
	t.Helper()
	e := &agentEnv{audit: &auditLog{}, callers: map[string]gateway.Caller{}}
	e.api = apitest.Start(t, apitest.WithProbes())
	g, err := gateway.New(gateway.Config{
		Servers:           e.api.Store,
		Catalogs:          e.api.Store,
		Targets:           e.api.ServerChecker,
		Agents:            e.api.Store,
		ConnectionTargets: e.api.ConnectionChecker,
		Audit:             e.audit,
		Dialer:            probe.New(probe.Options{Timeout: 10 * time.Second, AllowPrivate: true}),
		Timeout:           gatewayTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.gw = g
	if e.client, err = client.New(e.api.URL, e.api.APIKey, client.WithRetryMax(0)); err != nil {
		t.Fatal(err)
	}
	p, err := e.client.CreateProject(context.Background(), contract.CreateProjectRequest{Name: "agents"})
	if err != nil {
		t.Fatal(err)
	}
	e.project = p.ID

	mux := http.NewServeMux()
	serve := func(w http.ResponseWriter, r *http.Request, resolve func(gateway.Caller) (http.Handler, error)) {
		caller, ok := e.caller(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if !ok {
			http.Error(w, "unknown token", http.StatusUnauthorized)
			return
		}
		h, err := resolve(caller)
		var notYours *gateway.NotYoursError
		switch {
		case errors.As(err, &notYours):
			http.Error(w, err.Error(), http.StatusUnauthorized)
		case errors.Is(err, store.ErrNotFound):
			http.Error(w, err.Error(), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			h.ServeHTTP(w, r)
		}
	}
	mux.HandleFunc("/mcp/agents/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			http.Error(w, "not an agent id", http.StatusNotFound)
			return
		}
		serve(w, r, func(c gateway.Caller) (http.Handler, error) { return e.gw.Agent(r.Context(), c, id) })
	})
	mux.HandleFunc("/mcp/servers/{id}", func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, func(c gateway.Caller) (http.Handler, error) { return e.gw.Server(r.Context(), c, r.PathValue("id")) })
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

func (e *agentEnv) caller(token string) (gateway.Caller, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.callers[token]
	return c, ok
}

// token registers a token of agent and returns it.
func (e *agentEnv) token(agent uuid.UUID) (string, gateway.Caller) {
	tok := contract.AgentTokenPrefix + uuid.NewString()
	c := gateway.Caller{Tenant: e.api.TenantID, AgentID: new(agent), TokenID: new(uuid.New())}
	e.mu.Lock()
	e.callers[tok] = c
	e.mu.Unlock()
	return tok, c
}

// key registers token as a tenant API key and returns the key's id.
func (e *agentEnv) key(token string) uuid.UUID {
	id := uuid.New()
	e.mu.Lock()
	e.callers[token] = gateway.Caller{Tenant: e.api.TenantID, APIKeyID: &id}
	e.mu.Unlock()
	return id
}

// server registers and checks a proxied server at url.
func (e *agentEnv) server(t *testing.T, name, url string) string {
	t.Helper()
	ctx := context.Background()
	srv, err := e.client.CreateServer(ctx, contract.CreateServerRequest{
		ProjectID: e.project, Name: name, URL: &url,
		TransportType: contract.TransportHTTP, ConnectionType: contract.ConnectionProxy,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.api.ServerChecker.CheckServer(ctx, e.api.TenantID, srv.ID); err != nil {
		t.Fatal(err)
	}
	return srv.ID
}

// upstream is a real SDK server whose tools answer with its name: "echo"
// and "secret", a prompt "greet", and instructions.
func upstream(name, instructions string, extraTools ...string) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: name, Version: "1"}, &mcp.ServerOptions{Instructions: instructions})
	for _, tool := range append([]string{"echo", "secret"}, extraTools...) {
		mcp.AddTool(s, &mcp.Tool{Name: tool, Description: tool + " of " + name},
			func(_ context.Context, _ *mcp.CallToolRequest, in struct {
				Text string `json:"text"`
			}) (*mcp.CallToolResult, struct{}, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: name + " " + tool + ": " + in.Text}}}, struct{}{}, nil
			})
	}
	s.AddPrompt(&mcp.Prompt{Name: "greet"}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "hello from " + name}}}}, nil
	})
	return s
}

// agentSetup is an agent with three assignments: a connection (prefix
// docs, only echo allowed), a proxied server (prefix search) and a proxied
// server whose upstream is down (prefix down).
type agentSetup struct {
	e                  *agentEnv
	agent              uuid.UUID
	conn, search, down string
	connUp, searchUp   *mcptest.Server
	searchSrv          *mcp.Server
	token              string
	caller             gateway.Caller
}

// longName is a tool name that, with the prefix "search__", is over 128 characters.
var longName = strings.Repeat("x", 121)

func newAgentSetup(t *testing.T) *agentSetup {
	t.Helper()
	ctx := context.Background()
	e := newAgentEnv(t)
	s := &agentSetup{e: e}
	s.connUp = mcptest.ServeStreamable(t, upstream("conn", "Use the docs."), mcptest.Config{BearerToken: "conn-secret"})
	s.searchSrv = upstream("search", "Search first.", longName)
	s.searchUp = mcptest.ServeStreamable(t, s.searchSrv, mcptest.Config{Stateful: true})
	downUp := mcptest.ServeStreamable(t, upstream("down", ""), mcptest.Config{})

	conn, err := e.client.CreateConnection(ctx, contract.CreateConnectionRequest{
		Name: "Docs", ServerURL: s.connUp.URL, AuthType: contract.AuthBearer, BearerToken: new("conn-secret")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CheckConnection(ctx, conn.ID); err != nil {
		t.Fatal(err)
	}
	s.conn = conn.ID
	s.search = e.server(t, "Search", s.searchUp.URL)
	s.down = e.server(t, "Down", downUp.URL)
	downUp.HTTP.Close()

	a, err := e.client.CreateAgent(ctx, contract.CreateAgentRequest{Name: "helper", Assignments: []contract.Assignment{
		{ConnectionID: &s.conn, Prefix: "docs", AllowedTools: []string{"echo"}},
		{ServerID: &s.search, Prefix: "search"},
		{ServerID: &s.down, Prefix: "down"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if s.agent, err = uuid.Parse(a.ID); err != nil {
		t.Fatal(err)
	}
	s.token, s.caller = e.token(s.agent)
	return s
}

func (s *agentSetup) endpoint() string { return s.e.url + "/mcp/agents/" + s.agent.String() }

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	return names
}

func TestAgentEndpointAtEachVersion(t *testing.T) {
	s := newAgentSetup(t)
	ctx := context.Background()
	wantInstructions := "## Docs\nUse the docs.\n\n## Search\nSearch first."

	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			s.e.audit.take()
			d := connect(t, s.endpoint(), s.token, v, "agent")
			if got := d.InitializeResult().Instructions; got != wantInstructions {
				t.Errorf("instructions %q, want %q", got, wantInstructions)
			}
			caps := d.InitializeResult().Capabilities
			if caps == nil || caps.Tools == nil || caps.Prompts == nil || caps.Resources != nil {
				t.Errorf("capabilities %+v, want tools and prompts only", caps)
			}

			// The connection's secret is not allowed, the long name is
			// left out, the down server's tools are missing.
			if got := strings.Join(toolNames(t, d.ClientSession), ","); got != "docs__echo,search__echo,search__secret" {
				t.Errorf("tools %s", got)
			}
			for tool, want := range map[string]string{"docs__echo": "conn echo: hi", "search__echo": "search echo: hi", "search__secret": "search secret: hi"} {
				res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"text": "hi"}})
				if err != nil {
					t.Fatalf("%s: %v", tool, err)
				}
				if got := text(t, res); got != want {
					t.Errorf("%s answered %q, want %q", tool, got, want)
				}
			}
			for tool, want := range map[string]string{
				"docs__secret": `tool "docs__secret" is not allowed`,
				"nope__echo":   `unknown tool "nope__echo"`,
				"echo":         `unknown tool "echo"`,
				"search__":     `unknown tool "search__"`,
				"down__echo":   `tool "down__echo" is unavailable: the upstream MCP server cannot be reached`,
			} {
				_, err := d.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"text": "hi"}})
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: error %v, want %q", tool, err, want)
				}
			}

			prompts, err := d.ListPrompts(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range prompts.Prompts {
				names = append(names, p.Name)
			}
			if strings.Join(names, ",") != "docs__greet,search__greet" {
				t.Errorf("prompts %v", names)
			}
			pr, err := d.GetPrompt(ctx, &mcp.GetPromptParams{Name: "search__greet"})
			if err != nil {
				t.Fatal(err)
			}
			if tc, ok := pr.Messages[0].Content.(*mcp.TextContent); !ok || tc.Text != "hello from search" {
				t.Errorf("prompt %+v", pr.Messages[0].Content)
			}
			if _, err := d.ReadResource(ctx, &mcp.ReadResourceParams{URI: "mcptest://readme"}); err == nil {
				t.Error("resources/read at an agent endpoint succeeded")
			}

			// One event per call, naming the record and the upstream's name.
			type ev struct{ action, kind, id, tool, outcome string }
			var got []ev
			for _, e := range s.e.audit.take() {
				if e.TenantID != s.e.api.TenantID || e.AgentID == nil || *e.AgentID != s.agent || e.TokenID == nil || *e.TokenID != *s.caller.TokenID ||
					e.APIKeyID != nil || e.DurationMs == nil {
					t.Errorf("event %+v names the wrong caller", e)
				}
				if (e.Outcome == "ok") != (e.Error == nil) {
					t.Errorf("event %+v: error %v with outcome %s", e, e.Error, e.Outcome)
				}
				g := ev{action: e.Action, outcome: e.Outcome}
				if e.RecordKind != nil {
					g.kind, g.id = *e.RecordKind, *e.RecordID
				}
				if e.Tool != nil {
					g.tool = *e.Tool
				}
				got = append(got, g)
			}
			want := []ev{
				{"tools/call", "connection", s.conn, "echo", "ok"},
				{"tools/call", "server", s.search, "echo", "ok"},
				{"tools/call", "server", s.search, "secret", "ok"},
				{"tools/call", "connection", s.conn, "secret", "blocked"},
				{"tools/call", "", "", "nope__echo", "error"},
				{"tools/call", "", "", "echo", "error"},
				{"tools/call", "", "", "search__", "error"},
				{"tools/call", "server", s.down, "echo", "unavailable"},
				{"prompts/get", "server", s.search, "greet", "ok"},
			}
			key := func(e ev) string { return e.action + " " + e.kind + " " + e.id + " " + e.tool + " " + e.outcome }
			sortEv := func(es []ev) []string {
				var out []string
				for _, e := range es {
					out = append(out, key(e))
				}
				slices.Sort(out)
				return out
			}
			if g, w := sortEv(got), sortEv(want); !slices.Equal(g, w) {
				t.Errorf("audit events\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
			}
		})
	}

	// The agent's token never reaches an upstream: the connection sees its
	// own credentials, the server none.
	for name, up := range map[string]*mcptest.Server{"connection": s.connUp, "server": s.searchUp} {
		reqs := up.Requests()
		if len(reqs) == 0 {
			t.Errorf("the %s upstream saw no request", name)
		}
		for _, r := range reqs {
			if strings.Contains(r.Authorization, s.token) || (name == "connection" && r.Authorization != "Bearer conn-secret") ||
				(name == "server" && r.Authorization != "") {
				t.Errorf("the %s upstream saw Authorization %q", name, r.Authorization)
				break
			}
		}
	}
}

func TestAgentRefusals(t *testing.T) {
	s := newAgentSetup(t)
	ctx := context.Background()
	other := uuid.New()
	otherToken, otherCaller := s.e.token(other)

	if _, err := s.e.gw.Agent(ctx, otherCaller, s.agent); !errors.As(err, new(*gateway.NotYoursError)) {
		t.Errorf("another agent's caller: %v, want a NotYoursError", err)
	}
	if _, err := s.e.gw.Agent(ctx, otherCaller, other); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an agent the tenant does not have: %v, want store.ErrNotFound", err)
	}
	tenant, _ := s.e.api.NewTenant(t, "other")
	if _, err := s.e.gw.Agent(ctx, gateway.Caller{Tenant: tenant}, s.agent); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant's agent: %v, want store.ErrNotFound", err)
	}

	post := func(token, session, body string) (*http.Response, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.endpoint(), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+token)
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
			req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := strings.TrimPrefix(sc.Text(), "data: ")
			if strings.HasPrefix(line, "{") {
				_ = json.Unmarshal([]byte(line), &out)
			}
		}
		return resp, out
	}
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	if resp, _ := post(otherToken, "", initialize); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("another agent's token: %d, want 401", resp.StatusCode)
	}
	resp, out := post(s.token, "", initialize)
	session := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || session == "" {
		t.Fatalf("initialize: %d %v", resp.StatusCode, out)
	}
	// Ending the session releases its upstream sessions, which the
	// upstreams' cleanup waits for.
	t.Cleanup(func() {
		req, _ := http.NewRequest(http.MethodDelete, s.endpoint(), nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		req.Header.Set("Mcp-Session-Id", session)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	})
	post(s.token, session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)

	// The session is bound to the agent that opened it: a tenant API key,
	// which the gateway would serve the agent's endpoint to, cannot use it.
	s.e.key("key")
	if resp, _ := post("key", session, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another caller in the session: %d, want 404", resp.StatusCode)
	}
	// Another token of the same agent can (tokens rotate under a session).
	secondToken, _ := s.e.token(s.agent)
	if resp, out := post(secondToken, session, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`); resp.StatusCode != http.StatusOK || out["result"] == nil {
		t.Errorf("another token of the agent in the session: %d %v", resp.StatusCode, out)
	}

	for body, want := range map[string]string{
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":5}}`:                                                                                      "",
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}}`:                                                                                              "",
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo"}}`:                                                                                 `unknown tool "echo"`,
		`{"jsonrpc":"2.0","id":3,"method":"prompts/get","params":{"name":"zzz__greet"}}`:                                                                          `unknown prompt "zzz__greet"`,
		`{"jsonrpc":"2.0","id":3,"method":"resources/list"}`:                                                                                                      `not found`,
		`{"jsonrpc":"2.0","id":3,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"docs__greet"},"argument":{"name":"a","value":"b"}}}`: `not found`,
	} {
		resp, out := post(s.token, session, body)
		if resp.StatusCode >= 500 {
			t.Errorf("%s: HTTP %d", body, resp.StatusCode)
			continue
		}
		errObj, _ := out["error"].(map[string]any)
		msg, _ := errObj["message"].(string)
		if errObj == nil || !strings.Contains(msg, want) {
			t.Errorf("%s: answered %v, want a JSON-RPC error containing %q", body, out, want)
		}
	}
	// Nothing of it reached an upstream as a call.
	for _, up := range []*mcptest.Server{s.connUp, s.searchUp} {
		if slices.Contains(up.Methods(), "tools/call") || slices.Contains(up.Methods(), "prompts/get") {
			t.Errorf("a refused request reached an upstream: %v", up.Methods())
		}
	}
}

func TestAgentServerEndpointAudit(t *testing.T) {
	e := newAgentEnv(t)
	up := mcptest.StartHTTP(t, mcptest.Config{Tools: true, Prompts: true, Resources: true})
	id := e.server(t, "plain", up.URL)
	key := e.key("key")

	ctx := context.Background()
	d := connect(t, e.url+"/mcp/servers/"+id, "key", "2025-11-25", "c")
	if _, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}}); err != nil {
		t.Fatal(err)
	}
	// The reply waited for the event to be recorded.
	if n := e.audit.len(); n != 1 {
		t.Errorf("%d events recorded when the call returned, want 1", n)
	}
	if _, err := d.GetPrompt(ctx, &mcp.GetPromptParams{Name: "greet"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadResource(ctx, &mcp.ReadResourceParams{URI: "mcptest://readme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "nope"}); err == nil {
		t.Error("an unknown tool was called")
	}
	if _, err := d.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range e.audit.take() {
		if ev.APIKeyID == nil || *ev.APIKeyID != key || ev.AgentID != nil || *ev.RecordKind != "server" || *ev.RecordID != id {
			t.Errorf("event %+v", ev)
		}
		got = append(got, ev.Action+" "+*ev.Tool+" "+ev.Outcome)
	}
	want := []string{"tools/call echo ok", "prompts/get greet ok", "resources/read mcptest://readme ok", "tools/call nope error"}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}

	// An event that cannot be stored is logged; the call is answered.
	e.audit.mu.Lock()
	e.audit.fail = true
	e.audit.mu.Unlock()
	res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "still"}})
	if err != nil || text(t, res) != "still" {
		t.Errorf("a call whose event could not be stored: %v", err)
	}
}

func TestAgentToolListChanged(t *testing.T) {
	s := newAgentSetup(t)
	ctx := context.Background()
	changed := make(chan struct{}, 10)
	client := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	})
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: s.endpoint(), HTTPClient: httpClient(s.token), MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	if got := strings.Join(toolNames(t, cs), ","); got != "docs__echo,search__echo,search__secret" {
		t.Fatalf("tools %s", got)
	}
	// The upstream of the search leg gains a tool while the session is open.
	mcp.AddTool(s.searchSrv, &mcp.Tool{Name: "fresh"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, struct{}, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "fresh"}}}, struct{}{}, nil
	})
	select {
	case <-changed:
	case <-time.After(20 * time.Second):
		t.Fatal("the upstream's tools/list_changed did not reach the agent's session")
	}
	if got := strings.Join(toolNames(t, cs), ","); got != "docs__echo,search__echo,search__fresh,search__secret" {
		t.Errorf("tools after the change %s", got)
	}
}

// A pinned server's leg offers and forwards only the approved tools (its
// refusals name the agent's tool name); the tools of an unpinned leg pass.
func TestAgentPinnedCatalog(t *testing.T) {
	e := newAgentEnv(t)
	ctx := context.Background()
	srv := mcptest.NewCatalogServer(mcptest.Config{Name: "pinned"}, mcptest.Catalog{Tools: 3, PageSize: 2})
	up := mcptest.ServeStreamable(t, srv, mcptest.Config{Stateful: true})
	pinned := e.server(t, "pinned", up.URL)
	open := e.server(t, "open", up.URL)
	cat, err := e.client.GetServerCatalog(ctx, pinned)
	if err != nil || len(cat.Tools) != 3 {
		t.Fatalf("catalog of %s: %+v, %v", pinned, cat, err)
	}
	if _, err := e.client.UpdateServer(ctx, pinned, contract.UpdateServerRequest{ApprovedToolsHash: &cat.ToolsHash}); err != nil {
		t.Fatal(err)
	}
	a, err := e.client.CreateAgent(ctx, contract.CreateAgentRequest{Name: "pinned", Assignments: []contract.Assignment{
		{ServerID: &pinned, Prefix: "p"}, {ServerID: &open, Prefix: "o"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	agent := uuid.MustParse(a.ID)
	token, _ := e.token(agent)
	c := pinConnect(t, e.url+"/mcp/agents/"+a.ID, token, "2025-11-25")
	// Every page of each upstream's listing.
	if got := c.toolNames(t); got != "o__tool-00000,o__tool-00001,o__tool-00002,p__tool-00000,p__tool-00001,p__tool-00002" {
		t.Fatalf("tools before any change: %s", got)
	}
	if err := c.echo(t, "p__tool-00001"); err != nil {
		t.Fatal(err)
	}

	mcptest.AddEchoTool(srv, "tool-00001", "Tool number 1, now with new instructions.")
	select {
	case <-c.changes:
	case <-time.After(30 * time.Second):
		t.Fatal("the agent's session heard of no tools/list_changed")
	}
	_, err = c.CallTool(ctx, &mcp.CallToolParams{Name: "p__tool-00001", Arguments: map[string]any{"text": "x"}})
	refused(t, err, "p__tool-00001", "has a definition that changed since the approved catalog")
	if got := c.toolNames(t); got != "o__tool-00000,o__tool-00001,o__tool-00002,p__tool-00000,p__tool-00002" {
		t.Errorf("tools after the change: %s", got)
	}
	if _, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "o__tool-00001", Arguments: map[string]any{"text": "x"}}); err != nil {
		t.Errorf("the unpinned leg's changed tool: %v", err)
	}
	var blocked int
	for _, ev := range e.audit.take() {
		if ev.Outcome == string(contract.OutcomeBlocked) && *ev.RecordID == pinned && *ev.Tool == "tool-00001" {
			blocked++
		}
	}
	if blocked != 1 {
		t.Errorf("%d blocked events for the refused call, want 1", blocked)
	}
}
