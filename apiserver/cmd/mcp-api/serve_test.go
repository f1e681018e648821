package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/logbuf"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
	"github.com/mcpconn/terraform-provider-mcp/internal/poll"
)

// serving is a `mcp-api serve` running in-process.
type serving struct {
	url    string
	stop   context.CancelFunc
	exit   chan int
	stdout *logbuf.Buffer
	stderr *logbuf.Buffer
}

// startServe runs serve on a free loopback port and waits until it answers.
func startServe(t *testing.T, env map[string]string, args ...string) *serving {
	t.Helper()
	addr := mcptest.ClosedAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{url: "http://" + addr, stop: cancel, exit: make(chan int, 1), stdout: &logbuf.Buffer{}, stderr: &logbuf.Buffer{}}
	go func() {
		s.exit <- run(ctx, append([]string{"serve", "--listen", addr}, args...), envFunc(env), s.stdout, s.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.exit:
		case <-time.After(time.Minute):
			t.Error("serve did not stop")
		}
	})
	s.waitOK(t, "/healthz")
	return s
}

// waitFor polls cond until it holds; the generous bound only keeps a broken
// server from hanging the test run.
// waitOK waits until GET path answers 200.
func (s *serving) waitOK(t *testing.T, path string) {
	t.Helper()
	s.waitFor(t, func() bool {
		resp, err := http.Get(s.url + path)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func (s *serving) waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	// A serve that exited never will.
	held := func() bool {
		if cond() {
			return true
		}
		select {
		case code := <-s.exit:
			s.exit <- code
			t.Fatalf("serve exited with %d; stderr:\n%s", code, s.stderr)
		default:
		}
		return false
	}
	if !poll.Until(90*time.Second, 20*time.Millisecond, held) {
		t.Fatalf("condition not reached; stderr:\n%s", s.stderr)
	}
}

// wait returns serve's exit code once it returns.
func (s *serving) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-s.exit:
		s.exit <- code
		return code
	case <-time.After(time.Minute):
		t.Fatalf("serve did not return; stderr:\n%s", s.stderr)
		return -1
	}
}

// logLines decodes serve's JSON log lines from stderr.
func logLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stderr line is not a JSON log line: %q", line)
		}
		out = append(out, m)
	}
	return out
}

func serveEnv(t *testing.T) map[string]string {
	return map[string]string{
		"DATABASE_URL":          pgtest.NewDatabase(t),
		"MCP_API_SECRET_KEY":    newSecretKey(t),
		"MCP_API_BOOTSTRAP_KEY": "bootstrap-" + uuid.NewString(),
		// Serves started together would contend for the default address.
		"MCP_API_METRICS_LISTEN": "off",
	}
}

// The serve tests are not parallel: serve installs process-wide signal
// handlers, and some of them stop the shared database.

func TestServeWithBootstrapKey(t *testing.T) {
	env := serveEnv(t)
	key := env["MCP_API_BOOTSTRAP_KEY"]
	s := startServe(t, env, "--no-scheduler")

	get(t, s.url+"/readyz", "", http.StatusOK)
	get(t, s.url+"/api/mcp-connections", "", http.StatusUnauthorized)
	created := post(t, s.url+"/api/mcp-connections", key,
		`{"name":"n","serverUrl":"https://a.example/mcp","authType":"bearer","bearerToken":"tok-serve-secret"}`)
	s.stop()
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d after cancel; stderr:\n%s", code, s.stderr)
	}
	if s.stdout.String() != "" {
		t.Errorf("serve wrote to stdout: %q", s.stdout)
	}
	first := s.stderr.String()
	for _, secret := range []string{key, "tok-serve-secret", env["MCP_API_SECRET_KEY"]} {
		if strings.Contains(first, secret) {
			t.Errorf("logs contain a secret (%q):\n%s", secret, first)
		}
	}
	var tenant any
	for _, line := range logLines(t, first) {
		if line["msg"] == "bootstrap API key ready" {
			tenant = line["tenant_id"]
			if line["tenant_created"] != true {
				t.Errorf("first start: %v", line)
			}
		}
	}
	if id, _ := tenant.(string); id == "" || !strings.Contains(created, `"tenantId":"`+id+`"`) {
		t.Fatalf("connection %s not created under the bootstrap tenant %v", created, tenant)
	}

	// a second start finds the key's tenant rather than creating another
	s = startServe(t, env)
	if body := get(t, s.url+"/api/mcp-connections", key, http.StatusOK); !strings.Contains(body, `"name":"n"`) {
		t.Fatalf("after restart the bootstrap key sees %s", body)
	}
	s.stop()
	s.wait(t)
	for _, line := range logLines(t, s.stderr.String()) {
		if line["msg"] == "bootstrap API key ready" && (line["tenant_created"] != false || line["tenant_id"] != tenant) {
			t.Errorf("second start: %v, want the same tenant, not created", line)
		}
	}
}

