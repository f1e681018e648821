package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	healthcheck "github.com/mcpconn/terraform-provider-mcp/apiserver/health"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

var serverIDShape = regexp.MustCompile(`^mcp_[0-9A-Za-z]{16}$`)

// seedFields are the keys of the seed's server object.
var seedFields = []string{"args", "capabilities", "command", "connectionType", "createdAt", "description", "id", "lastConnectedAt",
	"lastError", "name", "projectId", "serverImplementation", "status", "transportType", "updatedAt", "url"}

// checkStateFields are the keys SPEC §8 adds to both checked kinds.
var checkStateFields = []string{"approvedToolsHash", "lastErrorKind", "protocolVersion", "toolCount", "toolsChangedAt", "toolsDrift", "toolsHash"}

// gatewayFields are the keys SPEC §10 adds to servers.
var gatewayFields = []string{"gatewayUrl"}

// upstreamAuthFields are the keys SPEC §9 adds to both checked kinds
// (servers gain authType too).
var upstreamAuthFields = []string{"headerNames", "oauth2", "tls"}

// serverFields are all the keys of a server object: the seed's, §8's, §9's and §10's.
var serverFields = slices.Sorted(slices.Values(slices.Concat(seedFields, checkStateFields, upstreamAuthFields, []string{"authType"}, gatewayFields)))

func (a *api) createServer(req map[string]any) contract.Server {
	a.t.Helper()
	var env contract.ServerEnvelope
	a.do("POST", "/api/mcp/servers", req).expect(a.t, http.StatusCreated, &env)
	return env.Server
}

func (a *api) getServer(id string) contract.Server {
	a.t.Helper()
	var env contract.ServerEnvelope
	a.do("GET", "/api/mcp/servers/"+id, nil).expect(a.t, http.StatusOK, &env)
	return env.Server
}

func (a *api) patchServer(id string, req any) contract.Server {
	a.t.Helper()
	var env contract.ServerEnvelope
	a.do("PATCH", "/api/mcp/servers/"+id, req).expect(a.t, http.StatusOK, &env)
	return env.Server
}

// withStdio allows the given stdio commands.
func withStdio(commands ...string) apitest.Option {
	return apitest.WithConfig(func(_ *apitest.Server, cfg *httpapi.Config) { cfg.StdioCommands = commands })
}

// startWithChecker starts a server that probes MCP servers for real.
func startWithChecker(t *testing.T, stdioPath string, commands []string, opts ...apitest.Option) (*apitest.Server, *healthcheck.ServerChecker) {
	t.Helper()
	var checker *healthcheck.ServerChecker
	opts = append(opts, apitest.WithConfig(func(s *apitest.Server, cfg *httpapi.Config) {
		c, err := healthcheck.NewServerChecker(healthcheck.CheckerConfig{
			Store: s.Store, Keyring: s.Keyring, Interval: time.Hour,
			Prober:        probe.New(probe.Options{Timeout: 10 * time.Second, AllowPrivate: true, StdioTerminateDelay: 200 * time.Millisecond}),
			StdioCommands: commands, StdioPath: stdioPath,
		})
		if err != nil {
			t.Fatal(err)
		}
		// Runs after the HTTP server closes and before the store does.
		t.Cleanup(c.Wait)
		cfg.ServerChecker, cfg.StdioCommands, checker = c, commands, c
	}))
	return apitest.Start(t, opts...), checker
}

