package probe

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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// The real components of the OAuth 2.0 tests: an authorization server
// (oidc-provider from npm, testdata/oauthserver) issuing RS256 JWT access
// tokens, and an MCP server (Go SDK) behind auth.RequireBearerToken whose
// verifier checks each token's signature with the issuer's JWKS, its
// issuer, audience, expiry and scope, and which serves RFC 9728 metadata.

// oauthInstall is testdata/oauthserver/install.sh's result, once per run.
var oauthInstall = sync.OnceValues(func() (oauthNode, error) {
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "testdata", "oauthserver")
	cmd := exec.Command(filepath.Join(src, "install.sh"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return oauthNode{}, fmt.Errorf("testdata/oauthserver/install.sh: %v\n%s", err, stderr.String())
	}
	n := oauthNode{src: src}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "node":
			n.node = v
		case "modules":
			n.modules = v
		}
	}
	if n.node == "" || n.modules == "" {
		return oauthNode{}, fmt.Errorf("testdata/oauthserver/install.sh printed no node or modules:\n%s", out)
	}
	return n, nil
})

type oauthNode struct{ src, node, modules string }

// testClient is a client registered at the authorization server.
type testClient struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
	Method string `json:"token_endpoint_auth_method"`
	Scope  string `json:"scope"`
}

// authServer is a running oidc-provider.
type authServer struct {
	issuer string
}

// startAuthServer starts oidc-provider with clients, issuing tokens for
// resources (the first is the default) that live ttl.
func startAuthServer(t *testing.T, clients []testClient, resources []string, ttl time.Duration) *authServer {
	t.Helper()
	n, err := oauthInstall()
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
	return &authServer{issuer: ready.Issuer}
}

// tokenRequests is how many token requests the server has had.
func (a *authServer) tokenRequests(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(a.issuer + "/test/token-requests")
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

// protectedServer is an MCP server that takes the authorization server's tokens.
type protectedServer struct {
	*mcptest.Server
	mu sync.Mutex
	// issuer is set once the authorization server runs (it needs the URL first).
	issuer string
	keys   map[string]*rsa.PublicKey
	// revoked are token ids (jti) the server no longer accepts.
	revoked map[string]bool
	// seen are the token ids it accepted, in order.
	seen []string
	// unauthenticated counts requests without a token.
	unauthenticated int
}

// protectedOptions shape a protectedServer.
type protectedOptions struct {
	// noResourceMetadataParam leaves resource_metadata out of the 401, so
	// clients fall back to the well-known URL.
	noResourceMetadataParam bool
	// metadata replaces the RFC 9728 document ("" serves the real one).
	metadata string
	// sse serves the legacy HTTP+SSE transport, whose first request is a GET.
	sse bool
}

// startProtected serves a stateless MCP server with a tool at /mcp that
// demands the scope mcp:read, and RFC 9728 metadata at
// /.well-known/oauth-protected-resource/mcp. Call setIssuer before use.
func startProtected(t *testing.T, opts protectedOptions) *protectedServer {
	t.Helper()
	ps := &protectedServer{revoked: map[string]bool{}}
	mux := http.NewServeMux()
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	ps.Server = &mcptest.Server{URL: hs.URL + mcptest.Path, HTTP: hs}
	srv := mcptest.NewServer(mcptest.Config{Name: "protected", Tools: true})
	var mcpHandler http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true})
	if opts.sse {
		mcpHandler = mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	}
	metaURL := hs.URL + "/.well-known/oauth-protected-resource" + mcptest.Path
	ro := &auth.RequireBearerTokenOptions{Scopes: []string{"mcp:read"}}
	if !opts.noResourceMetadataParam {
		ro.ResourceMetadataURL = metaURL
	}
	mux.Handle(mcptest.Path, ps.countUnauthenticated(auth.RequireBearerToken(ps.verify, ro)(mcpHandler)))
	mux.HandleFunc("/.well-known/oauth-protected-resource"+mcptest.Path, func(w http.ResponseWriter, r *http.Request) {
		if opts.metadata != "" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, opts.metadata)
			return
		}
		ps.mu.Lock()
		issuer := ps.issuer
		ps.mu.Unlock()
		auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
			Resource: ps.URL, AuthorizationServers: []string{issuer}, ScopesSupported: []string{"mcp:read"},
		}).ServeHTTP(w, r)
	})
	return ps
}

func (ps *protectedServer) setIssuer(issuer string) {
	ps.mu.Lock()
	ps.issuer = issuer
	ps.mu.Unlock()
}