func TestServeStopsOnSIGTERM(t *testing.T) {
	s := startServe(t, serveEnv(t))
	// startServe returned after /healthz answered, so serve's handler for
	// SIGTERM is installed and the signal will not kill the test binary
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop logged:\n%s", s.stderr)
	}
	if _, err := http.Get(s.url + "/healthz"); err == nil {
		t.Error("still serving after SIGTERM")
	}
}

// TestShutdownFinishesInFlightRequests starts a request, shuts the server
// down while the request's body is still being sent, and expects the
// request to complete.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	env := serveEnv(t)
	s := startServe(t, env)

	body, writer := io.Pipe()
	req, _ := http.NewRequest("POST", s.url+"/api/mcp-connections", body)
	req.Header.Set("Authorization", "Bearer "+env["MCP_API_BOOTSTRAP_KEY"])
	req.Header.Set("Expect", "100-continue")
	// the server sends 100 Continue when the handler starts reading the body:
	// from then on the request is in flight
	inHandler := make(chan struct{})
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		Got100Continue: func() { close(inHandler) },
	}))
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	type answer struct {
		status int
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		resp.Body.Close()
		answered <- answer{status: resp.StatusCode}
	}()
	select {
	case <-inHandler:
	case a := <-answered:
		t.Fatalf("answered before the body was sent: %+v", a)
	}

	s.stop()
	s.waitFor(t, func() bool { return strings.Contains(s.stderr.String(), "shutting down") })
	if _, err := io.WriteString(writer, `{"name":"in flight","serverUrl":"https://a.example/mcp"}`); err != nil {
		t.Fatal(err)
	}
	writer.Close()

	a := <-answered
	if a.err != nil || a.status != http.StatusCreated {
		t.Fatalf("in-flight request: %+v, want 201", a)
	}
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, s.stderr)
	}
}

func TestServeGivesUpOnUnreachableDatabase(t *testing.T) {
	env := serveEnv(t)
	env["DATABASE_URL"] = "postgres://postgres:hunter2@" + mcptest.ClosedAddr(t) + "/x?sslmode=disable"
	env["MCP_API_DB_WAIT"] = "1s"
	var stdout, stderr logbuf.Buffer
	code := run(context.Background(), []string{"serve", "--listen", "127.0.0.1:0"}, envFunc(env), &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "mcp-api: database still unreachable after 1s") {
		t.Errorf("last line = %q", last)
	}
	retries := 0
	for _, line := range logLines(t, strings.Join(lines[:len(lines)-1], "\n")) {
		if line["msg"] == "database unreachable; retrying" {
			retries++
		}
	}
	if retries == 0 {
		t.Errorf("no retry logged before giving up:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "hunter2") {
		t.Error("the database password is logged")
	}
}

func TestServeWaitsForDatabase(t *testing.T) {
	env := serveEnv(t)
	cluster := pgtest.SharedCluster(t)
	restart := cluster.Outage(t)

	addr := mcptest.ClosedAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &serving{url: "http://" + addr, stop: cancel, exit: make(chan int, 1), stdout: &logbuf.Buffer{}, stderr: &logbuf.Buffer{}}
	go func() {
		s.exit <- run(ctx, []string{"serve", "--listen", addr}, envFunc(env), s.stdout, s.stderr)
	}()
	s.waitFor(t, func() bool { return strings.Contains(s.stderr.String(), "database unreachable; retrying") })

	restart()
	s.waitOK(t, "/readyz")
	get(t, s.url+"/api/mcp-connections", env["MCP_API_BOOTSTRAP_KEY"], http.StatusOK)
	s.stop()
	if code := s.wait(t); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, s.stderr)
	}
}

func TestSecretsRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	oldKey, newKey := newSecretKey(t), newSecretKey(t)
	oldRaw, _ := secrets.ParseKey(oldKey)
	newRaw, _ := secrets.ParseKey(newKey)
	oldRing, _ := secrets.NewKeyring(oldRaw)
	newRing, _ := secrets.NewKeyring(newRaw)

	st, err := store.Open(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tenant, err := st.CreateTenant(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	var ids []uuid.UUID
	for i, token := range []string{"tok-one", "tok-two"} {
		c := store.Connection{Key: store.Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant.ID}, Name: string(rune('a' + i)), ServerURL: "https://a.example", AuthType: "bearer"}
		ct, keyID, err := oldRing.Seal([]byte(token), store.ConnectionTokenAAD(c.ID))
		if err != nil {
			t.Fatal(err)
		}
		c.TokenCiphertext, c.TokenKeyID = ct, &keyID
		if err := st.CreateConnection(ctx, &c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	// an MCP server's token too, sealed under its own associated data
	project := store.Project{Key: store.Key[string]{ID: store.NewProjectID(), TenantID: tenant.ID}, Name: "p"}
	if err := st.CreateProject(ctx, &project); err != nil {
		t.Fatal(err)
	}
	url := "https://s.example/mcp"
	server := store.Server{Key: store.Key[string]{ID: store.NewServerID(), TenantID: tenant.ID}, ProjectID: project.ID, Name: "s", URL: &url,
		TransportType: "http", ConnectionType: "direct"}
	sct, sKeyID, err := oldRing.Seal([]byte("tok-server"), store.ServerTokenAAD(server.ID))
	if err != nil {
		t.Fatal(err)
	}
	server.TokenCiphertext, server.TokenKeyID = sct, &sKeyID
	if err := st.CreateServer(ctx, &server); err != nil {
		t.Fatal(err)
	}

	// without the old key the tokens cannot be opened
	r := runCmd(t, map[string]string{"DATABASE_URL": dbURL, "MCP_API_SECRET_KEY": newKey}, "secrets", "rotate")
	if r.code != 1 || !strings.Contains(oneLine(t, "stderr", r.stderr), "MCP_API_SECRET_KEY_PREVIOUS") {
		t.Fatalf("rotate without the previous key: exit %d, stderr %q", r.code, r.stderr)
	}

	env := map[string]string{"DATABASE_URL": dbURL, "MCP_API_SECRET_KEY": newKey, "MCP_API_SECRET_KEY_PREVIOUS": oldKey}
	r = runCmd(t, env, "secrets", "rotate")
	if r.code != 0 || !strings.HasPrefix(oneLine(t, "stdout", r.stdout), "re-encrypted 3 stored secrets") {
		t.Fatalf("rotate: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for i, id := range ids {
		c, err := st.GetConnection(ctx, tenant.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := newRing.Open(c.TokenCiphertext, *c.TokenKeyID, store.ConnectionTokenAAD(id))
		if err != nil || string(plain) != []string{"tok-one", "tok-two"}[i] {
			t.Fatalf("token %d after rotation: %q, %v", i, plain, err)
		}
	}
	srv, err := st.GetServer(ctx, tenant.ID, server.ID)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := newRing.Open(srv.TokenCiphertext, *srv.TokenKeyID, store.ServerTokenAAD(server.ID)); err != nil || string(plain) != "tok-server" {
		t.Fatalf("server token after rotation: %q, %v", plain, err)
	}
	r = runCmd(t, env, "secrets", "rotate")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "re-encrypted 0 stored secrets") {
		t.Fatalf("second rotate: exit %d, stdout %q", r.code, r.stdout)
	}
}
