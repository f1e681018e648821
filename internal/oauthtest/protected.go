package oauthtest

import (
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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// Scope is the scope the protected server demands of every token.
const Scope = "mcp:read"

// APIKeyHeader is the header a protected server started with
// ProtectedOptions.APIKey demands besides the token.
const APIKeyHeader = "X-Api-Key"

// healthProbeClient is the clientInfo name of the API's own health checks,
// which a test may not have given the API key (see Protected.WithoutAPIKey).
const healthProbeClient = `"mcpconn-health-probe"`

// Protected is an MCP server that takes the authorization server's tokens.
type Protected struct {
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
	// noKey counts requests without the API key, health checks apart.
	noKey int
}

// ProtectedOptions shape a Protected server.
type ProtectedOptions struct {
	// Name is the serverInfo name ("protected" when empty).
	Name string
	// NoResourceMetadataParam leaves resource_metadata out of the 401, so
	// clients fall back to the well-known URL.
	NoResourceMetadataParam bool
	// Metadata replaces the RFC 9728 document ("" serves the real one).
	Metadata string
	// SSE serves the legacy HTTP+SSE transport, whose first request is a GET.
	SSE bool
	// APIKey, when set, is demanded in APIKeyHeader before any token is
	// looked at: a request without it is a 403.
	APIKey string
}

// StartProtected serves a stateless MCP server with tools at /mcp that
// demands the scope mcp:read, and RFC 9728 metadata at
// /.well-known/oauth-protected-resource/mcp. Call SetIssuer before use.
func StartProtected(t testing.TB, opts ProtectedOptions) *Protected {
	t.Helper()
	ps := &Protected{revoked: map[string]bool{}}
	mux := http.NewServeMux()
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	ps.Server = &mcptest.Server{URL: hs.URL + mcptest.Path, HTTP: hs}
	name := opts.Name
	if name == "" {
		name = "protected"
	}
	srv := mcptest.NewServer(mcptest.Config{Name: name, Tools: true})
	var mcpHandler http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true})
	if opts.SSE {
		mcpHandler = mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return srv }, nil)
	}
	metaURL := hs.URL + "/.well-known/oauth-protected-resource" + mcptest.Path
	ro := &auth.RequireBearerTokenOptions{Scopes: []string{Scope}}
	if !opts.NoResourceMetadataParam {
		ro.ResourceMetadataURL = metaURL
	}
	h := ps.countUnauthenticated(auth.RequireBearerToken(ps.verify, ro)(mcpHandler))
	if opts.APIKey != "" {
		h = ps.requireAPIKey(opts.APIKey, h)
	}
	mux.Handle(mcptest.Path, h)
	mux.HandleFunc("/.well-known/oauth-protected-resource"+mcptest.Path, func(w http.ResponseWriter, r *http.Request) {
		if opts.Metadata != "" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, opts.Metadata)
			return
		}
		ps.mu.Lock()
		issuer := ps.issuer
		ps.mu.Unlock()
		auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
			Resource: ps.URL, AuthorizationServers: []string{issuer}, ScopesSupported: []string{Scope},
		}).ServeHTTP(w, r)
	})
	return ps
}

// SetIssuer names the authorization server whose tokens the server takes
// and its metadata points to.
func (ps *Protected) SetIssuer(issuer string) {
	ps.mu.Lock()
	ps.issuer = issuer
	ps.mu.Unlock()
}

// RevokeAll makes the server refuse every token it accepted so far.
func (ps *Protected) RevokeAll() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, id := range ps.seen {
		ps.revoked[id] = true
	}
}

// Counts are the requests with a token it accepted and those without a token.
func (ps *Protected) Counts() (accepted, unauthenticated int) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return len(ps.seen), ps.unauthenticated
}

// WithoutAPIKey is how many requests lacked ProtectedOptions.APIKey, not
// counting the API's own health checks (clientInfo mcpconn-health-probe),
// which a test may give no settings.
func (ps *Protected) WithoutAPIKey() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.noKey
}

func (ps *Protected) countUnauthenticated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			ps.mu.Lock()
			ps.unauthenticated++
			ps.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func (ps *Protected) requireAPIKey(key string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(APIKeyHeader) != key {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if !bytes.Contains(b, []byte(healthProbeClient)) {
				ps.mu.Lock()
				ps.noKey++
				ps.mu.Unlock()
			}
			http.Error(w, APIKeyHeader+" missing or wrong", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// verify checks an RS256 JWT access token: signature by a key of the
// issuer's JWKS, issuer, audience (this server's URL), expiry and not revoked.
func (ps *Protected) verify(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
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
	// aud is one string or a list of them (RFC 7519 section 4.1.3).
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
	// RequireBearerToken checks the scopes and the expiry from this.
	return &auth.TokenInfo{Scopes: strings.Fields(claims.Scope), Expiration: time.Unix(claims.Exp, 0)}, nil
}

// key is the issuer's RSA key kid, from its JWKS (fetched on first use).
func (ps *Protected) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
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

// decodeSegment decodes one base64url segment of a JWT as JSON into v.
func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
