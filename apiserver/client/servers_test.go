package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/health"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// startWithProbes starts the API with the real server checker, allowed to
// reach loopback (where the test MCP servers listen) and to run the given
// stdio programs found in stdioDir.
func startWithProbes(t *testing.T, stdioDir string, stdio ...string) *apitest.Server {
	t.Helper()
	return apitest.Start(t, apitest.WithConfig(func(s *apitest.Server, cfg *httpapi.Config) {
		sc, err := health.NewServerChecker(health.CheckerConfig{
			Store:         s.Store,
			Keyring:       s.Keyring,
			Prober:        probe.New(probe.Options{Timeout: 10 * time.Second, AllowPrivate: true, StdioTerminateDelay: 200 * time.Millisecond}),
			Interval:      time.Hour,
			StdioCommands: stdio,
			StdioPath:     stdioDir,
		})
		if err != nil {
			t.Fatalf("NewServerChecker: %v", err)
		}
		// Runs before the store closes: background probes finish first.
		t.Cleanup(sc.Wait)
		cfg.ServerChecker = sc
		cfg.StdioCommands = stdio
	}))
}

func newProject(t *testing.T, c *client.Client, name string) *contract.Project {
	t.Helper()
	p, err := c.CreateProject(context.Background(), contract.CreateProjectRequest{Name: name})
	if err != nil {
		t.Fatalf("CreateProject(%q): %v", name, err)
	}
	return p
}

