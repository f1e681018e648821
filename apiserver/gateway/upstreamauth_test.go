package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The gateway reaches an upstream that wants two things at once — an API-key
// header and an OAuth 2.0 access token from a real authorization server
// (oidc-provider, installed by apiserver/probe/testdata/oauthserver) — on
// both of its paths: its own upstream sessions (Prober.Connect) and the
// stateless calls it passes through (Prober.Post). Both come from the one
// place outbound connections are built, so this test only proves that the
// gateway hands that place the whole target; the cases of each method are
// apiserver/probe's tests.

// withAuth is the server checker's target with headers and client credentials added.
type withAuth struct {
	base gateway.Targets
	add  func(*probe.Target)
}

func (w withAuth) ServerTarget(ctx context.Context, row store.Server) (probe.Target, error) {
	t, err := w.base.ServerTarget(ctx, row)
	if err == nil {
		w.add(&t)
	}
	return t, err
}

func TestUpstreamAuthenticationThroughTheGateway(t *testing.T) {
	const apiKey = "upstream-api-key-5511"
	const clientID, secret = "gateway-client", "gateway-client-secret-77"
	up := startJWTUpstream(t, apiKey)
	issuer, tokenRequests := startOIDCProvider(t, clientID, secret, up.url)
	up.setIssuer(issuer)

	e := newEnv(t, func(s *apitest.Server, gc *gateway.Config) {
		gc.Targets = withAuth{base: s.ServerChecker, add: func(t *probe.Target) {
			t.Headers = map[string]string{"X-Api-Key": apiKey}
			// tokenUrl omitted: discovered from the upstream's 401.
			t.OAuth2 = &probe.OAuth2{ClientID: clientID, ClientSecret: secret, Scopes: []string{"mcp:read"}}
		}}
	})
	id := e.register(t, "authenticated", up.url, contract.ConnectionProxy)
	ctx := context.Background()
	for _, version := range []string{"2025-06-18", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			d := connect(t, e.endpoint(id), e.api.APIKey, version, "caller")
			for i := range 3 {
				if i == 2 {
					// The upstream stops taking the tokens it saw: the next
					// call gets a fresh one, without the caller noticing.
					up.revokeAll()
				}
				res, err := d.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}})
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if got := text(t, res); got != "hi" {
					t.Fatalf("call %d answered %q", i, got)
				}
			}
		})
	}
	// One token for the first session and every call after it, one more
	// after each revocation: the token is cached per record and shared.
	if n := tokenRequests(); n != 3 {
		t.Fatalf("%d token requests, want 3", n)
	}
	if n := up.withoutHeader(); n != 0 {
		t.Fatalf("%d gateway requests upstream lacked the header", n)
	}
}

// jwtUpstream is an MCP server (Go SDK) behind auth.RequireBearerToken that
// also demands X-Api-Key, verifies RS256 JWTs with the issuer's JWKS
// (signature, issuer, audience, expiry, not revoked) and serves RFC 9728
// metadata naming the issuer.
type jwtUpstream struct {
	url     string
	mu      sync.Mutex
	issuer  string
	keys    map[string]*rsa.PublicKey
	seen    []string
	revoked map[string]bool
	noKey   int
}

func startJWTUpstream(t *testing.T, apiKey string) *jwtUpstream {
	t.Helper()
	u := &jwtUpstream{revoked: map[string]bool{}}
	srv := mcptest.NewServer(mcptest.Config{Name: "authenticated", Tools: true})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true})
	mux := http.NewServeMux()
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	u.url = hs.URL + mcptest.Path
	metadata := hs.URL + "/.well-known/oauth-protected-resource" + mcptest.Path
	protected := auth.RequireBearerToken(u.verify, &auth.RequireBearerTokenOptions{ResourceMetadataURL: metadata, Scopes: []string{"mcp:read"}})(h)
	mux.Handle(mcptest.Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != apiKey {
			// The record's own health checks (the API does not store these
			// settings in this test, so they go without) are not the gateway's.
			b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if !bytes.Contains(b, []byte(`"mcpconn-health-probe"`)) {
				u.mu.Lock()
				u.noKey++
				u.mu.Unlock()
			}
			http.Error(w, "X-Api-Key missing or wrong", http.StatusForbidden)
			return
		}
		protected.ServeHTTP(w, r)
	}))
	mux.HandleFunc("/.well-known/oauth-protected-resource"+mcptest.Path, func(w http.ResponseWriter, _ *http.Request) {
		u.mu.Lock()
		issuer := u.issuer
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"resource": u.url, "authorization_servers": []string{issuer}})
	})
	return u
}

