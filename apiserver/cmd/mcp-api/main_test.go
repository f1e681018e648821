package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/crashpoint"
	"github.com/mcpconn/terraform-provider-mcp/internal/logbuf"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
)

// serveArgsEnv, when set, makes the test binary run mcp-api with those
// arguments instead of the tests: a replica of its own process, which a
// test can kill.
const serveArgsEnv = "MCP_API_TEST_RUN_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(serveArgsEnv); args != "" {
		secrets.CrashHook = crashpoint.FromEnv()
		os.Exit(run(context.Background(), strings.Fields(args), os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(pgtest.Run(m))
}

type result struct {
	code           int
	stdout, stderr string
}

func runCmd(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr logbuf.Buffer
	code := run(context.Background(), args, envFunc(env), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func newSecretKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, secrets.KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// oneLine returns the single line s holds, failing the test otherwise.
func oneLine(t *testing.T, what, s string) string {
	t.Helper()
	if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 {
		t.Fatalf("%s is not exactly one line: %q", what, s)
	}
	return strings.TrimSuffix(s, "\n")
}

func TestHelp(t *testing.T) {
	t.Parallel()
	allEnv := []string{"DATABASE_URL", "MCP_API_SECRET_KEY", "MCP_API_SECRET_KEY_PREVIOUS", "MCP_API_BOOTSTRAP_KEY",
		"MCP_API_LISTEN", "MCP_API_DB_WAIT", "MCP_API_LOG_LEVEL"}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := runCmd(t, nil, args...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		for _, want := range append([]string{"serve", "migrate", "tenant create --name NAME", "key create --tenant UUID", "secrets rotate"}, allEnv...) {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v: help lacks %q:\n%s", args, want, r.stdout)
			}
		}
	}

	tests := []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"serve", "--help"}, append([]string{"--listen ADDR", "--metrics-listen ADDR", "127.0.0.1:9464", "MCP_API_METRICS_LISTEN", "--no-scheduler", "127.0.0.1:8080", "MCP_API_STDIO_MAX_PROCESSES"}, allEnv...), nil},
		{[]string{"help", "serve"}, []string{"--listen ADDR", "MCP_API_BOOTSTRAP_KEY"}, nil},
		{[]string{"migrate", "-h"}, []string{"Usage: mcp-api migrate", "DATABASE_URL", "MCP_API_LOG_LEVEL"}, []string{"MCP_API_SECRET_KEY"}},
		{[]string{"tenant", "create", "--help"}, []string{"--name NAME", "DATABASE_URL"}, []string{"MCP_API_SECRET_KEY"}},
		{[]string{"help", "key", "create"}, []string{"--tenant UUID", "DATABASE_URL"}, nil},
		{[]string{"secrets", "rotate", "--help"}, []string{"MCP_API_SECRET_KEY", "MCP_API_SECRET_KEY_PREVIOUS", "DATABASE_URL"}, []string{"MCP_API_BOOTSTRAP_KEY"}},
	}
	for _, tt := range tests {
		r := runCmd(t, nil, tt.args...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", tt.args, r.code, r.stderr)
		}
		for _, want := range tt.want {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v: help lacks %q:\n%s", tt.args, want, r.stdout)
			}
		}
		for _, not := range tt.not {
			if strings.Contains(r.stdout, not) {
				t.Errorf("%v: help mentions %q, which the command does not read", tt.args, not)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	db := "postgres://postgres@127.0.0.1:1/x?sslmode=disable"
	key := newSecretKey(t)
	short := base64.StdEncoding.EncodeToString(make([]byte, 12))
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no command", nil, nil, "no command given"},
		{"unknown command", nil, []string{"launch"}, `unknown command "launch"`},
		{"half a command", nil, []string{"tenant"}, `"tenant" needs a subcommand`},
		{"unknown subcommand", nil, []string{"key", "delete"}, `unknown command "key delete"`},
		{"help for unknown", nil, []string{"help", "launch"}, `unknown command "launch"`},
		{"unknown flag", nil, []string{"serve", "--port", "1"}, "flag provided but not defined: -port"},
		{"extra argument", nil, []string{"migrate", "now"}, `unexpected argument "now"`},
		{"missing DATABASE_URL", map[string]string{"MCP_API_SECRET_KEY": key}, []string{"serve"}, "DATABASE_URL is not set"},
		{"migrate without DATABASE_URL", nil, []string{"migrate"}, "DATABASE_URL is not set"},
		{"malformed DATABASE_URL", map[string]string{"DATABASE_URL": "postgres://u:hunter2@%zz/db"}, []string{"migrate"}, "DATABASE_URL"},
		{"missing secret key", map[string]string{"DATABASE_URL": db}, []string{"serve"}, "MCP_API_SECRET_KEY is not set"},
		{"short secret key", map[string]string{"DATABASE_URL": db, "MCP_API_SECRET_KEY": short}, []string{"serve"},
			"MCP_API_SECRET_KEY must be base64 of 32 bytes, got 12 bytes"},
		{"non-base64 secret key", map[string]string{"DATABASE_URL": db, "MCP_API_SECRET_KEY": "not base64!"}, []string{"serve"},
			"MCP_API_SECRET_KEY must be base64"},
		{"bad previous key", map[string]string{"DATABASE_URL": db, "MCP_API_SECRET_KEY": key, "MCP_API_SECRET_KEY_PREVIOUS": key + "," + short},
			[]string{"secrets", "rotate"}, "MCP_API_SECRET_KEY_PREVIOUS must be base64 of 32 bytes, got 12 bytes"},
		{"rotate without secret key", map[string]string{"DATABASE_URL": db}, []string{"secrets", "rotate"}, "MCP_API_SECRET_KEY is not set"},
		{"bad log level", map[string]string{"MCP_API_LOG_LEVEL": "loud"}, []string{"migrate"}, "MCP_API_LOG_LEVEL must be debug, info, warn or error"},
		{"bad bootstrap key", map[string]string{"DATABASE_URL": db, "MCP_API_SECRET_KEY": key, "MCP_API_BOOTSTRAP_KEY": "has space"},
			[]string{"serve"}, "MCP_API_BOOTSTRAP_KEY must contain only printable ASCII"},
		{"bad db wait", map[string]string{"DATABASE_URL": db, "MCP_API_SECRET_KEY": key, "MCP_API_DB_WAIT": "soon"},
			[]string{"serve"}, "MCP_API_DB_WAIT must be a duration"},
		{"bad stdio cap", map[string]string{"DATABASE_URL": db, "MCP_API_SECRET_KEY": key, "MCP_API_STDIO_MAX_PROCESSES": "0"},
			[]string{"serve"}, "MCP_API_STDIO_MAX_PROCESSES must be a whole number from 1 to 4096"},
		{"bad listen", map[string]string{"DATABASE_URL": db, "MCP_API_SECRET_KEY": key}, []string{"serve", "--listen", "8080"},
			`listen address "8080" must be host:port`},
		{"bad metrics listen", map[string]string{"DATABASE_URL": db, "MCP_API_SECRET_KEY": key}, []string{"serve", "--metrics-listen", "9464"},
			`--metrics-listen "9464" must be host:port, such as 127.0.0.1:9464, or off`},
		{"bad metrics listen variable", map[string]string{"DATABASE_URL": db, "MCP_API_SECRET_KEY": key, "MCP_API_METRICS_LISTEN": "metrics"},
			[]string{"serve"}, `MCP_API_METRICS_LISTEN "metrics" must be host:port`},
		{"tenant without name", map[string]string{"DATABASE_URL": db}, []string{"tenant", "create"}, "--name is required"},
		{"tenant with blank name", map[string]string{"DATABASE_URL": db}, []string{"tenant", "create", "--name", " "}, "--name must not be empty"},
		{"key without tenant", map[string]string{"DATABASE_URL": db}, []string{"key", "create"}, "--tenant is required"},
		{"key with bad tenant", map[string]string{"DATABASE_URL": db}, []string{"key", "create", "--tenant", "acme"}, `--tenant must be a tenant UUID, got "acme"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, tt.env, tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			line := oneLine(t, "stderr", r.stderr)
			if !strings.HasPrefix(line, "mcp-api: ") || !strings.Contains(line, tt.want) {
				t.Errorf("stderr = %q, want a line containing %q", line, tt.want)
			}
			if strings.Contains(line, "hunter2") || strings.Contains(line, key) {
				t.Errorf("stderr leaks a secret: %q", line)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)}
	for i := range 2 {
		r := runCmd(t, env, "migrate")
		if r.code != 0 || r.stdout != "" {
			t.Fatalf("migrate #%d: exit %d, stdout %q, stderr %q", i+1, r.code, r.stdout, r.stderr)
		}
	}
}

func TestMigrateUnreachableDatabase(t *testing.T) {
	t.Parallel()
	r := runCmd(t, map[string]string{"DATABASE_URL": "postgres://postgres:hunter2@" + mcptest.ClosedAddr(t) + "/x?sslmode=disable"}, "migrate")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	line := oneLine(t, "stderr", r.stderr)
	if !strings.Contains(line, "database unavailable") || strings.Contains(line, "hunter2") {
		t.Fatalf("stderr = %q", line)
	}
}

func TestTenantAndKeyCreate(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": dbURL}

	r := runCmd(t, env, "tenant", "create", "--name", "acme")
	if r.code != 0 {
		t.Fatalf("tenant create: exit %d, stderr %q", r.code, r.stderr)
	}
	tenant, err := uuid.Parse(oneLine(t, "tenant create stdout", r.stdout))
	if err != nil {
		t.Fatalf("tenant create printed %q, not a UUID", r.stdout)
	}

	r = runCmd(t, env, "key", "create", "--tenant", tenant.String())
	if r.code != 0 {
		t.Fatalf("key create: exit %d, stderr %q", r.code, r.stderr)
	}
	key := oneLine(t, "key create stdout", r.stdout)
	if !strings.HasPrefix(key, secrets.APIKeyPrefix) {
		t.Fatalf("key create printed %q", key)
	}
	if strings.Contains(r.stderr, key) {
		t.Fatal("the key is logged")
	}

	// the key authenticates as the tenant against a server on the same database
	st, err := store.Open(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kr, _ := secrets.NewKeyring(make([]byte, secrets.KeySize))
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: st, Keyring: kr}))
	defer srv.Close()
	body := get(t, srv.URL+"/api/mcp-connections", key, http.StatusOK)
	if !strings.Contains(body, `"data":[]`) {
		t.Fatalf("list = %s", body)
	}
	resp := post(t, srv.URL+"/api/mcp-connections", key, `{"name":"n","serverUrl":"https://a.example/mcp"}`)
	if !strings.Contains(resp, `"tenantId":"`+tenant.String()+`"`) {
		t.Fatalf("created under another tenant: %s", resp)
	}

	r = runCmd(t, env, "key", "create", "--tenant", uuid.NewString())
	if r.code != 1 || !strings.Contains(oneLine(t, "stderr", r.stderr), "does not exist") || r.stdout != "" {
		t.Fatalf("key for a missing tenant: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func get(t *testing.T, url, key string, want int) string {
	t.Helper()
	return do(t, "GET", url, key, "", want)
}

// post creates a record: the POST must answer 201.
func post(t *testing.T, url, key, body string) string {
	t.Helper()
	return do(t, "POST", url, key, body, http.StatusCreated)
}

func do(t *testing.T, method, url, key, body string, want int) string {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	return string(b)
}
