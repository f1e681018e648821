package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a := newAPI(t, s)

	tests := []struct {
		name, header, want string
		invalidToken       bool
	}{
		{"missing", "", "missing API key", false},
		{"basic scheme", "Basic dXNlcjpwdw==", "malformed Authorization header", false},
		{"bearer without key", "Bearer ", "malformed Authorization header", false},
		{"no scheme", s.APIKey, "malformed Authorization header", false},
		{"unknown key", "Bearer mcpk_notakey", "invalid API key", true},
		{"overlong key", "Bearer " + strings.Repeat("k", 4096), "invalid API key", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := a.as("")
			a.t = t
			var hdr []string
			if tt.header != "" {
				hdr = []string{"Authorization", tt.header}
			}
			r := a.do("GET", "/api/mcp-connections", nil, hdr...)
			r.expectError(t, http.StatusUnauthorized, tt.want)
			challenge := r.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", challenge)
			}
			if got := strings.Contains(challenge, `error="invalid_token"`); got != tt.invalidToken {
				t.Errorf("WWW-Authenticate = %q, invalid_token %v, want %v", challenge, got, tt.invalidToken)
			}
		})
	}
	// the scheme is case-insensitive (RFC 9110)
	a.do("GET", "/api/mcp-connections", nil, "Authorization", "bearer "+s.APIKey).expect(t, http.StatusOK, nil)
	// every /api route is behind authentication, including ones that fail validation later
	a.as("").do("POST", "/api/mcp-connections", `{`).expectError(t, http.StatusUnauthorized, "missing API key")
	a.as("").do("GET", "/api/mcp-connections/x", nil).expectError(t, http.StatusUnauthorized, "missing API key")
}

func TestProbesNeedNoAuth(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t)).as("")
	a.do("GET", "/healthz", nil).expect(t, http.StatusOK, nil)
	a.do("GET", "/readyz", nil).expect(t, http.StatusOK, nil)
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	logs, opt := captureLogs()
	a := newAPI(t, apitest.Start(t, opt))

	r := a.do("GET", "/api/mcp-connections", nil, "X-Request-Id", "trace-abc.123:x_y")
	if got := r.header.Get("X-Request-Id"); got != "trace-abc.123:x_y" {
		t.Errorf("echoed id = %q", got)
	}
	generated := a.do("GET", "/healthz", nil).header.Get("X-Request-Id")
	if _, err := uuid.Parse(generated); err != nil {
		t.Errorf("generated id %q is not a UUID", generated)
	}
	for _, bad := range []string{strings.Repeat("a", 129), "has space", "semi;colon", "<script>", "é"} {
		got := a.do("GET", "/healthz", nil, "X-Request-Id", bad).header.Get("X-Request-Id")
		if got == bad {
			t.Errorf("unsafe id %q was echoed", bad)
		} else if _, err := uuid.Parse(got); err != nil {
			t.Errorf("replacement for %q = %q, want a UUID", bad, got)
		}
	}
	// error responses carry it too
	r = a.as("").do("GET", "/api/mcp-connections", nil, "X-Request-Id", "req-401")
	if r.status != http.StatusUnauthorized || r.header.Get("X-Request-Id") != "req-401" {
		t.Errorf("401: status %d, id %q", r.status, r.header.Get("X-Request-Id"))
	}

	found := false
	for _, line := range logs.lines(t) {
		if line["request_id"] == "trace-abc.123:x_y" {
			found = true
			if line["path"] != "/api/mcp-connections" || line["method"] != "GET" || line["status"] != float64(200) ||
				line["tenant_id"] == nil || line["latency_ms"] == nil {
				t.Errorf("access log line = %v", line)
			}
		}
	}
	if !found {
		t.Errorf("no access log line with the request id in:\n%s", logs)
	}
}

func TestAccessLogUsesRouteTemplate(t *testing.T) {
	t.Parallel()
	logs, opt := captureLogs()
	a := newAPI(t, apitest.Start(t, opt))
	id := uuid.NewString()
	a.do("GET", "/api/mcp-connections/"+id+"?secret=s3cr3t", nil).expect(t, http.StatusNotFound, nil)
	a.do("GET", "/api/mcp-connections?cursor=s3cr3t", nil).expect(t, http.StatusBadRequest, nil)
	a.do("GET", "/nowhere?secret=s3cr3t", nil).expect(t, http.StatusNotFound, nil)

	out := logs.String()
	for _, leak := range []string{id, "s3cr3t", "Authorization", "Bearer"} {
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q:\n%s", leak, out)
		}
	}
	var paths []any
	for _, line := range logs.lines(t) {
		if line["msg"] == "request" {
			paths = append(paths, line["path"])
		}
	}
	want := []any{"/api/mcp-connections/:id", "/api/mcp-connections", "/nowhere"}
	if len(paths) != 3 || paths[0] != want[0] || paths[1] != want[1] || paths[2] != want[2] {
		t.Errorf("logged paths %v, want %v", paths, want)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))
	big := `{"name":"` + strings.Repeat("a", contract.MaxBodyBytes) + `","serverUrl":"https://a.example"}`

	// declared length
	a.do("POST", "/api/mcp-connections", big).expectError(t, http.StatusRequestEntityTooLarge, "request body exceeds 1 MiB")
	// chunked: no length to check up front, so the reader has to stop it
	a.do("POST", "/api/mcp-connections", io.MultiReader(strings.NewReader(big))).
		expectError(t, http.StatusRequestEntityTooLarge, "request body exceeds 1 MiB")
	id := a.create(map[string]any{"name": "n", "serverUrl": "https://a.example"}).ID
	a.do("PATCH", "/api/mcp-connections/"+id, io.MultiReader(strings.NewReader(big))).
		expectError(t, http.StatusRequestEntityTooLarge, "request body exceeds 1 MiB")

	// just under the limit is read (and rejected for what it says, not its size)
	under := `{"name":"` + strings.Repeat("a", contract.MaxBodyBytes-64) + `","serverUrl":"https://a.example"}`
	a.do("POST", "/api/mcp-connections", under).expectError(t, http.StatusBadRequest, "name must be at most 200 characters")
}