func (u *jwtUpstream) setIssuer(issuer string) {
	u.mu.Lock()
	u.issuer = issuer
	u.mu.Unlock()
}

func (u *jwtUpstream) revokeAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, id := range u.seen {
		u.revoked[id] = true
	}
}

func (u *jwtUpstream) withoutHeader() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.noKey
}

func (u *jwtUpstream) verify(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not a JWT", auth.ErrInvalidToken)
	}
	var header struct{ Kid string }
	var claims struct {
		Iss, Jti, Scope string
		Aud             string
		Exp             int64
	}
	if jwtSegment(parts[0], &header) != nil || jwtSegment(parts[1], &claims) != nil {
		return nil, fmt.Errorf("%w: malformed", auth.ErrInvalidToken)
	}
	key, err := u.key(ctx, header.Kid)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig) != nil {
		return nil, fmt.Errorf("%w: bad signature", auth.ErrInvalidToken)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if claims.Iss != u.issuer || claims.Aud != u.url || u.revoked[claims.Jti] {
		return nil, fmt.Errorf("%w: not for this server, or revoked", auth.ErrInvalidToken)
	}
	u.seen = append(u.seen, claims.Jti)
	return &auth.TokenInfo{Scopes: strings.Fields(claims.Scope), Expiration: time.Unix(claims.Exp, 0)}, nil
}

func (u *jwtUpstream) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	u.mu.Lock()
	keys, issuer := u.keys, u.issuer
	u.mu.Unlock()
	if keys == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/jwks", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var set struct{ Keys []struct{ Kid, N, E string } }
		if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
			return nil, err
		}
		keys = map[string]*rsa.PublicKey{}
		for _, k := range set.Keys {
			n, _ := base64.RawURLEncoding.DecodeString(k.N)
			e, _ := base64.RawURLEncoding.DecodeString(k.E)
			keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		}
		u.mu.Lock()
		u.keys = keys
		u.mu.Unlock()
	}
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, errors.New("unknown key")
}

func jwtSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// startOIDCProvider runs apiserver/probe's oidc-provider with one client
// (client_secret_basic, scope mcp:read) issuing tokens for resource, and
// returns its issuer and a count of its token requests.
func startOIDCProvider(t *testing.T, clientID, secret, resource string) (string, func() int) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "..", "probe", "testdata", "oauthserver")
	install := exec.Command(filepath.Join(src, "install.sh"))
	var stderr bytes.Buffer
	install.Stderr = &stderr
	out, err := install.Output()
	if err != nil {
		t.Fatalf("apiserver/probe/testdata/oauthserver/install.sh: %v\n%s", err, stderr.String())
	}
	var node, modules string
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "node":
			node = v
		case "modules":
			modules = v
		}
	}
	// Node resolves an ES module's imports from the module's directory upwards.
	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join(src, "server.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	clients, _ := json.Marshal([]map[string]string{{"client_id": clientID, "client_secret": secret,
		"token_endpoint_auth_method": contract.ClientSecretBasic, "scope": "mcp:read"}})
	resources, _ := json.Marshal([]string{resource})
	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OAUTH_CLIENTS="+string(clients), "OAUTH_RESOURCES="+string(resources), "OAUTH_TTL=300")
	cmd.Stderr = io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var ready struct{ Issuer string }
	if err != nil || json.Unmarshal([]byte(line), &ready) != nil || ready.Issuer == "" {
		t.Fatalf("oidc-provider did not start: %q %v", line, err)
	}
	count := func() int {
		resp, err := http.Get(ready.Issuer + "/test/token-requests")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		n, err := strconv.Atoi(string(b))
		if err != nil {
			t.Fatalf("token request count %q", b)
		}
		return n
	}
	return ready.Issuer, count
}