func TestServerLifecycle(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))
	p := a.createProject("p")

	before := time.Now().Add(-time.Second)
	r := a.do("POST", "/api/mcp/servers", map[string]any{
		"projectId": p.ID, "name": "Production Server", "description": "Main production MCP server",
		"url": "https://mcp-server.example.com", "transportType": "http", "connectionType": "proxy", "bearerToken": "tok-lifecycle",
	})
	var created contract.ServerEnvelope
	r.expect(t, http.StatusCreated, &created)
	s := created.Server
	if got := r.header.Get("Location"); got != "/api/mcp/servers/"+s.ID {
		t.Errorf("Location = %q", got)
	}
	if s.GatewayURL == nil || *s.GatewayURL != a.base+"/mcp/servers/"+s.ID {
		t.Errorf("gatewayUrl of a proxy server = %v, want %s/mcp/servers/%s", s.GatewayURL, a.base, s.ID)
	}
	if !strings.HasPrefix(string(r.body), `{"success":true,"server":{`) {
		t.Errorf("body = %s, want the seed's envelope", r.body)
	}
	var raw struct {
		Server map[string]json.RawMessage `json:"server"`
	}
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range raw.Server {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, serverFields) || string(raw.Server["headerNames"]) != "[]" {
		t.Errorf("server keys = %v, want the seed's and SPEC §8's, §9's and §10's %v", keys, serverFields)
	}
	for _, null := range []string{"command", "args", "capabilities", "serverImplementation", "lastError", "lastConnectedAt", "oauth2", "tls"} {
		if string(raw.Server[null]) != "null" {
			t.Errorf("%s = %s, want null", null, raw.Server[null])
		}
	}
	if bytes.Contains(r.body, []byte("tok-lifecycle")) || bytes.Contains(r.body, []byte("bearerToken")) {
		t.Errorf("create response carries the token: %s", r.body)
	}
	want := contract.Server{
		ID: s.ID, ProjectID: p.ID, Name: "Production Server", Description: ptr("Main production MCP server"),
		URL: ptr("https://mcp-server.example.com"), TransportType: contract.TransportHTTP, ConnectionType: contract.ConnectionProxy,
		AuthType: contract.AuthBearer, UpstreamAuth: contract.UpstreamAuth{HeaderNames: []string{}},
		Status: contract.ServerConnecting, GatewayURL: ptr(a.base + "/mcp/servers/" + s.ID), CreatedAt: s.CreatedAt, UpdatedAt: s.CreatedAt,
	}
	if !created.Success || !serverIDShape.MatchString(s.ID) || !reflect.DeepEqual(s, want) || s.CreatedAt.Before(before) {
		t.Fatalf("created = %+v, want %+v", s, want)
	}

	if got := a.getServer(s.ID); !reflect.DeepEqual(got, s) {
		t.Fatalf("GET = %+v, want %+v", got, s)
	}
	var list contract.ServerListEnvelope
	a.do("GET", "/api/mcp/servers", nil).expect(t, http.StatusOK, &list)
	if !list.Success || len(list.Servers) != 1 || !reflect.DeepEqual(list.Servers[0], s) || list.NextCursor != nil {
		t.Fatalf("list = %+v", list)
	}

	renamed := a.patchServer(s.ID, map[string]any{"name": "Prod", "connectionType": "direct", "description": ""})
	if renamed.Name != "Prod" || renamed.ConnectionType != contract.ConnectionDirect || renamed.Description != nil ||
		renamed.Status != contract.ServerConnecting || renamed.UpdatedAt.Before(s.UpdatedAt.Time) {
		t.Fatalf("PATCH = %+v", renamed)
	}
	if renamed.GatewayURL != nil {
		t.Errorf("gatewayUrl of a direct server = %q, want null", *renamed.GatewayURL)
	}

	var off contract.ServerEnvelope
	a.do("POST", "/api/mcp/servers/"+s.ID+"/disconnect", nil).expect(t, http.StatusOK, &off)
	if off.Server.Status != contract.ServerDisconnected || !off.Success {
		t.Fatalf("disconnect = %+v", off)
	}
	a.do("GET", "/api/mcp/servers?status=disconnected", nil).expect(t, http.StatusOK, &list)
	if len(list.Servers) != 1 {
		t.Fatalf("?status=disconnected = %+v", list.Servers)
	}
	// Without a checker the API cannot probe, and says so with a 404 of the family.
	a.do("POST", "/api/mcp/servers/"+s.ID+"/connect", nil).expectEnvelopeError(t, http.StatusNotFound, "no route")

	r = a.do("DELETE", "/api/mcp/servers/"+s.ID, nil).expect(t, http.StatusOK, nil)
	if string(r.body) != `{"success":true}` {
		t.Errorf("DELETE body = %s", r.body)
	}
	for _, call := range [][2]string{{"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"POST", "/disconnect"}} {
		var body any
		if call[0] == "PATCH" {
			body = map[string]any{"name": "x"}
		}
		a.do(call[0], "/api/mcp/servers/"+s.ID+call[1], body).expectEnvelopeError(t, http.StatusNotFound, "MCP server not found")
	}
}

