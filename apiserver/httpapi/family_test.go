package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
)

// expectEnvelopeError checks an error of the enveloped families: status, a
// JSON body of exactly {"success":false,"error":...} and a message
// containing want.
func (r *response) expectEnvelopeError(t *testing.T, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	if len(raw) != 2 || string(raw["success"]) != "false" {
		t.Fatalf(`body = %s, want exactly {"success":false,"error":...}`, r.body)
	}
	var msg string
	if err := json.Unmarshal(raw["error"], &msg); err != nil || !strings.Contains(msg, want) {
		t.Fatalf("error = %s, want it to contain %q", raw["error"], want)
	}
}

// expectPlainError checks that an error of the connections family has no envelope.
func (r *response) expectPlainError(t *testing.T, status int, want string) {
	t.Helper()
	r.expectError(t, status, want)
	if strings.Contains(string(r.body), `"success"`) {
		t.Fatalf("connections error carries the servers' envelope: %s", r.body)
	}
}

func TestEnvelopeOnEveryError(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a := newAPI(t, s)
	anon := a.as("")

	// 401 comes from the auth middleware: enveloped for servers and
	// projects, plain for connections.
	anon.do("GET", "/api/mcp/servers", nil).expectEnvelopeError(t, http.StatusUnauthorized, "missing API key")
	anon.do("POST", "/api/mcp/servers/mcp_abc/disconnect", nil).expectEnvelopeError(t, http.StatusUnauthorized, "missing API key")
	anon.do("GET", "/api/projects", nil).expectEnvelopeError(t, http.StatusUnauthorized, "missing API key")
	a.as("mcpk_wrong").do("DELETE", "/api/projects/proj_abc", nil).expectEnvelopeError(t, http.StatusUnauthorized, "invalid API key")
	anon.do("GET", "/api/mcp-connections", nil).expectPlainError(t, http.StatusUnauthorized, "missing API key")

	// Unknown routes and methods under the families.
	a.do("GET", "/api/mcp/servers/mcp_abc/nope", nil).expectEnvelopeError(t, http.StatusNotFound, "no route")
	a.do("GET", "/api/mcp/servers/", nil).expectEnvelopeError(t, http.StatusNotFound, "no route")
	a.do("GET", "/api/mcp", nil).expectEnvelopeError(t, http.StatusNotFound, "no route")
	a.do("GET", "/api/projects/proj_abc/servers", nil).expectEnvelopeError(t, http.StatusNotFound, "no route")
	r := a.do("PUT", "/api/mcp/servers/mcp_abc", `{}`)
	r.expectEnvelopeError(t, http.StatusMethodNotAllowed, "method PUT is not allowed")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "PATCH") {
		t.Errorf("Allow = %q", allow)
	}
	a.do("DELETE", "/api/projects", nil).expectEnvelopeError(t, http.StatusMethodNotAllowed, "not allowed")
	a.do("GET", "/api/mcp/servers/mcp_abc/disconnect", nil).expectEnvelopeError(t, http.StatusMethodNotAllowed, "not allowed")
	a.do("GET", "/api/mcp-connections/x/y", nil).expectPlainError(t, http.StatusNotFound, "no route")

	// 413, declared and streamed.
	big := `{"name":"` + strings.Repeat("a", contract.MaxBodyBytes) + `"}`
	a.do("POST", "/api/projects", big).expectEnvelopeError(t, http.StatusRequestEntityTooLarge, "request body exceeds 1 MiB")
	a.do("POST", "/api/mcp/servers", io.MultiReader(strings.NewReader(big))).expectEnvelopeError(t, http.StatusRequestEntityTooLarge, "request body exceeds 1 MiB")

	// 400, 404 and 409 from the handlers.
	a.do("POST", "/api/mcp/servers", `{"name":`).expectEnvelopeError(t, http.StatusBadRequest, "not valid JSON")
	a.do("GET", "/api/mcp/servers/mcp_nothere", nil).expectEnvelopeError(t, http.StatusNotFound, "MCP server not found")
	a.do("GET", "/api/projects/proj_nothere", nil).expectEnvelopeError(t, http.StatusNotFound, "project not found")
	a.do("POST", "/api/projects", map[string]any{"name": "p"}).expect(t, http.StatusCreated, nil)
	a.do("POST", "/api/projects", map[string]any{"name": "p"}).expectEnvelopeError(t, http.StatusConflict, `a project named "p" already exists`)

	// The seed's own example id has the right shape and is simply absent.
	a.do("GET", "/api/mcp/servers/mcp_abc123", nil).expectEnvelopeError(t, http.StatusNotFound, "MCP server not found")
}

// TestEnvelopeDatabaseOutage stops PostgreSQL; like TestDatabaseOutage it is
// not parallel.
func TestEnvelopeDatabaseOutage(t *testing.T) {
	cluster := pgtest.SharedCluster(t)
	s := apitest.Start(t)
	a := newAPI(t, s)
	var p contract.ProjectEnvelope
	a.do("POST", "/api/projects", map[string]any{"name": "p"}).expect(t, http.StatusCreated, &p)
	var srv contract.ServerEnvelope
	a.do("POST", "/api/mcp/servers", map[string]any{"projectId": p.Project.ID, "name": "s", "url": "https://a.example/mcp"}).
		expect(t, http.StatusCreated, &srv)

	restart := cluster.Outage(t)
	for _, r := range []*response{
		a.do("GET", "/api/mcp/servers/"+srv.Server.ID, nil),
		a.do("GET", "/api/mcp/servers", nil),
		a.do("POST", "/api/mcp/servers/"+srv.Server.ID+"/disconnect", nil),
		a.do("PATCH", "/api/mcp/servers/"+srv.Server.ID, map[string]any{"name": "x"}),
		a.do("GET", "/api/projects/"+p.Project.ID, nil),
		a.do("DELETE", "/api/projects/"+p.Project.ID, nil),
	} {
		r.expectEnvelopeError(t, http.StatusServiceUnavailable, "database unavailable, retry later")
		if r.header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	}
	restart()
	a.do("GET", "/api/mcp/servers/"+srv.Server.ID, nil).expect(t, http.StatusOK, nil)
}
