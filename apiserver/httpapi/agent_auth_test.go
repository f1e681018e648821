package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/poll"
)

// echoGateway stands in for the gateway where what is tested is the HTTP
// layer in front of it: each endpoint answers with the caller it was given.
type echoGateway struct{}

// seenCaller is what echoGateway's endpoints answer.
type seenCaller struct {
	Endpoint string     `json:"endpoint"`
	Tenant   uuid.UUID  `json:"tenant"`
	APIKeyID *uuid.UUID `json:"apiKeyId"`
	AgentID  *uuid.UUID `json:"agentId"`
	TokenID  *uuid.UUID `json:"tokenId"`
}

func (echoGateway) echo(endpoint string, caller gateway.Caller) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(seenCaller{Endpoint: endpoint, Tenant: caller.Tenant, APIKeyID: caller.APIKeyID,
			AgentID: caller.AgentID, TokenID: caller.TokenID})
	})
}

func (g echoGateway) Server(_ context.Context, caller gateway.Caller, id string) (http.Handler, error) {
	return g.echo("server "+id, caller), nil
}

func (g echoGateway) Agent(_ context.Context, caller gateway.Caller, id uuid.UUID) (http.Handler, error) {
	return g.echo("agent "+id.String(), caller), nil
}

func withEchoGateway() apitest.Option {
	return apitest.WithConfig(func(_ *apitest.Server, cfg *httpapi.Config) { cfg.Gateway = echoGateway{} })
}

// gatewaySetup is a tenant with a proxied server, agent "bot" that has it
// assigned, agent "other" that has not, and a token of each.
type gatewaySetup struct {
	api              *api
	server           string
	bot, other       contract.Agent
	botToken         contract.AgentToken
	otherToken       contract.AgentToken
	botTok, otherTok string
	project          string
}

// startGatewaySetup starts an API with the echo gateway and logs captured,
// and makes the gateway setup in it.
func startGatewaySetup(t *testing.T) (*logBuffer, *apitest.Server, *api, *gatewaySetup) {
	t.Helper()
	logs, logOpt := captureLogs()
	s := apitest.Start(t, withEchoGateway(), logOpt)
	a := newAPI(t, s)
	return logs, s, a, newGatewaySetup(t, a)
}

func newGatewaySetup(t *testing.T, a *api) *gatewaySetup {
	t.Helper()
	g := &gatewaySetup{api: a}
	var project struct{ Project contract.Project }
	a.do("POST", "/api/projects", map[string]any{"name": "gw"}).expect(t, http.StatusCreated, &project)
	g.project = project.Project.ID
	var srv struct{ Server contract.Server }
	a.do("POST", "/api/mcp/servers", map[string]any{"projectId": g.project, "name": "search",
		"url": "https://mcp.example.com/search", "connectionType": "proxy"}).expect(t, http.StatusCreated, &srv)
	g.server = srv.Server.ID
	a.do("POST", "/api/agents", map[string]any{"name": "bot",
		"assignments": []map[string]any{{"serverId": g.server}}}).expect(t, http.StatusCreated, &g.bot)
	a.do("POST", "/api/agents", map[string]any{"name": "other"}).expect(t, http.StatusCreated, &g.other)
	g.botToken, g.botTok = g.newToken(t, g.bot.ID, nil)
	g.otherToken, g.otherTok = g.newToken(t, g.other.ID, nil)
	return g
}

func (g *gatewaySetup) newToken(t *testing.T, agentID string, expires *time.Time) (contract.AgentToken, string) {
	t.Helper()
	body := map[string]any{"name": "tok-" + uuid.NewString()[:8]}
	if expires != nil {
		body["expiresAt"] = expires.UTC().Format(time.RFC3339Nano)
	}
	var tok contract.AgentToken
	g.api.do("POST", "/api/agents/"+agentID+"/tokens", body).expect(t, http.StatusCreated, &tok)
	if tok.Token == nil {
		t.Fatal("token create answered no token")
	}
	return tok, *tok.Token
}