func TestServerCreateRejectsBadInput(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t, withStdio("node", "uvx")))
	p := a.createProject("p")
	other := a.createProject("other")
	a.createServer(map[string]any{"projectId": other.ID, "name": "taken", "url": "https://a.example"})

	// with is base with extra's entries set; an entry of nil removes the key.
	with := func(base, extra map[string]any) map[string]any {
		for k, v := range extra {
			if v == nil {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		return base
	}
	body := func(extra map[string]any) map[string]any {
		return with(map[string]any{"projectId": p.ID, "name": "n"}, extra)
	}
	stdio := func(extra map[string]any) map[string]any {
		return with(body(map[string]any{"transportType": "stdio", "command": "node"}), extra)
	}
	http1 := func(extra map[string]any) map[string]any {
		return with(body(map[string]any{"url": "https://mcp.example.com/mcp"}), extra)
	}
	tests := []struct {
		name string
		body any
		want string
	}{
		{"bad json", `{"name":`, "not valid JSON"},
		{"unknown field", http1(map[string]any{"status": "connected"}), `unknown field "status"`},
		{"null field", `{"projectId":null}`, `field "projectId" cannot be null`},
		{"args not an array", http1(map[string]any{"args": "x"}), `field "args" must be an array`},
		{"missing projectId", body(map[string]any{"projectId": nil, "url": "https://a.example"}), "projectId is required"},
		{"malformed projectId", body(map[string]any{"projectId": "p1", "url": "https://a.example"}), `projectId must be a project id ("proj_" followed by letters and digits), got "p1"`},
		{"unknown projectId", body(map[string]any{"projectId": "proj_nothere", "url": "https://a.example"}), `projectId "proj_nothere" is not one of your projects`},
		{"missing name", http1(map[string]any{"name": ""}), "name must not be empty"},
		{"long name", http1(map[string]any{"name": strings.Repeat("n", 201)}), "name must be at most 200 characters"},
		{"long description", http1(map[string]any{"description": strings.Repeat("d", 2001)}), "description must be at most 2000 characters"},
		{"bad transportType", http1(map[string]any{"transportType": "ws"}), `transportType must be one of "stdio", "http", "sse", got "ws"`},
		{"bad connectionType", http1(map[string]any{"connectionType": "tunnel"}), `connectionType must be one of "direct", "proxy", got "tunnel"`},
		{"http without url", body(nil), `url is required when transportType is "http"`},
		{"sse without url", body(map[string]any{"transportType": "sse"}), `url is required when transportType is "sse"`},
		{"relative url", http1(map[string]any{"url": "/mcp"}), "url must be an absolute http or https URL"},
		{"ftp url", http1(map[string]any{"url": "ftp://x.example"}), "url must be an absolute http or https URL"},
		{"url with credentials", http1(map[string]any{"url": "https://u:p@x.example"}), "url must not carry credentials in the URL; use bearerToken instead"},
		{"http with command", http1(map[string]any{"command": "node"}), `command must not be set when transportType is "http"`},
		{"http with args", http1(map[string]any{"args": []string{"x"}}), `args must not be set when transportType is "http"`},
		{"sse with empty args", http1(map[string]any{"transportType": "sse", "args": []string{}}), `args must not be set when transportType is "sse"`},
		{"stdio without command", stdio(map[string]any{"command": nil}), `command is required when transportType is "stdio"`},
		{"stdio with url", stdio(map[string]any{"url": "https://a.example"}), `url must not be set when transportType is "stdio"`},
		{"stdio with token", stdio(map[string]any{"bearerToken": "t"}), `bearerToken must not be set when transportType is "stdio"`},
		{"too many args", stdio(map[string]any{"args": make([]string, 65)}), "args must have at most 64 items, got 65"},
		{"long arg", stdio(map[string]any{"args": []string{"a", strings.Repeat("x", 4097)}}), "args item 1 must be at most 4096 bytes"},
		{"NUL in arg", stdio(map[string]any{"args": []string{"a\x00b"}}), "args item 0 must not contain a NUL character"},
		{"empty token", http1(map[string]any{"bearerToken": ""}), "bearerToken must not be empty"},
		{"token with space", http1(map[string]any{"bearerToken": "a b"}), "bearerToken must contain only printable ASCII"},
		{"duplicate name in project", body(map[string]any{"projectId": other.ID, "name": "taken", "url": "https://a.example"}), `an MCP server named "taken" already exists in project ` + other.ID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := a.as(a.key)
			b.t = t
			status := http.StatusBadRequest
			if strings.HasPrefix(tc.name, "duplicate") {
				status = http.StatusConflict
			}
			b.do("POST", "/api/mcp/servers", tc.body).expectEnvelopeError(t, status, tc.want)
		})
	}
	if ids := listedIDs(a, "/api/mcp/servers", "servers"); len(ids) != 1 {
		t.Fatalf("rejected requests stored servers: %v", ids)
	}
}

