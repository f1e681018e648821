package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

func (a *api) createAgent(req any) contract.Agent {
	a.t.Helper()
	var ag contract.Agent
	a.do("POST", "/api/agents", req).expect(a.t, http.StatusCreated, &ag)
	return ag
}

// setInstructions stores instructions on a connection as a passing check would.
func setInstructions(t *testing.T, s *apitest.Server, id string, text string) {
	t.Helper()
	cid := uuid.MustParse(id)
	if _, err := s.Store.UpdateConnection(context.Background(), s.TenantID, cid, func(c *store.Connection) error {
		c.Instructions = &text
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// agentFixture is a tenant with two connections (the first with
// instructions), a proxy server and a direct server.
type agentFixture struct {
	s             *apitest.Server
	a             *api
	c1, c2        contract.Connection
	proxy, direct contract.Server
}

func newAgentFixture(t *testing.T) agentFixture {
	s := apitest.Start(t)
	a := newAPI(t, s)
	f := agentFixture{s: s, a: a}
	f.c1 = a.create(map[string]any{"name": "GitHub Tools", "serverUrl": "https://gh.example.com/mcp"})
	f.c2 = a.create(map[string]any{"name": "--Docs--", "serverUrl": "https://docs.example.com/mcp"})
	setInstructions(t, s, f.c1.ID, "Use the issue tools.")
	p := a.createProject("p")
	f.proxy = a.createServer(map[string]any{"projectId": p.ID, "name": "Web Search", "url": "https://search.example.com/mcp", "connectionType": "proxy"})
	f.direct = a.createServer(map[string]any{"projectId": p.ID, "name": "Direct", "url": "https://direct.example.com/mcp"})
	return f
}

func TestAgentLifecycle(t *testing.T) {
	t.Parallel()
	f := newAgentFixture(t)
	a := f.a
	r := a.do("POST", "/api/agents", map[string]any{"name": "support-bot", "description": "answers tickets",
		"assignments": []map[string]any{
			{"connectionId": f.c1.ID},
			{"connectionId": f.c2.ID, "allowedTools": []string{"read_page"}},
			{"serverId": f.proxy.ID, "prefix": "web"},
		}})
	var ag contract.Agent
	r.expect(t, http.StatusCreated, &ag)
	if got := r.header.Get("Location"); got != "/api/agents/"+ag.ID {
		t.Errorf("Location = %q", got)
	}
	if _, err := uuid.Parse(ag.ID); err != nil || ag.TenantID != f.s.TenantID.String() || ag.Name != "support-bot" ||
		ag.Description == nil || *ag.Description != "answers tickets" {
		t.Fatalf("created = %+v", ag)
	}
	if ag.GatewayURL != a.base+"/mcp/agents/"+ag.ID {
		t.Errorf("gatewayUrl = %q", ag.GatewayURL)
	}
	if len(ag.Assignments) != 3 || ag.Assignments[0].Prefix != "github_tools" || ag.Assignments[1].Prefix != "docs" ||
		ag.Assignments[2].Prefix != "web" || *ag.Assignments[2].ServerID != f.proxy.ID || ag.Assignments[0].AllowedTools != nil ||
		len(ag.Assignments[1].AllowedTools) != 1 || *ag.Assignments[0].ConnectionID != f.c1.ID {
		t.Fatalf("assignments = %+v", ag.Assignments)
	}
	// Only the first connection has instructions.
	if ag.Instructions == nil || *ag.Instructions != "## GitHub Tools\nUse the issue tools." {
		t.Fatalf("instructions = %v", ag.Instructions)
	}
	setInstructions(t, f.s, f.c2.ID, "Read before answering.")
	var got contract.Agent
	a.do("GET", "/api/agents/"+ag.ID, nil).expect(t, http.StatusOK, &got)
	if got.Instructions == nil || *got.Instructions != "## GitHub Tools\nUse the issue tools.\n\n## --Docs--\nRead before answering." {
		t.Fatalf("instructions with two = %q", *got.Instructions)
	}
	if strings.Contains(string(a.do("GET", "/api/agents/"+ag.ID, nil).body), `"allowedTools":null`) == false {
		t.Errorf("allowedTools of an unrestricted assignment must be null")
	}

	// list and paging
	a.createAgent(map[string]any{"name": "second"})
	var page contract.AgentList
	a.do("GET", "/api/agents?limit=1", nil).expect(t, http.StatusOK, &page)
	if len(page.Data) != 1 || page.Data[0].ID != ag.ID || page.NextCursor == nil {
		t.Fatalf("page 1 = %+v", page)
	}
	a.do("GET", "/api/agents?limit=1&cursor="+*page.NextCursor, nil).expect(t, http.StatusOK, &page)
	if len(page.Data) != 1 || page.Data[0].Name != "second" || page.NextCursor != nil {
		t.Fatalf("page 2 = %+v", page)
	}
	a.do("GET", "/api/agents?name=second", nil).expect(t, http.StatusOK, &page)
	if len(page.Data) != 1 {
		t.Fatalf("name filter = %+v", page)
	}

	// PATCH without assignments keeps them; with an empty list removes them.
	var patched contract.Agent
	a.do("PATCH", "/api/agents/"+ag.ID, map[string]any{"name": "bot", "description": ""}).expect(t, http.StatusOK, &patched)
	if patched.Name != "bot" || patched.Description != nil || len(patched.Assignments) != 3 || patched.UpdatedAt.Before(ag.UpdatedAt.Time) {
		t.Fatalf("PATCH = %+v", patched)
	}
	a.do("PATCH", "/api/agents/"+ag.ID, map[string]any{"assignments": []map[string]any{{"serverId": f.proxy.ID}}}).expect(t, http.StatusOK, &patched)
	if len(patched.Assignments) != 1 || patched.Assignments[0].Prefix != "web_search" || patched.Instructions != nil {
		t.Fatalf("PATCH assignments = %+v", patched)
	}
	a.do("PATCH", "/api/agents/"+ag.ID, map[string]any{"assignments": []any{}}).expect(t, http.StatusOK, &patched)
	if len(patched.Assignments) != 0 || !strings.Contains(string(a.do("GET", "/api/agents/"+ag.ID, nil).body), `"assignments":[]`) {
		t.Fatalf("PATCH to none = %+v", patched)
	}

	a.do("DELETE", "/api/agents/"+ag.ID, nil).expect(t, http.StatusNoContent, nil)
	a.do("GET", "/api/agents/"+ag.ID, nil).expectError(t, http.StatusNotFound, "agent not found")
	a.do("DELETE", "/api/agents/"+ag.ID, nil).expectError(t, http.StatusNotFound, "agent not found")
}

func TestAgentErrors(t *testing.T) {
	t.Parallel()
	f := newAgentFixture(t)
	a := f.a
	_, otherKey := f.s.NewTenant(t, "other")
	other := a.as(otherKey)
	foreignConn := other.create(map[string]any{"name": "theirs", "serverUrl": "https://theirs.example.com/mcp"})
	p := other.createProject("theirs")
	foreignServer := other.createServer(map[string]any{"projectId": p.ID, "name": "theirs", "url": "https://t.example.com/mcp", "connectionType": "proxy"})
	missingConn := uuid.NewString()

	a.createAgent(map[string]any{"name": "taken"})
	as := func(list ...map[string]any) map[string]any {
		return map[string]any{"name": "bot", "assignments": list}
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"no name", map[string]any{}, 400, "name must not be empty"},
		{"name taken", map[string]any{"name": "taken"}, 409, `an agent named "taken" already exists`},
		{"unknown field", map[string]any{"name": "x", "tools": 1}, 400, `unknown field "tools"`},
		{"neither", as(map[string]any{"prefix": "x"}), 400, "assignments[0]: set exactly one of connectionId and serverId"},
		{"both", as(map[string]any{"connectionId": f.c1.ID, "serverId": f.proxy.ID}), 400, "assignments[0]: set exactly one of connectionId and serverId"},
		{"bad connection id", as(map[string]any{"connectionId": "nope"}), 400, "assignments[0].connectionId must be an MCP connection id"},
		{"bad server id", as(map[string]any{"serverId": "nope"}), 400, "assignments[0].serverId must be an MCP server id"},
		{"bad prefix", as(map[string]any{"connectionId": f.c1.ID, "prefix": "Git-Hub"}), 400, "assignments[0].prefix must be 1 to 32 characters"},
		{"long prefix", as(map[string]any{"connectionId": f.c1.ID, "prefix": strings.Repeat("a", 33)}), 400, "assignments[0].prefix must be 1 to 32"},
		{"double underscore", as(map[string]any{"connectionId": f.c1.ID, "prefix": "a__b"}), 400, `assignments[0].prefix must not contain "__"`},
		{"empty tool", as(map[string]any{"connectionId": f.c1.ID, "allowedTools": []string{""}}), 400, "assignments[0].allowedTools[0] must be a tool name"},
		{"tool twice", as(map[string]any{"connectionId": f.c1.ID, "allowedTools": []string{"a", "a"}}), 400, `assignments[0].allowedTools[1]: tool "a" is listed twice`},
		{"direct server", as(map[string]any{"connectionId": f.c1.ID}, map[string]any{"serverId": f.direct.ID}), 400,
			"assignments[1].serverId: " + f.direct.ID + " is not a proxy server of yours"},
		{"unknown connection", as(map[string]any{"connectionId": missingConn}), 400,
			"assignments[0].connectionId: " + missingConn + " is not one of your MCP connections"},
		// another tenant's records get exactly the answer of records that do not exist
		{"foreign connection", as(map[string]any{"connectionId": foreignConn.ID}), 400,
			"assignments[0].connectionId: " + foreignConn.ID + " is not one of your MCP connections"},
		{"foreign server", as(map[string]any{"serverId": foreignServer.ID}), 400,
			"assignments[0].serverId: " + foreignServer.ID + " is not one of your MCP servers"},
		{"duplicate prefix", as(map[string]any{"connectionId": f.c1.ID, "prefix": "x"}, map[string]any{"connectionId": f.c2.ID, "prefix": "x"}), 409,
			`assignments[1].prefix "x" is already used`},
		{"duplicate default prefix", as(map[string]any{"connectionId": f.c1.ID}, map[string]any{"connectionId": f.c1.ID}), 409,
			`assignments[1].prefix "github_tools" is already used`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.do("POST", "/api/agents", tc.body).expectError(t, tc.status, tc.want)
		})
	}
	a.do("GET", "/api/agents/nope", nil).expectError(t, 400, `invalid agent id "nope": must be a UUID`)
	a.do("GET", "/api/agents?cursor=zzz", nil).expectError(t, 400, "invalid cursor")
	a.do("GET", "/api/agents?limit=0", nil).expectError(t, 400, "limit must be an integer")

	// A failed write leaves nothing behind.
	var list contract.AgentList
	a.do("GET", "/api/agents", nil).expect(t, http.StatusOK, &list)
	if len(list.Data) != 1 {
		t.Fatalf("agents after refused writes = %+v", list.Data)
	}

	// Cross-tenant: every verb is a 404.
	ag := a.createAgent(map[string]any{"name": "mine"})
	tok := struct{ ID string }{}
	a.do("POST", "/api/agents/"+ag.ID+"/tokens", map[string]any{"name": "t"}).expect(t, http.StatusCreated, &tok)
	for _, r := range []*response{
		other.do("GET", "/api/agents/"+ag.ID, nil),
		other.do("PATCH", "/api/agents/"+ag.ID, map[string]any{"name": "stolen"}),
		other.do("DELETE", "/api/agents/"+ag.ID, nil),
		other.do("GET", "/api/agents/"+ag.ID+"/tokens", nil),
		other.do("POST", "/api/agents/"+ag.ID+"/tokens", map[string]any{"name": "t"}),
	} {
		r.expectError(t, http.StatusNotFound, "agent not found")
	}
	other.do("DELETE", "/api/agents/"+ag.ID+"/tokens/"+tok.ID, nil).expectError(t, http.StatusNotFound, "agent token not found")
	if ids := listedIDs(other, "/api/agents", "data"); len(ids) != 0 {
		t.Fatalf("other tenant lists %v", ids)
	}
}

func TestAgentAssignedRecords(t *testing.T) {
	t.Parallel()
	f := newAgentFixture(t)
	a := f.a
	ag := a.createAgent(map[string]any{"name": "bot", "assignments": []map[string]any{
		{"connectionId": f.c1.ID}, {"serverId": f.proxy.ID}, {"connectionId": f.c2.ID}}})
	// An assigned proxy server cannot become direct...
	a.do("PATCH", "/api/mcp/servers/"+f.proxy.ID, map[string]any{"connectionType": "direct"}).
		expectError(t, http.StatusConflict, "is assigned to 1 agents")
	// ...and deleting an assigned record removes its assignment only.
	a.do("DELETE", "/api/mcp-connections/"+f.c1.ID, nil).expect(t, http.StatusNoContent, nil)
	a.do("DELETE", "/api/mcp/servers/"+f.proxy.ID, nil).expect(t, http.StatusOK, nil)
	var got contract.Agent
	a.do("GET", "/api/agents/"+ag.ID, nil).expect(t, http.StatusOK, &got)
	if len(got.Assignments) != 1 || *got.Assignments[0].ConnectionID != f.c2.ID || got.Instructions != nil {
		t.Fatalf("after deletes = %+v", got)
	}
}

func TestAgentTokens(t *testing.T) {
	t.Parallel()
	logs, logOpt := captureLogs()
	s := apitest.Start(t, logOpt)
	a := newAPI(t, s)
	ag := a.createAgent(map[string]any{"name": "bot"})
	path := "/api/agents/" + ag.ID + "/tokens"

	r := a.do("POST", path, map[string]any{"name": "ci", "expiresAt": "2099-01-01T00:00:00Z"})
	var tok contract.AgentToken
	r.expect(t, http.StatusCreated, &tok)
	if tok.Token == nil || !strings.HasPrefix(*tok.Token, contract.AgentTokenPrefix) || len(*tok.Token) < len(contract.AgentTokenPrefix)+32 ||
		tok.AgentID != ag.ID || tok.Name != "ci" || tok.ExpiresAt == nil || tok.ExpiresAt.Year() != 2099 {
		t.Fatalf("created = %+v", tok)
	}
	if got := r.header.Get("Location"); got != path+"/"+tok.ID {
		t.Errorf("Location = %q", got)
	}
	plain := *tok.Token
	for _, c := range plain[len(contract.AgentTokenPrefix):] {
		if !strings.ContainsRune("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", c) {
			t.Fatalf("token %q is not base62", plain)
		}
	}
	var second contract.AgentToken
	a.do("POST", path, map[string]any{"name": "forever"}).expect(t, http.StatusCreated, &second)
	if *second.Token == plain || second.ExpiresAt != nil {
		t.Fatalf("second = %+v", second)
	}

	// Shown once: the list never carries it.
	lr := a.do("GET", path, nil)
	var list contract.AgentTokenList
	lr.expect(t, http.StatusOK, &list)
	if len(list.Data) != 2 || list.Data[0].ID != tok.ID || list.Data[0].Token != nil || strings.Contains(string(lr.body), plain) ||
		strings.Contains(string(lr.body), `"token"`) {
		t.Fatalf("list = %s", lr.body)
	}
	// Hashed at rest: the row holds SHA-256 of the token, never the token.
	caller, err := s.Store.AgentForToken(context.Background(), secrets.HashAPIKey(plain))
	if err != nil || caller.TokenID.String() != tok.ID || caller.AgentID.String() != ag.ID {
		t.Fatalf("AgentForToken = %+v, %v", caller, err)
	}
	db, err := sql.Open("postgres", s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored []byte
	var leaked int
	if err := db.QueryRow(`SELECT token_hash FROM agent_tokens WHERE id = $1`, tok.ID).Scan(&stored); err != nil ||
		!bytes.Equal(stored, secrets.HashAPIKey(plain)) {
		t.Fatalf("stored token_hash = %x, %v; want SHA-256 of the token", stored, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM agent_tokens t WHERE strpos(CAST(t AS text), $1) > 0`, plain).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("rows holding the token in the clear: %d, %v", leaked, err)
	}

	a.do("POST", path, map[string]any{"name": "old", "expiresAt": "2001-01-01T00:00:00Z"}).expectError(t, 400, "expiresAt must be in the future")
	a.do("POST", path, map[string]any{"name": ""}).expectError(t, 400, "name must not be empty")
	a.do("POST", "/api/agents/"+uuid.NewString()+"/tokens", map[string]any{"name": "x"}).expectError(t, 404, "agent not found")

	a.do("DELETE", path+"/"+tok.ID, nil).expect(t, http.StatusNoContent, nil)
	a.do("DELETE", path+"/"+tok.ID, nil).expectError(t, http.StatusNotFound, "agent token not found")
	a.do("DELETE", path+"/"+uuid.NewString(), nil).expectError(t, http.StatusNotFound, "agent token not found")
	a.do("DELETE", path+"/nope", nil).expectError(t, http.StatusBadRequest, "invalid agent token id")
	if _, err := s.Store.AgentForToken(context.Background(), secrets.HashAPIKey(plain)); err == nil {
		t.Fatal("a revoked token still authenticates")
	}
	a.do("GET", path, nil).expect(t, http.StatusOK, &list)
	if len(list.Data) != 1 || list.Data[0].ID != second.ID {
		t.Fatalf("list after revoke = %+v", list.Data)
	}
	for _, tokenText := range []string{plain, *second.Token} {
		if strings.Contains(logs.String(), tokenText) {
			t.Fatal("a token reached the log")
		}
	}
}