// expectChallenge checks a 401 with a Bearer challenge, whose error
// parameter is there exactly when invalidToken, and a message containing want.
func (r *response) expectChallenge(t *testing.T, invalidToken bool, want string) {
	t.Helper()
	if r.status != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401; body: %s", r.status, r.body)
	}
	challenge := r.header.Get("WWW-Authenticate")
	if !strings.HasPrefix(challenge, `Bearer realm=`) {
		t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", challenge)
	}
	if got := strings.Contains(challenge, `error="invalid_token"`); got != invalidToken {
		t.Errorf("WWW-Authenticate = %q: invalid_token %t, want %t", challenge, got, invalidToken)
	}
	if !strings.Contains(string(r.body), want) {
		t.Errorf("body %s, want it to say %q", r.body, want)
	}
}

func TestAgentEndpointTakesOnlyThatAgentsTokens(t *testing.T) {
	t.Parallel()
	logs, s, a, g := startGatewaySetup(t)
	path := "/mcp/agents/" + g.bot.ID

	var seen seenCaller
	a.as(g.botTok).do("POST", path, `{}`).expect(t, http.StatusOK, &seen)
	if seen.Endpoint != "agent "+g.bot.ID || seen.Tenant != s.TenantID || seen.AgentID == nil || seen.AgentID.String() != g.bot.ID ||
		seen.TokenID == nil || seen.TokenID.String() != g.botToken.ID || seen.APIKeyID != nil {
		t.Fatalf("the gateway was called as %+v", seen)
	}

	a.as("").do("POST", path, `{}`).expectChallenge(t, false, "missing agent token")
	a.as("").do("POST", path, `{}`, "Authorization", "Basic Ym90OnB3").expectChallenge(t, false, "malformed Authorization header")
	a.do("POST", path, `{}`).expectChallenge(t, true, "not an agent token")
	a.as(g.otherTok).do("POST", path, `{}`).expectChallenge(t, true, "belongs to another agent")
	a.as(contract.AgentTokenPrefix+"neverissued").do("POST", path, `{}`).expectChallenge(t, true, "unknown, revoked or expired")
	a.as(contract.AgentTokenPrefix+strings.Repeat("x", 600)).do("POST", path, `{}`).expectChallenge(t, true, "invalid agent token")
	a.as(g.botTok).do("POST", "/mcp/agents/not-a-uuid", `{}`).expectChallenge(t, true, "belongs to another agent")
	// A refused request's error body is the plain one of /api/agents.
	var body contract.ErrorBody
	a.as(g.otherTok).do("GET", path, nil).expect(t, http.StatusUnauthorized, &body)
	if body.Error == "" {
		t.Fatal("no error message")
	}

	// Revoked through the API of this instance: refused (the cache is
	// bounded by DefaultAgentTokenCacheTTL, so poll).
	a.do("DELETE", "/api/agents/"+g.bot.ID+"/tokens/"+g.botToken.ID, nil).expect(t, http.StatusNoContent, nil)
	pollUntilRefused(t, a.as(g.botTok), path)

	assertNotLogged(t, logs.String(), g.botTok, g.otherTok, s.APIKey)
}

// TestServerEndpointTakesKeysAndAssignedAgents: /mcp/servers/{id} takes an
// API key, or a token of an agent that has the server assigned; another
// agent's token is a 403 naming agent and server.
func TestServerEndpointTakesKeysAndAssignedAgents(t *testing.T) {
	t.Parallel()
	logs, s, a, g := startGatewaySetup(t)
	path := "/mcp/servers/" + g.server

	var seen seenCaller
	a.do("POST", path, `{}`).expect(t, http.StatusOK, &seen)
	if seen.Tenant != s.TenantID || seen.APIKeyID == nil || seen.AgentID != nil || seen.TokenID != nil {
		t.Fatalf("an API key caller reached the gateway as %+v", seen)
	}
	seen = seenCaller{}
	a.as(g.botTok).do("POST", path, `{}`).expect(t, http.StatusOK, &seen)
	if seen.Tenant != s.TenantID || seen.APIKeyID != nil || seen.AgentID == nil || seen.AgentID.String() != g.bot.ID ||
		seen.TokenID == nil || seen.TokenID.String() != g.botToken.ID {
		t.Fatalf("an assigned agent reached the gateway as %+v", seen)
	}

	r := a.as(g.otherTok).do("POST", path, `{}`)
	var env contract.EnvelopeError
	r.expect(t, http.StatusForbidden, &env)
	if !strings.Contains(env.Error, g.other.ID) || !strings.Contains(env.Error, g.server) || !strings.Contains(env.Error, "not assigned") {
		t.Fatalf("403 message %q must name the agent and the server", env.Error)
	}
	a.as("").do("POST", path, `{}`).expectChallenge(t, false, "missing API key or agent token")
	a.as(contract.AgentTokenPrefix+"neverissued").do("POST", path, `{}`).expectChallenge(t, true, "invalid agent token")
	a.as("mcpk_neverissued").do("POST", path, `{}`).expectChallenge(t, true, "invalid API key")

	// Unassigning takes effect at once: assignments are read per request.
	a.do("PATCH", "/api/agents/"+g.bot.ID, map[string]any{"assignments": []any{}}).expect(t, http.StatusOK, nil)
	a.as(g.botTok).do("POST", path, `{}`).expect(t, http.StatusForbidden, nil)

	assertNotLogged(t, logs.String(), g.botTok, g.otherTok, s.APIKey)
}

