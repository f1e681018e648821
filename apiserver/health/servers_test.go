package health

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

func TestParseStdioCommands(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"", nil, ""},
		{" , ,", nil, ""},
		{"node", []string{"node"}, ""},
		{" node , uvx,,node, python3.12 ", []string{"node", "uvx", "python3.12"}, ""},
		{"../bin/x", nil, "bare program name"},
		{"/usr/bin/env", nil, "bare program name"},
		{"node;rm", nil, "bare program name"},
		{"node --x", nil, "bare program name"},
		{"node,$(id)", nil, "bare program name"},
		{"..", nil, "bare program name"},
		{"-rf", nil, "bare program name"},
		{"bash", nil, "shell or command launcher"},
		{"node,env", nil, "shell or command launcher"},
	}
	for _, tc := range tests {
		got, err := ParseStdioCommands(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseStdioCommands(%q) = %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), StdioCommandsEnv)):
			t.Errorf("ParseStdioCommands(%q) = %v, want an error naming %s and containing %q", tc.in, err, StdioCommandsEnv, tc.err)
		case !slices.Equal(got, tc.want):
			t.Errorf("ParseStdioCommands(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// serverEnv adds a project to env, and a ServerChecker on its store.
type serverEnv struct {
	*env
	project string
	checker *ServerChecker
}

func newServerEnv(t *testing.T, cfg CheckerConfig) *serverEnv {
	t.Helper()
	e := newEnv(t)
	p := store.Project{Key: store.Key[string]{TenantID: e.tenant}, Name: "p"}
	if err := e.store.CreateProject(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Keyring = e.store, e.keyring
	if cfg.Prober == nil {
		cfg.Prober = newProber(10 * time.Second)
	}
	c, err := NewServerChecker(cfg)
	if err != nil {
		t.Fatalf("NewServerChecker: %v", err)
	}
	t.Cleanup(c.Wait)
	return &serverEnv{env: e, project: p.ID, checker: c}
}

// server stores an MCP server of the env's tenant; token is sealed when set.
func (e *serverEnv) server(t *testing.T, name, transport, url, token string, kr *secrets.Keyring) store.Server {
	t.Helper()
	s := store.Server{Key: store.Key[string]{ID: store.NewServerID(), TenantID: e.tenant}, ProjectID: e.project, Name: name,
		TransportType: transport, ConnectionType: "direct", URL: &url}
	if token != "" {
		ct, keyID, err := kr.Seal([]byte(token), store.ServerTokenAAD(s.ID))
		if err != nil {
			t.Fatal(err)
		}
		s.TokenCiphertext, s.TokenKeyID = ct, &keyID
	}
	if err := e.store.CreateServer(context.Background(), &s); err != nil {
		t.Fatalf("CreateServer(%s): %v", name, err)
	}
	return s
}

func (e *serverEnv) stdio(t *testing.T, name, command string, args ...string) store.Server {
	t.Helper()
	s := store.Server{Key: store.Key[string]{ID: store.NewServerID(), TenantID: e.tenant}, ProjectID: e.project, Name: name,
		TransportType: "stdio", ConnectionType: "direct", Command: &command, Args: append([]string{}, args...)}
	if err := e.store.CreateServer(context.Background(), &s); err != nil {
		t.Fatalf("CreateServer(%s): %v", name, err)
	}
	return s
}

func (e *serverEnv) getServer(t *testing.T, id string) store.Server {
	t.Helper()
	s, err := e.store.GetServer(context.Background(), e.tenant, id)
	if err != nil {
		t.Fatalf("GetServer(%s): %v", id, err)
	}
	return s
}

func TestCheckServerHTTPAndSSE(t *testing.T) {
	const token = "tok-srv-31415926"
	e := newServerEnv(t, CheckerConfig{Interval: time.Hour})
	ctx := context.Background()
	tests := []struct {
		name      string
		transport string
		srv       *mcptest.Server
		caps      store.Capabilities
	}{
		{"streamable http", "http", mcptest.StartHTTP(t, mcptest.Config{Name: "Example MCP", Version: "1.0.0", BearerToken: token, Tools: true, Prompts: true}),
			store.Capabilities{Tools: true, Prompts: true}},
		{"legacy sse", "sse", mcptest.StartSSE(t, mcptest.Config{Name: "Example MCP", Version: "1.0.0", BearerToken: token, Resources: true}),
			store.Capabilities{Resources: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := e.server(t, tc.name, tc.transport, tc.srv.URL, token, e.keyring)
			got, err := e.checker.CheckServer(ctx, e.tenant, row.ID)
			if err != nil {
				t.Fatalf("CheckServer: %v", err)
			}
			if got.Status != "connected" || got.LastError != nil || got.Capabilities == nil || *got.Capabilities != tc.caps ||
				deref(got.ServerName) != "Example MCP" || deref(got.ServerVersion) != "1.0.0" ||
				got.LastConnectedAt == nil || !got.LastConnectedAt.Equal(got.UpdatedAt) ||
				!got.NextCheckAt.Equal(got.UpdatedAt.Add(time.Hour)) {
				t.Fatalf("after connect: %+v (lastError %v)", got, deref(got.LastError))
			}
			sawToken := false
			for _, r := range tc.srv.Requests() {
				sawToken = sawToken || r.Authorization == "Bearer "+token
			}
			if !sawToken {
				t.Fatalf("the server never saw the bearer token: %+v", tc.srv.Requests())
			}

			// Wrong transport for the endpoint: an error, and what the last
			// good connect learnt stays.
			other := "sse"
			if tc.transport == "sse" {
				other = "http"
			}
			if _, err := e.store.UpdateServer(ctx, e.tenant, row.ID, func(r *store.Server) error { r.TransportType = other; return nil }); err != nil {
				t.Fatal(err)
			}
			bad, err := e.checker.CheckServer(ctx, e.tenant, row.ID)
			if err != nil {
				t.Fatal(err)
			}
			if bad.Status != "error" || bad.LastError == nil || *bad.LastError == "" || bad.Capabilities == nil ||
				!bad.LastConnectedAt.Equal(*got.LastConnectedAt) || strings.Contains(*bad.LastError, token) {
				t.Fatalf("after a failed connect: %+v (lastError %v)", bad, deref(bad.LastError))
			}
		})
	}
}

func TestCheckServerStdio(t *testing.T) {
	bin := mcptest.BuildStdioServer(t)
	dir, name := filepath.Dir(bin), filepath.Base(bin)
	// Secrets of the API process that a child must never see.
	t.Setenv("MCP_API_SECRET_KEY", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=")
	t.Setenv("DATABASE_URL", "postgres://u:hunter2@db/x")
	e := newServerEnv(t, CheckerConfig{StdioCommands: []string{name}, StdioPath: dir,
		Prober: probe.New(probe.Options{Timeout: 10 * time.Second, StdioTerminateDelay: 200 * time.Millisecond})})
	ctx := context.Background()

	row := e.stdio(t, "local", name, "-name", "stdio example")
	got, err := e.checker.CheckServer(ctx, e.tenant, row.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "connected" || deref(got.ServerName) != "stdio example" || got.Capabilities == nil || !got.Capabilities.Tools {
		t.Fatalf("stdio connect: %+v (lastError %v)", got, deref(got.LastError))
	}

	// The child's environment is PATH alone.
	envRow := e.stdio(t, "env", name, "-env-instructions")
	target, _, msg := e.checker.target(ctx, envRow)
	if msg != "" {
		t.Fatal(msg)
	}
	res := e.checker.prober.Probe(ctx, target)
	if !res.OK || res.Instructions == nil {
		t.Fatalf("probe: %+v", res)
	}
	if *res.Instructions != "PATH="+dir {
		t.Fatalf("the stdio child's environment is %q, want only PATH=%s", *res.Instructions, dir)
	}

	// Off the allowlist (it may have been allowed when the record was
	// made): never started, and lastError says what to do.
	for cmd, want := range map[string]string{
		"node":         `command "node" is not on this API server's stdio allowlist (MCP_API_STDIO_COMMANDS)`,
		"/usr/bin/env": "command must be a bare program name",
		"../" + name:   "command must be a bare program name",
		name + ";id":   "command must be a bare program name",
	} {
		r := e.stdio(t, "cmd "+cmd, cmd)
		got, err := e.checker.CheckServer(ctx, e.tenant, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != "error" || !strings.Contains(str(got.LastError), want) {
			t.Errorf("command %q: status %s, lastError %v; want error containing %q", cmd, got.Status, deref(got.LastError), want)
		}
	}

	disabled, err := NewServerChecker(CheckerConfig{Store: e.store, Keyring: e.keyring, Prober: e.checker.prober})
	if err != nil {
		t.Fatal(err)
	}
	got, err = disabled.CheckServer(ctx, e.tenant, row.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "error" || !strings.Contains(str(got.LastError), "stdio servers are disabled") {
		t.Fatalf("with stdio disabled: %s, %v", got.Status, deref(got.LastError))
	}
}

func TestCheckServerUndecryptableToken(t *testing.T) {
	e := newServerEnv(t, CheckerConfig{})
	srv := mcptest.StartHTTP(t, mcptest.Config{BearerToken: "t"})
	row := e.server(t, "s", "http", srv.URL, "t", newKeyring(t)) // sealed with a key the checker lacks
	got, err := e.checker.CheckServer(context.Background(), e.tenant, row.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "error" || !strings.Contains(str(got.LastError), "MCP_API_SECRET_KEY_PREVIOUS") || len(srv.Requests()) != 0 {
		t.Fatalf("undecryptable token: %s, %v, %d requests", got.Status, deref(got.LastError), len(srv.Requests()))
	}
}

func TestCheckServerInBackground(t *testing.T) {
	e := newServerEnv(t, CheckerConfig{})
	srv := mcptest.StartHTTP(t, mcptest.Config{Tools: true})
	row := e.server(t, "new", "http", srv.URL, "", nil)
	e.checker.CheckServerInBackground(t.Context(), e.tenant, row.ID)
	e.checker.Wait()
	if got := e.getServer(t, row.ID); got.Status != "connected" || got.LastConnectedAt == nil {
		t.Fatalf("after the background probe: %+v (lastError %v)", got, deref(got.LastError))
	}

	// A disconnected server is left alone, as is one someone else holds.
	off := e.server(t, "off", "http", srv.URL+"?off", "", nil)
	if _, err := e.store.UpdateServer(context.Background(), e.tenant, off.ID, func(r *store.Server) error { r.Status = "disconnected"; return nil }); err != nil {
		t.Fatal(err)
	}
	held := e.server(t, "held", "http", srv.URL+"?held", "", nil)
	if _, ok, err := e.store.ClaimServer(context.Background(), e.tenant, held.ID, time.Hour); !ok || err != nil {
		t.Fatalf("ClaimServer: %v, %v", ok, err)
	}
	before := len(srv.Requests())
	e.checker.CheckServerInBackground(t.Context(), e.tenant, off.ID)
	e.checker.CheckServerInBackground(t.Context(), e.tenant, held.ID)
	e.checker.CheckServerInBackground(t.Context(), e.tenant, "mcp_deleted")
	e.checker.Wait()
	if got := e.getServer(t, off.ID); got.Status != "disconnected" {
		t.Fatalf("a disconnected server was probed: %+v", got)
	}
	if got := e.getServer(t, held.ID); got.Status != "connecting" {
		t.Fatalf("a server held by another prober was probed: %+v", got)
	}
	if n := len(srv.Requests()); n != before {
		t.Fatalf("%d requests reached the MCP server, want none", n-before)
	}
}

func TestCheckServerRevivesDisconnected(t *testing.T) {
	e := newServerEnv(t, CheckerConfig{})
	srv := mcptest.StartHTTP(t, mcptest.Config{})
	row := e.server(t, "s", "http", srv.URL, "", nil)
	if _, err := e.store.UpdateServer(context.Background(), e.tenant, row.ID, func(r *store.Server) error { r.Status = "disconnected"; return nil }); err != nil {
		t.Fatal(err)
	}
	got, err := e.checker.CheckServer(context.Background(), e.tenant, row.ID)
	if err != nil || got.Status != "connected" {
		t.Fatalf("connect of a disconnected server = %+v, %v", got, err)
	}
	if _, err := e.checker.CheckServer(context.Background(), e.tenant, "mcp_nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("CheckServer of a missing server = %v", err)
	}
}

// The scheduler re-probes connected and errored servers and never touches a
// disconnected one.
func TestSchedulerSkipsDisconnectedServers(t *testing.T) {
	e := newServerEnv(t, CheckerConfig{Interval: time.Hour})
	ctx := context.Background()
	on := mcptest.StartHTTP(t, mcptest.Config{})
	broken := mcptest.StartStatic(t, 200, "text/html", "<html>not MCP</html>")
	off := mcptest.StartHTTP(t, mcptest.Config{})
	rows := map[string]store.Server{
		"connected": e.server(t, "connected", "http", on.URL, "", nil),
		"error":     e.server(t, "error", "http", broken.URL, "", nil),
		"off":       e.server(t, "off", "http", off.URL, "", nil),
	}
	for name, status := range map[string]string{"connected": "connected", "error": "error", "off": "disconnected"} {
		if _, err := e.store.UpdateServer(ctx, e.tenant, rows[name].ID, func(r *store.Server) error {
			r.Status = status
			r.NextCheckAt = time.Now().Add(-time.Minute)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	stop := runScheduler(t, newScheduler(t, SchedulerConfig{Sources: []Source{e.checker}, Concurrency: 2, PollInterval: 10 * time.Millisecond}))
	waitFor(t, "the connected and errored servers to be re-probed", func() bool {
		return e.getServer(t, rows["connected"].ID).LastConnectedAt != nil &&
			e.getServer(t, rows["error"].ID).LastError != nil
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := e.getServer(t, rows["error"].ID); got.Status != "error" || !got.NextCheckAt.After(time.Now().Add(59*time.Minute)) {
		t.Fatalf("errored server after its re-probe: %+v", got)
	}
	if got := e.getServer(t, rows["off"].ID); got.Status != "disconnected" || got.LastConnectedAt != nil {
		t.Fatalf("disconnected server changed: %+v", got)
	}
	if n := len(off.Requests()); n != 0 {
		t.Fatalf("the scheduler sent %d requests to a disconnected server", n)
	}
}

// str is *p, or "" for nil.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func TestNewServerCheckerValidates(t *testing.T) {
	e := newEnv(t)
	p := newProber(10 * time.Second)
	for name, tc := range map[string]struct {
		cfg  CheckerConfig
		want string
	}{
		"no prober":        {CheckerConfig{Store: e.store, Keyring: e.keyring}, "required"},
		"negative":         {CheckerConfig{Store: e.store, Keyring: e.keyring, Prober: p, Interval: -1}, "negative"},
		"lease too short":  {CheckerConfig{Store: e.store, Keyring: e.keyring, Prober: p, Lease: 20 * time.Second}, "must exceed twice the probe timeout"},
		"command not bare": {CheckerConfig{Store: e.store, Keyring: e.keyring, Prober: p, StdioCommands: []string{"/bin/node"}}, "bare program name"},
	} {
		if _, err := NewServerChecker(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NewServerChecker = %v, want an error containing %q", name, err, tc.want)
		}
	}
	c, err := NewServerChecker(CheckerConfig{Store: e.store, Keyring: e.keyring, Prober: p})
	if err != nil || c.interval != DefaultInterval || c.lease != 2*p.Timeout()+leaseMargin || c.stdioPath == "" {
		t.Fatalf("defaults: %v, interval %s, lease %s, PATH %q", err, c.interval, c.lease, c.stdioPath)
	}
}