func TestServerLifecycle(t *testing.T) {
	srv := startWithProbes(t, "")
	c, ctx := connected(t, srv)
	proj := newProject(t, c, "servers")
	mcp := mcptest.StartHTTP(t, mcptest.Config{Name: "lifecycle-mcp", Version: "2.3.4", Tools: true, Prompts: true})

	created, err := c.CreateServer(ctx, contract.CreateServerRequest{
		ProjectID: proj.ID, Name: "Production Server", Description: new("Main production MCP server"), URL: new(mcp.URL),
	})
	if err != nil {
		t.Fatalf("CreateServer: %v", err)
	}
	if !strings.HasPrefix(created.ID, contract.ServerIDPrefix) || created.ProjectID != proj.ID ||
		created.TransportType != contract.TransportHTTP || created.ConnectionType != contract.ConnectionDirect ||
		created.Description == nil || *created.Description != "Main production MCP server" || created.Args != nil || created.Command != nil {
		t.Errorf("created = %+v", created)
	}

	connected, err := c.ConnectServer(ctx, created.ID)
	if err != nil {
		t.Fatalf("ConnectServer: %v", err)
	}
	want := contract.Capabilities{Tools: true, Prompts: true}
	if connected.Status != contract.ServerConnected || connected.Capabilities == nil || *connected.Capabilities != want ||
		connected.ServerImplementation == nil || *connected.ServerImplementation != (contract.Implementation{Name: "lifecycle-mcp", Version: "2.3.4"}) ||
		connected.LastConnectedAt == nil || connected.LastError != nil {
		t.Errorf("connected = %+v, capabilities %+v, implementation %+v", connected, connected.Capabilities, connected.ServerImplementation)
	}

	got, err := c.GetServer(ctx, created.ID)
	if err != nil || got.Status != contract.ServerConnected || !got.CreatedAt.Equal(created.CreatedAt.Time) {
		t.Errorf("GetServer = %+v, %v", got, err)
	}

	// Pointing it at a closed port and connecting records the failure on the
	// server; the call itself succeeds.
	updated, err := c.UpdateServer(ctx, created.ID, contract.UpdateServerRequest{URL: new(mcptest.ClosedURL(t) + "/mcp"), Name: new("Prod")})
	if err != nil {
		t.Fatalf("UpdateServer: %v", err)
	}
	if updated.Name != "Prod" || updated.Capabilities != nil || updated.ServerImplementation != nil {
		t.Errorf("updated = %+v; a new url voids what the last probe learnt", updated)
	}
	failed, err := c.ConnectServer(ctx, created.ID)
	if err != nil {
		t.Fatalf("ConnectServer (closed port): %v", err)
	}
	if failed.Status != contract.ServerError || failed.LastError == nil || *failed.LastError == "" {
		t.Errorf("failed = %+v, want status error with lastError", failed)
	}

	disconnected, err := c.DisconnectServer(ctx, created.ID)
	if err != nil || disconnected.Status != contract.ServerDisconnected {
		t.Errorf("DisconnectServer = %+v, %v", disconnected, err)
	}

	if err := c.DeleteServer(ctx, created.ID); err != nil {
		t.Fatalf("DeleteServer: %v", err)
	}
	_, err = c.GetServer(ctx, created.ID)
	var apiErr *client.APIError
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Message != "MCP server not found" {
		t.Errorf("GetServer after delete: %v, want ErrNotFound with the API's message", err)
	}
	if err := c.DeleteServer(ctx, created.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if _, err := c.ConnectServer(ctx, created.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("connect after delete: %v, want ErrNotFound", err)
	}
}

func TestServerSSEAndBearerToken(t *testing.T) {
	srv := startWithProbes(t, "")
	c, ctx := connected(t, srv)
	proj := newProject(t, c, "tokens")
	const token = "srv-token-27182818"
	sse := mcptest.StartSSE(t, mcptest.Config{Resources: true, BearerToken: token})

	s, err := c.CreateServer(ctx, contract.CreateServerRequest{
		ProjectID: proj.ID, Name: "sse", URL: new(sse.URL), TransportType: contract.TransportSSE,
		ConnectionType: contract.ConnectionProxy, BearerToken: new("wrong-token"),
	})
	if err != nil {
		t.Fatalf("CreateServer: %v", err)
	}
	if s.ConnectionType != contract.ConnectionProxy || s.TransportType != contract.TransportSSE {
		t.Errorf("created = %+v", s)
	}
	if s, err = c.ConnectServer(ctx, s.ID); err != nil || s.Status != contract.ServerError {
		t.Fatalf("connect with the wrong token = %+v, %v; want status error", s, err)
	}
	if _, err = c.UpdateServer(ctx, s.ID, contract.UpdateServerRequest{BearerToken: new(token)}); err != nil {
		t.Fatalf("UpdateServer(token): %v", err)
	}
	if s, err = c.ConnectServer(ctx, s.ID); err != nil || s.Status != contract.ServerConnected ||
		s.Capabilities == nil || !s.Capabilities.Resources || s.Capabilities.Tools {
		t.Fatalf("connect with the right token = %+v, %v", s, err)
	}
	if !slices.ContainsFunc(sse.Requests(), func(r mcptest.Request) bool { return r.Authorization == "Bearer "+token }) {
		t.Errorf("the SSE server never saw the token; requests: %+v", sse.Requests())
	}
}

func TestServerStdio(t *testing.T) {
	bin := mcptest.BuildStdioServer(t)
	dir, name := filepath.Split(bin)
	srv := startWithProbes(t, filepath.Clean(dir), name)
	c := apiClient(t, srv, srv.APIKey)
	ctx := context.Background()
	proj := newProject(t, c, "stdio")

	s, err := c.CreateServer(ctx, contract.CreateServerRequest{
		ProjectID: proj.ID, Name: "local", TransportType: contract.TransportStdio, Command: new(name),
	})
	if err != nil {
		t.Fatalf("CreateServer(stdio): %v", err)
	}
	if s.URL != nil || s.Command == nil || *s.Command != name || s.Args == nil || len(s.Args) != 0 {
		t.Errorf("stdio server = %+v; want no url, the command and an empty args list", s)
	}
	if s, err = c.ConnectServer(ctx, s.ID); err != nil || s.Status != contract.ServerConnected {
		t.Errorf("ConnectServer(stdio) = %+v, %v", s, err)
	}

	_, err = c.CreateServer(ctx, contract.CreateServerRequest{
		ProjectID: proj.ID, Name: "other", TransportType: contract.TransportStdio, Command: new("node"),
	})
	var apiErr *client.APIError
	if !errors.Is(err, client.ErrBadRequest) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, "MCP_API_STDIO_COMMANDS") {
		t.Errorf("command off the allowlist: %v, want ErrBadRequest naming MCP_API_STDIO_COMMANDS", err)
	}
	_, err = c.CreateServer(ctx, contract.CreateServerRequest{
		ProjectID: proj.ID, Name: "mixed", URL: new("https://x.example.com/mcp"), Command: new(name),
	})
	if !errors.Is(err, client.ErrBadRequest) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, "command must not be set") {
		t.Errorf("command with http: %v, want ErrBadRequest saying command is for stdio", err)
	}
}

