package probe

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/oauthtest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// oauthProber is a prober with room for a real authorization server on a
// loaded machine; no assertion depends on the timeout.
func oauthProber() *Prober {
	return New(Options{Timeout: 30 * time.Second, AllowPrivate: true, StdioTerminateDelay: 100 * time.Millisecond})
}

func wantFailure(t *testing.T, res Result, kind contract.ErrorKind, parts ...string) {
	t.Helper()
	wantErr(t, res, parts...)
	t.Logf("%s: %s", res.ErrorKind, res.Err)
	if res.ErrorKind != kind {
		t.Fatalf("kind %q, want %q: %s", res.ErrorKind, kind, res.Err)
	}
}

func TestOAuth2ClientCredentials(t *testing.T) {
	env := startOAuth(t, oauthtest.ProtectedOptions{}, 300*time.Second)
	for _, tc := range []struct {
		name string
		o    OAuth2
	}{
		{"client_secret_basic", OAuth2{TokenURL: env.tokenURL(), ClientID: basicID, ClientSecret: basicSecret, Scopes: []string{"mcp:read"}, Resource: env.mcp.URL}},
		{"client_secret_post", OAuth2{TokenURL: env.tokenURL(), ClientID: postID, ClientSecret: postSecret, Scopes: []string{"mcp:read", "mcp:write"}, AuthMethod: contract.ClientSecretPost, Resource: env.mcp.URL}},
		// Without resource the server's default audience (the MCP server) is used.
		{"default resource", OAuth2{TokenURL: env.tokenURL(), ClientID: basicID, ClientSecret: basicSecret, Scopes: []string{"mcp:read"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := oauthProber()
			before := env.as.TokenRequests(t)
			target := env.target("conn:"+tc.name, tc.o)
			wantOK(t, probe(t, p, target))
			wantOK(t, probe(t, p, target))
			// The token is cached per record: two checks, one token request.
			if n := env.as.TokenRequests(t) - before; n != 1 {
				t.Fatalf("%d token requests for two checks, want 1 (cached)", n)
			}
		})
	}
}

// A changed configuration (here the secret) is a new cache entry: the old
// token is not reused for it.
func TestOAuth2CacheFollowsTheConfiguration(t *testing.T) {
	env := startOAuth(t, oauthtest.ProtectedOptions{}, 300*time.Second)
	p := oauthProber()
	o := OAuth2{TokenURL: env.tokenURL(), ClientID: basicID, ClientSecret: basicSecret, Scopes: []string{"mcp:read"}}
	wantOK(t, probe(t, p, env.target("conn:1", o)))
	o.ClientSecret = "wrong-secret-0123456789"
	res := probe(t, p, env.target("conn:1", o))
	wantFailure(t, res, contract.ErrorAuth, "invalid_client")
	noSecret(t, res.Err, o.ClientSecret, basicSecret)
}

func TestOAuth2ConcurrentSessionsFetchOnce(t *testing.T) {
	env := startOAuth(t, oauthtest.ProtectedOptions{}, 300*time.Second)
	p := oauthProber()
	target := env.target("server:1", OAuth2{TokenURL: env.tokenURL(), ClientID: basicID, ClientSecret: basicSecret, Scopes: []string{"mcp:read"}})
	before := env.as.TokenRequests(t)
	var wg sync.WaitGroup
	results := make([]Result, 8)
	for i := range results {
		wg.Go(func() { results[i] = p.Probe(context.Background(), target) })
	}
	wg.Wait()
	for _, res := range results {
		wantOK(t, res)
	}
	if n := env.as.TokenRequests(t) - before; n != 1 {
		t.Fatalf("%d token requests for 8 concurrent checks, want 1", n)
	}
}

// A token the MCP server stops accepting (revoked, or expired early) is
// dropped on its 401 and the request is sent again with a fresh one.
func TestOAuth2RefreshAfter401(t *testing.T) {
	env := startOAuth(t, oauthtest.ProtectedOptions{}, 300*time.Second)
	p := oauthProber()
	target := env.target("conn:r", OAuth2{TokenURL: env.tokenURL(), ClientID: basicID, ClientSecret: basicSecret, Scopes: []string{"mcp:read"}})
	before := env.as.TokenRequests(t)
	wantOK(t, probe(t, p, target))
	env.mcp.RevokeAll()
	wantOK(t, probe(t, p, target))
	if n := env.as.TokenRequests(t) - before; n != 2 {
		t.Fatalf("%d token requests, want 2 (the first, and one after the 401)", n)
	}
	// The gateway's sessions refresh the same way, mid-session.
	s, err := p.Connect(context.Background(), target, mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	env.mcp.RevokeAll()
	if _, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}}); err != nil {
		t.Fatalf("call after revocation: %v", err)
	}
	if n := env.as.TokenRequests(t) - before; n != 3 {
		t.Fatalf("%d token requests, want 3", n)
	}
}