// A stdio command is a bare name on the allowlist; nothing else gets near
// exec, let alone a shell. Arguments are data and pass through verbatim.
func TestStdioCommandsRefused(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t, withStdio("node")))
	p := a.createProject("p")
	ok := a.createServer(map[string]any{"projectId": p.ID, "name": "ok", "transportType": "stdio", "command": "node"})

	for _, cmd := range []string{"../bin/x", "/usr/bin/env", "node;rm", "node --x", "node rm", "node|sh", "node&&id", "$(id)", "`id`",
		"node\n", "./node", "bin/node", ".", "..", "-e", "node\x00", "nöde", "~/node", "node>out", "*"} {
		const want = "command must be a bare program name"
		a.do("POST", "/api/mcp/servers", map[string]any{"projectId": p.ID, "name": "x", "transportType": "stdio", "command": cmd}).
			expectEnvelopeError(t, http.StatusBadRequest, want)
		a.do("PATCH", "/api/mcp/servers/"+ok.ID, map[string]any{"command": cmd}).expectEnvelopeError(t, http.StatusBadRequest, want)
	}
	for _, cmd := range []string{"python", "sh", "bash", "env", "Node"} {
		want := `command "` + cmd + `" is not allowed on this API server; allowed programs (MCP_API_STDIO_COMMANDS): node`
		a.do("POST", "/api/mcp/servers", map[string]any{"projectId": p.ID, "name": "x", "transportType": "stdio", "command": cmd}).
			expectEnvelopeError(t, http.StatusBadRequest, want)
		a.do("PATCH", "/api/mcp/servers/"+ok.ID, map[string]any{"command": cmd}).expectEnvelopeError(t, http.StatusBadRequest, want)
	}
	a.do("POST", "/api/mcp/servers", map[string]any{"projectId": p.ID, "name": "x", "transportType": "stdio", "command": ""}).
		expectEnvelopeError(t, http.StatusBadRequest, "command must not be empty")

	args := []string{"-y", "@scope/server", "a; rm -rf /", "$(id)", "`x`", "|", "&&", "> /etc/passwd", "--flag=\"quoted\"", ""}
	s := a.createServer(map[string]any{"projectId": p.ID, "name": "args", "transportType": "stdio", "command": "node", "args": args})
	if !slices.Equal(s.Args, args) || *s.Command != "node" || s.URL != nil {
		t.Fatalf("args stored as %q, want %q verbatim", s.Args, args)
	}
	if got := a.getServer(ok.ID); got.Args == nil || len(got.Args) != 0 {
		t.Fatalf("a stdio server without args has args %#v, want []", got.Args)
	}

	// With stdio disabled, the operator's switch is named.
	d := newAPI(t, apitest.Start(t))
	dp := d.createProject("p")
	for _, req := range []map[string]any{
		{"projectId": dp.ID, "name": "x", "transportType": "stdio", "command": "node"},
		{"projectId": dp.ID, "name": "x", "transportType": "stdio"},
	} {
		d.do("POST", "/api/mcp/servers", req).expectEnvelopeError(t, http.StatusBadRequest,
			`transportType "stdio" is disabled on this API server: the operator enables it by listing the allowed programs, comma-separated, in MCP_API_STDIO_COMMANDS`)
	}
	// A command with an http server is that mistake, even where stdio is off.
	d.do("POST", "/api/mcp/servers", map[string]any{"projectId": dp.ID, "name": "x", "url": "https://a.example", "command": "node"}).
		expectEnvelopeError(t, http.StatusBadRequest, `command must not be set when transportType is "http"; command and args are only for transportType "stdio"`)
	h := d.createServer(map[string]any{"projectId": dp.ID, "name": "h", "url": "https://a.example"})
	d.do("PATCH", "/api/mcp/servers/"+h.ID, map[string]any{"transportType": "stdio", "command": "node"}).
		expectEnvelopeError(t, http.StatusBadRequest, "MCP_API_STDIO_COMMANDS")
}

