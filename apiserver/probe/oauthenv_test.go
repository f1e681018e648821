package probe

import (
	"strings"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/oauthtest"
)

// The real components of the OAuth 2.0 tests are internal/oauthtest's: an
// authorization server (oidc-provider from npm) issuing RS256 JWT access
// tokens, and an MCP server (Go SDK) behind auth.RequireBearerToken whose
// verifier checks each token's signature with the issuer's JWKS, its
// issuer, audience, expiry and scope, and which serves RFC 9728 metadata.

// oauthEnv is a protected MCP server and its authorization server.
type oauthEnv struct {
	mcp *oauthtest.Protected
	as  *oauthtest.AuthServer
}

const (
	basicID, basicSecret = "probe-basic", "basic-secret-0123456789"
	postID, postSecret   = "probe-post", "post-secret-0123456789"
	// otherResource is a resource the authorization server issues tokens
	// for that is not the MCP server.
	otherResource = "https://other.example/mcp"
)

// startOAuth starts both, tokens living ttl.
func startOAuth(t *testing.T, opts oauthtest.ProtectedOptions, ttl time.Duration) *oauthEnv {
	t.Helper()
	ps := oauthtest.StartProtected(t, opts)
	as := oauthtest.StartAuthServer(t, []oauthtest.Client{
		{ID: basicID, Secret: basicSecret, Method: contract.ClientSecretBasic, Scope: "mcp:read"},
		{ID: postID, Secret: postSecret, Method: contract.ClientSecretPost, Scope: "mcp:read mcp:write"},
	}, []string{ps.URL, otherResource}, ttl)
	ps.SetIssuer(as.Issuer)
	return &oauthEnv{mcp: ps, as: as}
}

// target is an http target of the MCP server with client credentials.
func (e *oauthEnv) target(key string, o OAuth2) Target {
	return Target{Transport: contract.TransportHTTP, URL: e.mcp.URL, Key: key, OAuth2: &o}
}

func (e *oauthEnv) tokenURL() string { return e.as.TokenURL() }

// noSecret fails the test if msg holds any of secrets.
func noSecret(t *testing.T, msg string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Fatalf("message leaks a secret %q: %s", s, msg)
		}
	}
}