// Tokens that live a short time are fetched again before they expire: a
// token living 4 s is cached for 2 s, so a check after 2 s fetches anew
// (asserted on the count, not on any time).
func TestOAuth2ShortLifetimeRefetches(t *testing.T) {
	env := startOAuth(t, oauthtest.ProtectedOptions{}, 4*time.Second)
	p := oauthProber()
	target := env.target("conn:s", OAuth2{TokenURL: env.tokenURL(), ClientID: basicID, ClientSecret: basicSecret, Scopes: []string{"mcp:read"}})
	before := env.as.TokenRequests(t)
	wantOK(t, probe(t, p, target))
	time.Sleep(2100 * time.Millisecond)
	wantOK(t, probe(t, p, target))
	if n := env.as.TokenRequests(t) - before; n != 2 {
		t.Fatalf("%d token requests, want 2", n)
	}
}

func TestOAuth2Discovery(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts oauthtest.ProtectedOptions
	}{
		{"resource_metadata in WWW-Authenticate", oauthtest.ProtectedOptions{}},
		{"well-known fallback", oauthtest.ProtectedOptions{NoResourceMetadataParam: true}},
		{"legacy SSE transport", oauthtest.ProtectedOptions{SSE: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := startOAuth(t, tc.opts, 300*time.Second)
			p := oauthProber()
			target := env.target("conn:d", OAuth2{ClientID: basicID, ClientSecret: basicSecret, Scopes: []string{"mcp:read"}})
			if tc.opts.SSE {
				target.Transport = contract.TransportSSE
			}
			wantOK(t, probe(t, p, target))
			wantOK(t, probe(t, p, target))
			// Only the first request of the first check went without a token.
			if _, unauth := env.mcp.Counts(); unauth > 1 {
				t.Fatalf("%d requests without a token, want 1", unauth)
			}
			if n := env.as.TokenRequests(t); n != 1 {
				t.Fatalf("%d token requests, want 1", n)
			}
		})
	}
}