func TestServerPatchSemantics(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, withStdio("node", "uvx"))
	a := newAPI(t, s)
	p, q := a.createProject("p"), a.createProject("q")
	ctx := context.Background()

	// connected makes the row look probed, as a passing connect leaves it.
	connected := func(id string) {
		t.Helper()
		now := time.Now()
		if _, err := s.Store.UpdateServer(ctx, s.TenantID, id, func(r *store.Server) error {
			r.Status = "connected"
			r.Capabilities = &store.Capabilities{Tools: true}
			r.ServerName, r.ServerVersion = ptr("srv"), ptr("1")
			r.LastConnectedAt = &now
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	probed := func(got contract.Server) bool {
		return got.Capabilities != nil && got.ServerImplementation != nil && got.LastConnectedAt != nil
	}

	srv := a.createServer(map[string]any{"projectId": p.ID, "name": "s", "url": "https://a.example/mcp", "bearerToken": "tok-1"})
	connected(srv.ID)

	// Name, description, connection type and project leave the probe's findings alone.
	got := a.patchServer(srv.ID, map[string]any{"name": "s2", "description": "d", "connectionType": "proxy", "projectId": q.ID})
	if got.Status != contract.ServerConnected || !probed(got) || got.ProjectID != q.ID || got.Name != "s2" || *got.Description != "d" {
		t.Fatalf("cosmetic PATCH reset the server: %+v", got)
	}
	// Resending the same token or url changes nothing either.
	got = a.patchServer(srv.ID, map[string]any{"bearerToken": "tok-1", "url": "https://a.example/mcp"})
	if got.Status != contract.ServerConnected || !probed(got) {
		t.Fatalf("unchanged token/url reset the server: %+v", got)
	}

	// Each endpoint change goes back to connecting and forgets the old findings.
	for _, change := range []map[string]any{
		{"url": "https://b.example/mcp"},
		{"bearerToken": "tok-2"},
		{"bearerToken": ""}, // removes it
		{"transportType": "sse"},
	} {
		connected(srv.ID)
		got = a.patchServer(srv.ID, change)
		if got.Status != contract.ServerConnecting || got.Capabilities != nil || got.ServerImplementation != nil ||
			got.LastConnectedAt != nil || got.LastError != nil {
			t.Fatalf("PATCH %v left %+v", change, got)
		}
	}
	var token []byte
	db := sqlx.MustConnect("postgres", s.DatabaseURL)
	defer db.Close()
	if err := db.Get(&token, `SELECT coalesce(token_ciphertext, '') FROM mcp_servers WHERE id = $1`, srv.ID); err != nil || len(token) != 0 {
		t.Fatalf(`bearerToken "" left a token (%d bytes, %v)`, len(token), err)
	}

	// A disconnected server stays disconnected when its endpoint changes.
	a.do("POST", "/api/mcp/servers/"+srv.ID+"/disconnect", nil).expect(t, http.StatusOK, nil)
	got = a.patchServer(srv.ID, map[string]any{"url": "https://c.example/mcp"})
	if got.Status != contract.ServerDisconnected || *got.URL != "https://c.example/mcp" {
		t.Fatalf("PATCH of a disconnected server = %+v", got)
	}

	// Transport switches carry the fields the new transport needs and drop the rest.
	a.patchServer(srv.ID, map[string]any{"bearerToken": "tok-3"})
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, map[string]any{"transportType": "stdio"}).
		expectEnvelopeError(t, http.StatusBadRequest, `command is required when changing transportType to "stdio"`)
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, map[string]any{"transportType": "stdio", "command": "node", "url": "https://x.example"}).
		expectEnvelopeError(t, http.StatusBadRequest, `url must not be set when transportType is "stdio"`)
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, map[string]any{"command": "node"}).
		expectEnvelopeError(t, http.StatusBadRequest, `command must not be set when transportType is "sse"`)
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, map[string]any{"args": []string{}}).
		expectEnvelopeError(t, http.StatusBadRequest, `args must not be set when transportType is "sse"`)
	got = a.patchServer(srv.ID, map[string]any{"transportType": "stdio", "command": "node", "args": []string{"server.js"}})
	if got.TransportType != contract.TransportStdio || got.URL != nil || *got.Command != "node" || !slices.Equal(got.Args, []string{"server.js"}) {
		t.Fatalf("http -> stdio = %+v", got)
	}
	if err := db.Get(&token, `SELECT coalesce(token_ciphertext, '') FROM mcp_servers WHERE id = $1`, srv.ID); err != nil || len(token) != 0 {
		t.Fatalf("switching to stdio kept the bearer token (%d bytes, %v)", len(token), err)
	}
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, map[string]any{"url": "https://x.example"}).
		expectEnvelopeError(t, http.StatusBadRequest, `url must not be set when transportType is "stdio"`)
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, map[string]any{"bearerToken": "t"}).
		expectEnvelopeError(t, http.StatusBadRequest, `bearerToken must not be set when transportType is "stdio"`)
	got = a.patchServer(srv.ID, map[string]any{"args": []string{}})
	if got.Args == nil || len(got.Args) != 0 {
		t.Fatalf("args [] = %#v", got.Args)
	}
	got = a.patchServer(srv.ID, map[string]any{"command": "uvx"})
	if *got.Command != "uvx" {
		t.Fatalf("command change = %+v", got)
	}
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, map[string]any{"transportType": "http"}).
		expectEnvelopeError(t, http.StatusBadRequest, `url is required when changing transportType to "http"`)
	got = a.patchServer(srv.ID, map[string]any{"transportType": "http", "url": "https://d.example/mcp", "bearerToken": "tok-4"})
	if got.TransportType != contract.TransportHTTP || got.Command != nil || got.Args != nil || *got.URL != "https://d.example/mcp" {
		t.Fatalf("stdio -> http = %+v", got)
	}

	// Project moves are checked like creates.
	other := a.createServer(map[string]any{"projectId": p.ID, "name": "clash", "url": "https://a.example"})
	a.do("PATCH", "/api/mcp/servers/"+other.ID, map[string]any{"projectId": "proj_nothere"}).
		expectEnvelopeError(t, http.StatusBadRequest, `projectId "proj_nothere" is not one of your projects`)
	a.do("PATCH", "/api/mcp/servers/"+other.ID, map[string]any{"projectId": "nope"}).
		expectEnvelopeError(t, http.StatusBadRequest, "projectId must be a project id")
	a.do("PATCH", "/api/mcp/servers/"+other.ID, map[string]any{"projectId": q.ID, "name": "s2"}).
		expectEnvelopeError(t, http.StatusConflict, `an MCP server named "s2" already exists in project `+q.ID)
	for body, want := range map[string]string{
		`{"status":"connected"}`:       `unknown field "status"`,
		`{"name":""}`:                  "name must not be empty",
		`{"transportType":"ws"}`:       "transportType must be one of",
		`{"connectionType":"x"}`:       "connectionType must be one of",
		`{"url":"nope"}`:               "url must be an absolute http or https URL",
		`{"bearerToken":"a b"}`:        "bearerToken must contain only printable ASCII",
		`{"args":null}`:                `field "args" cannot be null`,
		`{}`:                           "", // an empty PATCH is a no-op
		`{"description":"\u0001x"}`:    "description must not contain control characters",
		`{"projectId":"proj_a","x":1}`: `unknown field "x"`,
	} {
		r := a.do("PATCH", "/api/mcp/servers/"+other.ID, body)
		if want == "" {
			r.expect(t, http.StatusOK, nil)
			continue
		}
		r.expectEnvelopeError(t, http.StatusBadRequest, want)
	}
}