func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))
	a.do("GET", "/nope", nil).expectError(t, http.StatusNotFound, "no route for GET /nope")
	a.do("GET", "/api/mcp-connections/", nil).expectError(t, http.StatusNotFound, "no route")

	r := a.do("PUT", "/api/mcp-connections/"+uuid.NewString(), `{}`)
	r.expectError(t, http.StatusMethodNotAllowed, "method PUT is not allowed")
	for _, m := range []string{"GET", "PATCH", "DELETE"} {
		if !strings.Contains(r.header.Get("Allow"), m) {
			t.Errorf("Allow = %q, want it to list %s", r.header.Get("Allow"), m)
		}
	}
	r = a.do("DELETE", "/api/mcp-connections", nil)
	r.expectError(t, http.StatusMethodNotAllowed, "not allowed")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow = %q, want GET and POST", allow)
	}
}

// TestTokenNeverLeaks follows one bearer token through every endpoint and
// error path and looks for it in responses, logs and the database.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	const token = "tok-LEAKCHECK-7c2f9e1d0b"
	const token2 = "tok-LEAKCHECK-second-55aa"
	logs, opt := captureLogs()
	s := apitest.Start(t, opt)
	a := newAPI(t, s)

	var bodies [][]byte
	record := func(r *response) *response {
		bodies = append(bodies, r.body)
		return r
	}
	var c contract.Connection
	record(a.do("POST", "/api/mcp-connections", map[string]any{
		"name": "secret", "serverUrl": "https://a.example/mcp", "authType": "bearer", "bearerToken": token,
	})).expect(t, http.StatusCreated, &c)
	path := "/api/mcp-connections/" + c.ID
	record(a.do("GET", path, nil))
	record(a.do("GET", "/api/mcp-connections", nil))
	record(a.do("PATCH", path, map[string]any{"name": "renamed", "bearerToken": token}))
	record(a.do("PATCH", path, map[string]any{"authType": "none", "bearerToken": token}))
	record(a.do("PATCH", path, `{"bearerToken":"`+token+`", "bogus":1}`))
	record(a.do("PATCH", path, `{"bearerToken":"`+token+` x"}`))
	record(a.do("PATCH", path, `{"bearerToken":"`+token+`"`))
	record(a.do("POST", "/api/mcp-connections", map[string]any{
		"name": "renamed", "serverUrl": "https://a.example/mcp", "authType": "bearer", "bearerToken": token,
	})).expect(t, http.StatusConflict, nil)
	record(a.do("POST", "/api/mcp-connections", map[string]any{
		"name": "other", "serverUrl": "https://a.example/mcp", "bearerToken": token,
	}))
	record(a.do("POST", "/api/mcp-connections", `{"name":"x","serverUrl":"https://a.example","authType":"bearer","bearerToken":`+token+`}`))
	record(a.do("PATCH", path, map[string]any{"bearerToken": token2})).expect(t, http.StatusOK, nil)
	record(a.do("GET", "/api/mcp-connections?name="+token, nil))
	record(a.as(token).do("GET", "/api/mcp-connections", nil))

	assertTokensHidden(t, s.DatabaseURL, "mcp_connections", bodies, logs.String(), token, token2)
	if got := storedToken(t, s, c.ID); got != token2 {
		t.Errorf("stored token opens to %q, want the second token", got)
	}
}

// TestDatabaseOutage stops PostgreSQL under a running server. It is not
// parallel: the cluster is shared by the package's tests, which wait while
// it runs.
func TestDatabaseOutage(t *testing.T) {
	cluster := pgtest.SharedCluster(t)
	s := apitest.Start(t)
	a := newAPI(t, s)
	c := a.create(map[string]any{"name": "n", "serverUrl": "https://a.example/mcp"})

	restart := cluster.Outage(t)

	for _, r := range []*response{
		a.do("GET", "/api/mcp-connections/"+c.ID, nil),
		a.do("GET", "/api/mcp-connections", nil),
		a.do("POST", "/api/mcp-connections", map[string]any{"name": "m", "serverUrl": "https://a.example/mcp"}),
		a.do("GET", "/readyz", nil),
	} {
		r.expectError(t, http.StatusServiceUnavailable, "database unavailable, retry later")
		if r.header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	}
	a.do("GET", "/healthz", nil).expect(t, http.StatusOK, nil)

	restart()

	// The same server recovers without a restart. Connections the pool held
	// across the outage are dead; the store drops them, so the first request
	// after the restart should already succeed.
	var got contract.Connection
	a.do("GET", "/api/mcp-connections/"+c.ID, nil).expect(t, http.StatusOK, &got)
	if got.ID != c.ID {
		t.Fatalf("after restart got %+v", got)
	}
	a.do("GET", "/readyz", nil).expect(t, http.StatusOK, nil)
	a.create(map[string]any{"name": "after outage", "serverUrl": "https://a.example/mcp"})
}