func TestOAuth2Failures(t *testing.T) {
	env := startOAuth(t, oauthtest.ProtectedOptions{}, 300*time.Second)
	good := OAuth2{TokenURL: env.tokenURL(), ClientID: basicID, ClientSecret: basicSecret, Scopes: []string{"mcp:read"}}
	with := func(f func(*OAuth2)) OAuth2 { o := good; f(&o); return o }
	html := mcptest.StartHTML(t)
	hung := mcptest.StartHung(t)
	elsewhere := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(elsewhere.Close)
	redirect := mcptest.StartRedirect(t, elsewhere.URL+"/token", http.StatusTemporaryRedirect)
	for _, tc := range []struct {
		name  string
		o     OAuth2
		kind  contract.ErrorKind
		parts []string
	}{
		{"invalid_client", with(func(o *OAuth2) { o.ClientSecret = "not-the-secret-987654" }), contract.ErrorAuth,
			[]string{"refused the token request: invalid_client (client authentication failed)", "check clientId, clientSecret and tokenEndpointAuthMethod"}},
		{"invalid_client by post", with(func(o *OAuth2) { o.ClientSecret = "not-the-secret-987654"; o.AuthMethod = contract.ClientSecretPost }), contract.ErrorAuth,
			[]string{"invalid_client", "client_secret_post was used"}},
		{"invalid_scope", with(func(o *OAuth2) { o.Scopes = []string{"mcp:write"} }), contract.ErrorAuth,
			[]string{"invalid_scope (requested scope is not allowed)", "check scopes (mcp:write)"}},
		{"invalid_target", with(func(o *OAuth2) { o.Resource = "https://unknown.example/" }), contract.ErrorAuth,
			[]string{"invalid_target", "check resource"}},
		{"token rejected by the MCP server", with(func(o *OAuth2) { o.Resource = otherResource }), contract.ErrorAuth,
			[]string{"HTTP 401", "fetched fresh after its first 401", "check scopes, audience and resource"}},
		{"token endpoint unreachable", with(func(o *OAuth2) { o.TokenURL = mcptest.ClosedURL(t) }), contract.ErrorUnreachable,
			[]string{"the token endpoint", "connection refused"}},
		{"token endpoint not https", with(func(o *OAuth2) { o.TokenURL = "http://auth.example/token" }), contract.ErrorAuth,
			[]string{"tokenUrl http://auth.example/token is not https"}},
		{"token endpoint answers HTML", with(func(o *OAuth2) { o.TokenURL = html.URL }), contract.ErrorAuth,
			[]string{"answered HTTP 200 with an HTML page, not an OAuth 2.0 token response: check tokenUrl"}},
		{"token endpoint redirects", with(func(o *OAuth2) { o.TokenURL = redirect.URL }), contract.ErrorAuth,
			[]string{"redirected to " + elsewhere.URL + "/token", "use the final URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := probe(t, oauthProber(), env.target("conn:f", tc.o))
			wantFailure(t, res, tc.kind, tc.parts...)
			noSecret(t, res.Err, tc.o.ClientSecret, basicSecret)
		})
	}
	t.Run("slow token endpoint", func(t *testing.T) {
		p := New(Options{Timeout: testTimeout, AllowPrivate: true})
		o := with(func(o *OAuth2) { o.TokenURL = hung.URL })
		res := probe(t, p, env.target("conn:slow", o))
		if res.ErrorKind != contract.ErrorTimeout || !strings.Contains(res.Err, "the token endpoint") {
			t.Fatalf("want a timeout naming the token endpoint: %+v", res)
		}
		noSecret(t, res.Err, basicSecret)
	})
}