func TestServerTenantIsolation(t *testing.T) {
	t.Parallel()
	s, _ := startWithChecker(t, "", nil)
	a, b := twoTenants(t, s)

	mine := a.createProject("p")
	theirsProject := b.createProject("p")
	// Unroutable on purpose: nothing here should ever be probed by tenant A.
	theirs := b.createServer(map[string]any{"projectId": theirsProject.ID, "name": "s", "url": "http://127.0.0.1:1/mcp"})

	path := "/api/mcp/servers/" + theirs.ID
	a.expectHidden(t, path, "MCP server not found", (*response).expectEnvelopeError)
	a.do("POST", path+"/connect", nil).expectEnvelopeError(t, http.StatusNotFound, "MCP server not found")
	a.do("POST", path+"/disconnect", nil).expectEnvelopeError(t, http.StatusNotFound, "MCP server not found")

	// Another tenant's project is not one of the caller's.
	a.do("POST", "/api/mcp/servers", map[string]any{"projectId": theirsProject.ID, "name": "s", "url": "http://127.0.0.1:1/mcp"}).
		expectEnvelopeError(t, http.StatusBadRequest, `projectId "`+theirsProject.ID+`" is not one of your projects`)
	own := a.createServer(map[string]any{"projectId": mine.ID, "name": "s", "url": "http://127.0.0.1:1/mcp"})
	a.do("PATCH", "/api/mcp/servers/"+own.ID, map[string]any{"projectId": theirsProject.ID}).
		expectEnvelopeError(t, http.StatusBadRequest, `projectId "`+theirsProject.ID+`" is not one of your projects`)

	var list contract.ServerListEnvelope
	a.do("GET", "/api/mcp/servers", nil).expect(t, http.StatusOK, &list)
	if len(list.Servers) != 1 || list.Servers[0].ID != own.ID {
		t.Fatalf("tenant A lists %+v", list.Servers)
	}
	a.do("GET", "/api/mcp/servers?projectId="+theirsProject.ID, nil).expect(t, http.StatusOK, &list)
	if len(list.Servers) != 0 {
		t.Fatalf("?projectId of another tenant lists %+v", list.Servers)
	}
	if got := b.getServer(theirs.ID); got.Name != "s" || got.ProjectID != theirsProject.ID {
		t.Fatalf("the other tenant's server changed: %+v", got)
	}
}

func TestServerMalformedID(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))
	for _, id := range []string{"x", "mcp_", "mcp_a-b", "proj_abc", "MCP_abc", "mcp_" + strings.Repeat("a", 65), "mcp_abc%20def"} {
		want := "invalid MCP server id"
		a.do("GET", "/api/mcp/servers/"+id, nil).expectEnvelopeError(t, http.StatusBadRequest, want)
		a.do("PATCH", "/api/mcp/servers/"+id, `{"name":"n"}`).expectEnvelopeError(t, http.StatusBadRequest, want)
		a.do("DELETE", "/api/mcp/servers/"+id, nil).expectEnvelopeError(t, http.StatusBadRequest, want)
		a.do("POST", "/api/mcp/servers/"+id+"/disconnect", nil).expectEnvelopeError(t, http.StatusBadRequest, want)
	}
}

