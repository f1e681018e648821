package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/oauthtest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The gateway reaches an upstream that wants two things at once — an API-key
// header and an OAuth 2.0 access token from a real authorization server
// (internal/oauthtest's oidc-provider and JWT-verifying MCP server) — on both
// of its paths: its own upstream sessions (Prober.Connect) and the stateless
// calls it passes through (Prober.Post). Both come from the one
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
	up := oauthtest.StartProtected(t, oauthtest.ProtectedOptions{Name: "authenticated", APIKey: apiKey})
	as := oauthtest.StartAuthServer(t, []oauthtest.Client{
		{ID: clientID, Secret: secret, Method: contract.ClientSecretBasic, Scope: "mcp:read"},
	}, []string{up.URL}, 300*time.Second)
	up.SetIssuer(as.Issuer)

	e := newEnv(t, func(s *apitest.Server, gc *gateway.Config) {
		gc.Targets = withAuth{base: s.ServerChecker, add: func(t *probe.Target) {
			t.Headers = map[string]string{oauthtest.APIKeyHeader: apiKey}
			// tokenUrl omitted: discovered from the upstream's 401.
			t.OAuth2 = &probe.OAuth2{ClientID: clientID, ClientSecret: secret, Scopes: []string{"mcp:read"}}
		}}
	})
	id := e.register(t, "authenticated", up.URL, contract.ConnectionProxy)
	ctx := context.Background()
	for _, version := range []string{"2025-06-18", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			d := connect(t, e.endpoint(id), e.api.APIKey, version, "caller")
			for i := range 3 {
				if i == 2 {
					// The upstream stops taking the tokens it saw: the next
					// call gets a fresh one, without the caller noticing.
					up.RevokeAll()
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
	if n := as.TokenRequests(t); n != 3 {
		t.Fatalf("%d token requests, want 3", n)
	}
	if n := up.WithoutAPIKey(); n != 0 {
		t.Fatalf("%d gateway requests upstream lacked the header", n)
	}
}