// A token answer without expires_in is used (and cached a short default).
func TestOAuth2TokenWithoutExpiry(t *testing.T) {
	const token = "opaque-token-without-expiry"
	var requests int
	var mu sync.Mutex
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		_ = r.ParseForm()
		if id, secret, _ := r.BasicAuth(); id != "c" || secret != "s%2Fx" || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("scope") != "a b" || r.PostForm.Get("audience") != "aud" || r.PostForm.Get("resource") != "https://r.example/" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"error":"invalid_request","error_description":"unexpected form %v"}`, r.PostForm)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": token, "token_type": "bearer"})
	}))
	t.Cleanup(as.Close)
	srv := mcptest.StartHTTP(t, mcptest.Config{BearerToken: token})
	p := oauthProber()
	target := Target{Transport: contract.TransportHTTP, URL: srv.URL, Key: "conn:x", OAuth2: &OAuth2{
		TokenURL: as.URL, ClientID: "c", ClientSecret: "s/x", Scopes: []string{"a", "b"}, Audience: "aud", Resource: "https://r.example/"}}
	wantOK(t, probe(t, p, target))
	wantOK(t, probe(t, p, target))
	if requests != 1 {
		t.Fatalf("%d token requests, want 1", requests)
	}
	if d := lifetime(nil); d != defaultTokenLifetime {
		t.Fatalf("lifetime without expires_in %s, want %s", d, defaultTokenLifetime)
	}
}

func TestOAuth2DiscoveryFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  oauthtest.ProtectedOptions
		parts []string
	}{
		{"no authorization_servers", oauthtest.ProtectedOptions{Metadata: `{"resource":"x"}`}, []string{"lists no authorization_servers", "set oauth2.tokenUrl"}},
		{"malformed metadata", oauthtest.ProtectedOptions{Metadata: `{"authorization_servers":`}, []string{"is not valid JSON metadata", "set oauth2.tokenUrl"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := startOAuth(t, tc.opts, 300*time.Second)
			res := probe(t, oauthProber(), env.target("conn:df", OAuth2{ClientID: basicID, ClientSecret: basicSecret}))
			wantFailure(t, res, contract.ErrorAuth, tc.parts...)
			noSecret(t, res.Err, basicSecret)
		})
	}
	t.Run("no metadata at all", func(t *testing.T) {
		// A server that asks for a token but publishes no metadata.
		srv := mcptest.StartHTTP(t, mcptest.Config{BearerToken: "whatever-token"})
		res := probe(t, oauthProber(), Target{Transport: contract.TransportHTTP, URL: srv.URL, OAuth2: &OAuth2{ClientID: "c", ClientSecret: "secret-abcdef"}})
		wantFailure(t, res, contract.ErrorAuth, "no protected resource metadata found", "/.well-known/oauth-protected-resource/mcp", "set oauth2.tokenUrl")
	})
	t.Run("authorization server without metadata", func(t *testing.T) {
		empty := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(empty.Close)
		env := startOAuth(t, oauthtest.ProtectedOptions{Metadata: fmt.Sprintf(`{"resource":"x","authorization_servers":[%q]}`, empty.URL+"/tenant")}, 300*time.Second)
		res := probe(t, oauthProber(), env.target("conn:df", OAuth2{ClientID: basicID, ClientSecret: basicSecret}))
		wantFailure(t, res, contract.ErrorAuth, "no authorization server metadata found",
			empty.URL+"/.well-known/oauth-authorization-server/tenant", empty.URL+"/tenant/.well-known/openid-configuration")
	})
}

func TestChallengeParam(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{`Bearer resource_metadata="https://a/b", scope="x"`, "https://a/b"},
		{`Bearer scope="x", resource_metadata=https://a/c`, "https://a/c"},
		{`Bearer error="invalid_token", x_resource_metadata="no"`, ""},
		{`Bearer resource_metadata="q\"uote"`, `q"uote`},
	} {
		if got := challengeParam([]string{tc.header}, "resource_metadata"); got != tc.want {
			t.Errorf("challengeParam(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

// An https token endpoint under the same private CA as the MCP server is
// trusted through tls.caBundle (httptest's TLS servers share one certificate).
func TestOAuth2TokenEndpointUnderThePrivateCA(t *testing.T) {
	const token = "token-from-a-private-ca"
	as := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, token)
	}))
	t.Cleanup(as.Close)
	srv := mcptest.StartHTTP(t, mcptest.Config{BearerToken: token, TLS: true})
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: as.Certificate().Raw}))
	target := Target{Transport: contract.TransportHTTP, URL: srv.URL, OAuth2: &OAuth2{TokenURL: as.URL + "/token", ClientID: "c", ClientSecret: "secret-under-ca"}}
	res := probe(t, oauthProber(), target)
	wantFailure(t, res, contract.ErrorTLS, "the token endpoint "+as.URL+"/token: TLS error: the server's certificate for 127.0.0.1:", "set tls.caBundle")
	target.TLS = &TLS{CABundle: ca}
	wantOK(t, probe(t, oauthProber(), target))
}

// The access token goes only over https, like the client secret.
func TestOAuth2NeedsAnHTTPSEndpoint(t *testing.T) {
	res := probe(t, oauthProber(), Target{Transport: contract.TransportHTTP, URL: "http://mcp.example/mcp",
		OAuth2: &OAuth2{TokenURL: "https://login.example/token", ClientID: "c", ClientSecret: "s-0123456789"}})
	wantFailure(t, res, contract.ErrorAuth, "server URL http://mcp.example/mcp is not https")
}