func TestServerListFiltersAndPagination(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a := newAPI(t, s)
	p, q := a.createProject("p"), a.createProject("q")
	all := map[string]bool{}
	for _, name := range []string{"a", "b", "c", "d"} {
		all[a.createServer(map[string]any{"projectId": p.ID, "name": name, "url": "https://x.example/" + name}).ID] = true
	}
	inQ := a.createServer(map[string]any{"projectId": q.ID, "name": "a", "url": "https://x.example/q"})
	all[inQ.ID] = true
	a.do("POST", "/api/mcp/servers/"+inQ.ID+"/disconnect", nil).expect(t, http.StatusOK, nil)

	seen := pagedIDs(a, "/api/mcp/servers", "servers")
	if !reflect.DeepEqual(seen, all) {
		t.Fatalf("pages held %d servers, want %d", len(seen), len(all))
	}

	count := func(query string) int {
		t.Helper()
		var list contract.ServerListEnvelope
		a.do("GET", "/api/mcp/servers?"+query, nil).expect(t, http.StatusOK, &list)
		return len(list.Servers)
	}
	for query, want := range map[string]int{
		"projectId=" + p.ID:                        4,
		"projectId=" + q.ID:                        1,
		"projectId=proj_unknown":                   0,
		"status=connecting":                        4,
		"status=disconnected":                      1,
		"status=connected":                         0,
		"name=a":                                   2,
		"name=a&projectId=" + q.ID:                 1,
		"projectId=" + q.ID + "&status=connecting": 0,
		"projectId=&status=":                       5, // empty means absent
		"unknown=1":                                5,
	} {
		if got := count(query); got != want {
			t.Errorf("?%s lists %d servers, want %d", query, got, want)
		}
	}

	connCursor := store.Cursor{CreatedAt: time.Now()}.Encode()
	projCursor := store.Cursor{CreatedAt: time.Now(), ID: p.ID}.Encode()
	for query, want := range map[string]string{
		"status=active":        `status must be one of "connecting", "connected", "disconnected", "error", got "active"`,
		"limit=0":              "limit must be an integer from 1 to 100",
		"limit=101":            "limit must be an integer from 1 to 100",
		"limit=two":            "limit must be an integer from 1 to 100",
		"cursor=garbage":       "invalid cursor",
		"cursor=" + connCursor: "invalid cursor",
		"cursor=" + projCursor: "invalid cursor",
		"projectId=p":          "projectId must be a project id",
		"projectId=" + inQ.ID:  "projectId must be a project id",
	} {
		a.do("GET", "/api/mcp/servers?"+query, nil).expectEnvelopeError(t, http.StatusBadRequest, want)
	}
}

// TestServerConnect speaks MCP for real: Streamable HTTP and SSE servers
// built with the Go SDK, and a stdio server the API starts itself.
func TestServerConnect(t *testing.T) {
	t.Parallel()
	bin := mcptest.BuildStdioServer(t)
	s, checker := startWithChecker(t, filepath.Dir(bin), []string{filepath.Base(bin)})
	a := newAPI(t, s)
	p := a.createProject("p")

	const token = "tok-connect-2718"
	httpSrv := mcptest.StartHTTP(t, mcptest.Config{Name: "Example MCP", Version: "1.0.0", Tools: true, Resources: true, Prompts: true, BearerToken: token})
	sseSrv := mcptest.StartSSE(t, mcptest.Config{Name: "Legacy MCP", Version: "0.9.0", Prompts: true})

	// A new server is probed in the background at once.
	h := a.createServer(map[string]any{"projectId": p.ID, "name": "http", "url": httpSrv.URL, "bearerToken": token})
	if h.Status != contract.ServerConnecting {
		t.Fatalf("new server status %s, want connecting", h.Status)
	}
	checker.Wait()
	got := a.getServer(h.ID)
	if got.Status != contract.ServerConnected || got.LastError != nil || got.LastConnectedAt == nil ||
		*got.Capabilities != (contract.Capabilities{Tools: true, Resources: true, Prompts: true}) ||
		*got.ServerImplementation != (contract.Implementation{Name: "Example MCP", Version: "1.0.0"}) ||
		!got.UpdatedAt.Equal(got.LastConnectedAt.Time) {
		t.Fatalf("after the background probe: %+v (lastError %v)", got, got.LastError)
	}

	// connect probes now, synchronously.
	n := len(httpSrv.Requests())
	var env contract.ServerEnvelope
	a.do("POST", "/api/mcp/servers/"+h.ID+"/connect", nil).expect(t, http.StatusOK, &env)
	if !env.Success || env.Server.Status != contract.ServerConnected || !env.Server.LastConnectedAt.After(got.LastConnectedAt.Time) ||
		len(httpSrv.Requests()) == n {
		t.Fatalf("connect = %+v", env.Server)
	}

	sse := a.createServer(map[string]any{"projectId": p.ID, "name": "sse", "transportType": "sse", "url": sseSrv.URL})
	a.do("POST", "/api/mcp/servers/"+sse.ID+"/connect", nil).expect(t, http.StatusOK, &env)
	if env.Server.Status != contract.ServerConnected || *env.Server.Capabilities != (contract.Capabilities{Prompts: true}) ||
		env.Server.ServerImplementation.Name != "Legacy MCP" {
		t.Fatalf("sse connect = %+v (lastError %v)", env.Server, env.Server.LastError)
	}

	st := a.createServer(map[string]any{"projectId": p.ID, "name": "stdio", "transportType": "stdio",
		"command": filepath.Base(bin), "args": []string{"-name", "stdio via the API"}})
	a.do("POST", "/api/mcp/servers/"+st.ID+"/connect", nil).expect(t, http.StatusOK, &env)
	if env.Server.Status != contract.ServerConnected || env.Server.ServerImplementation.Name != "stdio via the API" || !env.Server.Capabilities.Tools {
		t.Fatalf("stdio connect = %+v (lastError %v)", env.Server, env.Server.LastError)
	}

	// A failing connect is a 200 carrying the error; the last findings stay.
	broken := a.patchServer(sse.ID, map[string]any{"transportType": "http"})
	checker.Wait()
	a.do("POST", "/api/mcp/servers/"+broken.ID+"/connect", nil).expect(t, http.StatusOK, &env)
	if env.Server.Status != contract.ServerError || env.Server.LastError == nil || *env.Server.LastError == "" {
		t.Fatalf("connect to the wrong transport = %+v", env.Server)
	}
	down := a.createServer(map[string]any{"projectId": p.ID, "name": "down", "url": "http://127.0.0.1:1/mcp"})
	checker.Wait()
	if got := a.getServer(down.ID); got.Status != contract.ServerError || got.LastError == nil {
		t.Fatalf("server with nothing listening after its first probe: %+v", got)
	}

	// An endpoint change is probed again in the background.
	other := mcptest.StartHTTP(t, mcptest.Config{Name: "Moved", Tools: true})
	moved := a.patchServer(h.ID, map[string]any{"url": other.URL, "bearerToken": ""})
	if moved.Status != contract.ServerConnecting {
		t.Fatalf("after the url change: %+v", moved)
	}
	checker.Wait()
	if got := a.getServer(h.ID); got.Status != contract.ServerConnected || got.ServerImplementation.Name != "Moved" {
		t.Fatalf("after re-probe of the new url: %+v (lastError %v)", got, got.LastError)
	}

	// disconnect; connect revives.
	a.do("POST", "/api/mcp/servers/"+h.ID+"/disconnect", nil).expect(t, http.StatusOK, &env)
	if env.Server.Status != contract.ServerDisconnected || env.Server.ServerImplementation == nil {
		t.Fatalf("disconnect = %+v", env.Server)
	}
	a.do("POST", "/api/mcp/servers/"+h.ID+"/connect", nil).expect(t, http.StatusOK, &env)
	if env.Server.Status != contract.ServerConnected {
		t.Fatalf("connect after disconnect = %+v", env.Server)
	}
	a.do("POST", "/api/mcp/servers/mcp_missing0/connect", nil).expectEnvelopeError(t, http.StatusNotFound, "MCP server not found")
	a.do("POST", "/api/mcp/servers/bad/connect", nil).expectEnvelopeError(t, http.StatusBadRequest, "invalid MCP server id")
}

