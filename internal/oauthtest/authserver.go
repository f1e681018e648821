// Package oauthtest starts the real components of the OAuth 2.0 tests: an
// authorization server (oidc-provider from npm, testdata/oauthserver)
// issuing RS256 JWT access tokens by the client credentials grant, and an MCP
// server (Go SDK, from internal/mcptest) behind auth.RequireBearerToken whose
// verifier checks each token's signature with the issuer's JWKS, its issuer,
// audience, expiry and scope, and which serves RFC 9728 metadata.
//
// apiserver/probe tests the OAuth 2.0 client against them case by case;
// apiserver/gateway proves its two paths use that client. Everything started
// here is stopped by t.Cleanup.
package oauthtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/internal/nodefixture"
)

// install is the fixture in testdata/oauthserver, installed once per test binary.
var install = sync.OnceValues(func() (nodeInstall, error) {
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "testdata", "oauthserver")
	in, err := nodefixture.Run(src, "oauthserver", "oidc-provider/package.json")
	if err != nil {
		return nodeInstall{}, err
	}
	return nodeInstall{src: src, node: in.Node, modules: in.Modules}, nil
})

// nodeInstall is where the fixture's script, Node and its modules are.
type nodeInstall struct{ src, node, modules string }

// Client is a client registered at the authorization server (oidc-provider
// client metadata; the grant is client_credentials).
type Client struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
	// Method is the token_endpoint_auth_method, e.g. contract.ClientSecretBasic.
	Method string `json:"token_endpoint_auth_method"`
	// Scope is the space-separated scopes the client may ask for.
	Scope string `json:"scope"`
}

// AuthServer is a running oidc-provider.
type AuthServer struct {
	// Issuer is its issuer URL (http://127.0.0.1:PORT).
	Issuer string
}

// StartAuthServer starts oidc-provider with clients, issuing tokens for
// resources (the first is the default when a request names none; any other
// is invalid_target) that live ttl.
func StartAuthServer(t testing.TB, clients []Client, resources []string, ttl time.Duration) *AuthServer {
	t.Helper()
	n, err := install()
	if err != nil {
		t.Fatal(err)
	}
	// Node resolves an ES module's imports from the module's own directory
	// upwards, so the script runs from a directory beside the cached modules.
	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join(n.src, "server.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(n.modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	cj, _ := json.Marshal(clients)
	rj, _ := json.Marshal(resources)
	cmd := exec.Command(n.node, "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OAUTH_CLIENTS="+string(cj), "OAUTH_RESOURCES="+string(rj),
		"OAUTH_TTL="+strconv.Itoa(int(ttl/time.Second)))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Its own process group, so the cleanup kills whatever node started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("oidc-provider did not start: %v\n%s", err, stderr.String())
	}
	var ready struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal([]byte(line), &ready); err != nil || ready.Issuer == "" {
		t.Fatalf("oidc-provider printed %q: %v", line, err)
	}
	return &AuthServer{Issuer: ready.Issuer}
}

// TokenURL is the server's token endpoint.
func (a *AuthServer) TokenURL() string { return a.Issuer + "/token" }

// TokenRequests is how many token requests the server has had, so a test
// can prove a token was cached or fetched again.
func (a *AuthServer) TokenRequests(t testing.TB) int {
	t.Helper()
	resp, err := http.Get(a.Issuer + "/test/token-requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	n, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatalf("token request count %q: %v", b, err)
	}
	return n
}

// syncBuffer is oidc-provider's stderr: written by exec's copier, read by
// the test when the server does not start.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