// TestServerEnvelopeErrors checks that the {"success":false,"error":...}
// bodies reach callers as *APIError with the API's own message.
func TestServerEnvelopeErrors(t *testing.T) {
	srv := startWithProbes(t, "")
	c, ctx := connected(t, srv)
	proj := newProject(t, c, "errors")

	tests := []struct {
		name string
		req  contract.CreateServerRequest
		is   error
		msg  string
	}{
		{"no url", contract.CreateServerRequest{ProjectID: proj.ID, Name: "a"}, client.ErrBadRequest, "url is required"},
		{"url with stdio", contract.CreateServerRequest{ProjectID: proj.ID, Name: "a", TransportType: contract.TransportStdio, URL: new("https://x.example.com")}, client.ErrBadRequest, "MCP_API_STDIO_COMMANDS"},
		{"bad transport", contract.CreateServerRequest{ProjectID: proj.ID, Name: "a", URL: new("https://x.example.com"), TransportType: "grpc"}, client.ErrBadRequest, "transportType must be one of"},
		{"unknown project", contract.CreateServerRequest{ProjectID: "proj_doesnotexist", Name: "a", URL: new("https://x.example.com")}, client.ErrBadRequest, "is not one of your projects"},
	}
	for _, tt := range tests {
		_, err := c.CreateServer(ctx, tt.req)
		var apiErr *client.APIError
		if !errors.Is(err, tt.is) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, tt.msg) {
			t.Errorf("%s: %v, want %v with a message containing %q", tt.name, err, tt.is, tt.msg)
		}
	}

	req := contract.CreateServerRequest{ProjectID: proj.ID, Name: "dup", URL: new("https://x.example.com/mcp")}
	if _, err := c.CreateServer(ctx, req); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateServer(ctx, req)
	var apiErr *client.APIError
	if !errors.Is(err, client.ErrConflict) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, `"dup"`) ||
		apiErr.StatusCode != http.StatusConflict {
		t.Errorf("duplicate name: %v, want ErrConflict naming the server", err)
	}

	// Ids the API cannot have issued never reach the network.
	for _, id := range []string{"", "..", "mcp_", "mcp_a/b", "proj_abc", "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11"} {
		if _, err := c.GetServer(ctx, id); !errors.Is(err, client.ErrBadRequest) || !strings.Contains(err.Error(), `"mcp_"`) {
			t.Errorf("GetServer(%q): %v, want ErrBadRequest naming the id shape", id, err)
		}
	}
	if _, err := c.ListServers(ctx, client.ServerListOptions{Status: "sleeping"}); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("bad status filter: %v, want ErrBadRequest", err)
	}

	// An unknown key gets the enveloped 401, which is still ErrUnauthorized.
	bad := apiClient(t, srv, "mcp_not_a_real_key")
	if _, err := bad.ListServers(ctx, client.ServerListOptions{}); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("wrong key: %v, want ErrUnauthorized", err)
	}
}

func TestListAllServersFollowsCursors(t *testing.T) {
	srv := startWithProbes(t, "")
	c, ctx := connected(t, srv)
	a, b := newProject(t, c, "a"), newProject(t, c, "b")

	const n = 5
	want := map[string]bool{}
	for i := range n {
		s, err := c.CreateServer(ctx, contract.CreateServerRequest{
			// Unreachable on purpose: the background probes fail fast.
			ProjectID: a.ID, Name: fmt.Sprintf("srv-%d", i), URL: new(mcptest.ClosedURL(t) + "/mcp"),
		})
		if err != nil {
			t.Fatal(err)
		}
		want[s.ID] = true
	}
	if _, err := c.CreateServer(ctx, contract.CreateServerRequest{ProjectID: b.ID, Name: "srv-0", URL: new(mcptest.ClosedURL(t) + "/mcp")}); err != nil {
		t.Fatal(err)
	}

	page, err := c.ListServers(ctx, client.ServerListOptions{ProjectID: a.ID, Limit: 2})
	if err != nil || len(page.Servers) != 2 || page.NextCursor == nil {
		t.Fatalf("first page: %+v, %v; want 2 servers and a cursor", page, err)
	}
	all, err := c.ListAllServers(ctx, client.ServerListOptions{ProjectID: a.ID, Limit: 2})
	if err != nil || len(all) != n {
		t.Fatalf("ListAllServers = %d servers, %v; want %d", len(all), err, n)
	}
	for _, s := range all {
		if !want[s.ID] {
			t.Errorf("unexpected or repeated server %s", s.ID)
		}
		delete(want, s.ID)
	}
	everything, err := c.ListAllServers(ctx, client.ServerListOptions{})
	if err != nil || len(everything) != n+1 {
		t.Errorf("unfiltered: %d servers, %v; want %d", len(everything), err, n+1)
	}
	byName, err := c.ListAllServers(ctx, client.ServerListOptions{Name: "srv-0"})
	if err != nil || len(byName) != 2 {
		t.Errorf("name filter across projects: %d servers, %v; want 2", len(byName), err)
	}
	connected, err := c.ListAllServers(ctx, client.ServerListOptions{Status: contract.ServerConnected})
	if err != nil || len(connected) != 0 {
		t.Errorf("status=connected: %d servers, %v; none can connect", len(connected), err)
	}
}

// TestServerNotAnEnvelope points the client at something that answers 200
// with JSON of another shape, as a wrong endpoint would.
func TestServerNotAnEnvelope(t *testing.T) {
	for _, body := range []string{`{"data":[]}`, `{"success":false}`, `{"success":true,"server":{}}`} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
		}))
		c := apiClient(t, &apitest.Server{URL: ts.URL}, "some-key")
		ctx := context.Background()
		if _, err := c.GetServer(ctx, "mcp_abc"); err == nil || !strings.Contains(err.Error(), "not the MCP API's success envelope") {
			t.Errorf("GetServer on %s: %v, want an error about the envelope", body, err)
		}
		if _, err := c.GetProject(ctx, "proj_abc"); err == nil || !strings.Contains(err.Error(), "not the MCP API's success envelope") {
			t.Errorf("GetProject on %s: %v, want an error about the envelope", body, err)
		}
		if body != `{"success":true,"server":{}}` {
			if _, err := c.ListServers(ctx, client.ServerListOptions{}); err == nil {
				t.Errorf("ListServers on %s: no error", body)
			}
		}
		ts.Close()
	}
}