// revokeAll makes the server refuse every token it accepted so far.
func (ps *protectedServer) revokeAll() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, id := range ps.seen {
		ps.revoked[id] = true
	}
}

func (ps *protectedServer) counts() (accepted, unauthenticated int) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return len(ps.seen), ps.unauthenticated
}

// verify checks an RS256 JWT access token: signature by a key of the
// issuer's JWKS, issuer, audience (this server's URL), expiry and not revoked.
func (ps *protectedServer) verify(ctx context.Context, token string, r *http.Request) (*auth.TokenInfo, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not a JWT", auth.ErrInvalidToken)
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &header); err != nil || header.Alg != "RS256" {
		return nil, fmt.Errorf("%w: bad header", auth.ErrInvalidToken)
	}
	key, err := ps.key(ctx, header.Kid)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: bad signature encoding", auth.ErrInvalidToken)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return nil, fmt.Errorf("%w: signature does not verify", auth.ErrInvalidToken)
	}
	var claims struct {
		Iss   string          `json:"iss"`
		Aud   json.RawMessage `json:"aud"`
		Exp   int64           `json:"exp"`
		Jti   string          `json:"jti"`
		Scope string          `json:"scope"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("%w: bad claims", auth.ErrInvalidToken)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var auds []string
	if json.Unmarshal(claims.Aud, &auds) != nil {
		var one string
		_ = json.Unmarshal(claims.Aud, &one)
		auds = []string{one}
	}
	switch {
	case claims.Iss != ps.issuer:
		return nil, fmt.Errorf("%w: issuer %q", auth.ErrInvalidToken, claims.Iss)
	case !slices.Contains(auds, ps.URL):
		return nil, fmt.Errorf("%w: audience %v is not this server", auth.ErrInvalidToken, auds)
	case ps.revoked[claims.Jti]:
		return nil, fmt.Errorf("%w: token revoked", auth.ErrInvalidToken)
	}
	ps.seen = append(ps.seen, claims.Jti)
	return &auth.TokenInfo{Scopes: strings.Fields(claims.Scope), Expiration: time.Unix(claims.Exp, 0)}, nil
}

// key is the issuer's RSA key kid, from its JWKS (fetched on first use).
func (ps *protectedServer) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	ps.mu.Lock()
	keys, issuer := ps.keys, ps.issuer
	ps.mu.Unlock()
	if keys == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/jwks", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var set struct {
			Keys []struct {
				Kty, Kid, N, E string
			} `json:"keys"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
			return nil, err
		}
		keys = map[string]*rsa.PublicKey{}
		for _, k := range set.Keys {
			if k.Kty != "RSA" {
				continue
			}
			n, err1 := base64.RawURLEncoding.DecodeString(k.N)
			e, err2 := base64.RawURLEncoding.DecodeString(k.E)
			if err1 != nil || err2 != nil {
				continue
			}
			keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		}
		ps.mu.Lock()
		ps.keys = keys
		ps.mu.Unlock()
	}
	k, ok := keys[kid]
	if !ok {
		return nil, errors.New("unknown key " + kid)
	}
	return k, nil
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// oauthEnv is a protected MCP server and its authorization server.
type oauthEnv struct {
	mcp *protectedServer
	as  *authServer
}

const (
	basicID, basicSecret = "probe-basic", "basic-secret-0123456789"
	postID, postSecret   = "probe-post", "post-secret-0123456789"
	// otherResource is a resource the authorization server issues tokens
	// for that is not the MCP server.
	otherResource = "https://other.example/mcp"
)

// startOAuth starts both, tokens living ttl.
func startOAuth(t *testing.T, opts protectedOptions, ttl time.Duration) *oauthEnv {
	t.Helper()
	ps := startProtected(t, opts)
	as := startAuthServer(t, []testClient{
		{ID: basicID, Secret: basicSecret, Method: contract.ClientSecretBasic, Scope: "mcp:read"},
		{ID: postID, Secret: postSecret, Method: contract.ClientSecretPost, Scope: "mcp:read mcp:write"},
	}, []string{ps.URL, otherResource}, ttl)
	ps.setIssuer(as.issuer)
	return &oauthEnv{mcp: ps, as: as}
}

// target is an http target of the MCP server with client credentials.
func (e *oauthEnv) target(key string, o OAuth2) Target {
	return Target{Transport: contract.TransportHTTP, URL: e.mcp.URL, Key: key, OAuth2: &o}
}

func (e *oauthEnv) tokenURL() string { return e.as.issuer + "/token" }

// noSecret fails the test if msg holds any of secrets.
func noSecret(t *testing.T, msg string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Fatalf("message leaks a secret %q: %s", s, msg)
		}
	}
}