// TestServerTokenNeverLeaks follows a server's bearer token through every
// call and error path and looks for it in responses, logs and the database.
func TestServerTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	const token = "tok-SRVLEAK-0a1b2c3d4e"
	const token2 = "tok-SRVLEAK-second-9z8y"
	logs, opt := captureLogs()
	s, checker := startWithChecker(t, "", nil, opt)
	a := newAPI(t, s)
	p := a.createProject("p")
	mcp := mcptest.StartHTTP(t, mcptest.Config{BearerToken: token})

	var bodies [][]byte
	record := func(r *response) *response {
		bodies = append(bodies, r.body)
		return r
	}
	var env contract.ServerEnvelope
	record(a.do("POST", "/api/mcp/servers", map[string]any{"projectId": p.ID, "name": "s", "url": mcp.URL, "bearerToken": token})).
		expect(t, http.StatusCreated, &env)
	path := "/api/mcp/servers/" + env.Server.ID
	checker.Wait()
	record(a.do("GET", path, nil))
	record(a.do("GET", "/api/mcp/servers", nil))
	record(a.do("POST", path+"/connect", nil)).expect(t, http.StatusOK, &env)
	if env.Server.Status != contract.ServerConnected {
		t.Fatalf("connect with the token = %+v; the test proves nothing unless the token was used", env.Server)
	}
	record(a.do("PATCH", path, map[string]any{"name": "renamed", "bearerToken": token}))
	record(a.do("PATCH", path, `{"bearerToken":"`+token+`", "bogus":1}`))
	record(a.do("PATCH", path, `{"bearerToken":"`+token+` x"}`))
	record(a.do("POST", "/api/mcp/servers", map[string]any{"projectId": p.ID, "name": "renamed", "url": mcp.URL, "bearerToken": token}))
	record(a.do("POST", "/api/mcp/servers", map[string]any{"projectId": p.ID, "name": "x", "transportType": "stdio", "command": "node", "bearerToken": token}))
	record(a.do("PATCH", path, map[string]any{"bearerToken": token2}))
	checker.Wait()
	record(a.do("POST", path+"/connect", nil)).expect(t, http.StatusOK, &env)
	if env.Server.Status != contract.ServerError {
		t.Fatalf("connect with the wrong token = %+v", env.Server)
	}
	record(a.do("POST", path+"/disconnect", nil))
	record(a.do("GET", "/api/mcp/servers?name="+token, nil))

	assertTokensHidden(t, s.DatabaseURL, "mcp_servers", bodies, logs.String(), token, token2)
}