// TestAgentTokenExpiryHonouredWhileCached: a token verified before it
// expires is refused once it has, even with a cache that would trust it
// for an hour.
func TestAgentTokenExpiryHonouredWhileCached(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, withEchoGateway(), apitest.WithConfig(func(_ *apitest.Server, cfg *httpapi.Config) {
		cfg.AgentTokenCacheTTL = time.Hour
	}))
	a := newAPI(t, s)
	g := newGatewaySetup(t, a)
	_, tok := g.newToken(t, g.bot.ID, new(time.Now().Add(2*time.Second)))
	path := "/mcp/agents/" + g.bot.ID
	a.as(tok).do("POST", path, `{}`).expect(t, http.StatusOK, nil)
	pollUntilRefused(t, a.as(tok), path)
}

// TestAgentTokenRevokedOnAnotherReplica: a token revoked through a second
// API instance on the same database is refused by the first, which had it
// cached, within its cache's lifetime (SPEC §10: every replica within 5 s;
// the bound itself is TestAgentTokenCacheDiesWithin5s's).
func TestAgentTokenRevokedOnAnotherReplica(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, withEchoGateway())
	first := newAPI(t, s)
	g := newGatewaySetup(t, first)

	st, err := store.Open(s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	replica := httptest.NewServer(httpapi.New(httpapi.Config{Store: st, Keyring: s.Keyring, Secrets: s.Secrets, Gateway: echoGateway{}}))
	t.Cleanup(replica.Close)
	second := &api{t: t, base: replica.URL, key: s.APIKey}

	path := "/mcp/agents/" + g.bot.ID
	first.as(g.botTok).do("POST", path, `{}`).expect(t, http.StatusOK, nil) // now cached by the first
	second.do("DELETE", "/api/agents/"+g.bot.ID+"/tokens/"+g.botToken.ID, nil).expect(t, http.StatusNoContent, nil)
	// the second never cached it, so it refuses it at once
	second.as(g.botTok).do("POST", path, `{}`).expectChallenge(t, true, "unknown, revoked or expired")
	pollUntilRefused(t, first.as(g.botTok), path)
	// the other agent's token is untouched
	first.as(g.otherTok).do("POST", "/mcp/agents/"+g.other.ID, `{}`).expect(t, http.StatusOK, nil)
}

// pollUntilRefused calls path until it is a 401 for an invalid token. The
// deadline is generous: what makes it flip is the cache, not the wait.
func pollUntilRefused(t *testing.T, a *api, path string) {
	t.Helper()
	refused := func() bool {
		r := a.do("POST", path, `{}`)
		if r.status == http.StatusUnauthorized {
			r.expectChallenge(t, true, "unknown, revoked or expired")
			return true
		}
		if r.status != http.StatusOK {
			t.Fatalf("status %d while waiting for the token to be refused: %s", r.status, r.body)
		}
		return false
	}
	if !poll.Until(time.Minute, 50*time.Millisecond, refused) {
		t.Fatal("the token still works a minute later")
	}
}

func assertNotLogged(t *testing.T, logs string, secrets ...string) {
	t.Helper()
	if logs == "" {
		t.Fatal("no logs captured; the check would prove nothing")
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("a token reached the log:\n%s", logs)
		}
	}
}
