package httpapi_test

import (
	"context"
	"database/sql"
	"net/http"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/internal/poll"
)

func withKeyCacheTTL(ttl time.Duration) apitest.Option {
	return apitest.WithConfig(func(_ *apitest.Server, cfg *httpapi.Config) { cfg.KeyCacheTTL = ttl })
}

// revoke revokes an API key the way an operator does, in the database; the
// store has no call for it.
func revoke(t *testing.T, s *apitest.Server, key string) {
	t.Helper()
	db, err := sql.Open("postgres", s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1`, secrets.HashAPIKey(key))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("revoked %d keys, want 1", n)
	}
}

// TestRevokedKeyStopsWorking: with the cache a revoked key works until its
// entry expires, then never again.
func TestRevokedKeyStopsWorking(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, withKeyCacheTTL(200*time.Millisecond))
	a := newAPI(t, s)
	a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, nil)
	revoke(t, s, s.APIKey)
	// generous bound; the TTL is what makes it flip
	refused := func() bool { return a.do("GET", "/api/mcp-connections", nil).status == http.StatusUnauthorized }
	if !poll.Until(time.Minute, 20*time.Millisecond, refused) {
		t.Fatal("a revoked key still works a minute later")
	}
	a.do("GET", "/api/mcp-connections", nil).expectError(t, http.StatusUnauthorized, "invalid API key")
}

// TestKeyCacheServesVerifiedKeys shows the cache at work: with a long TTL a
// key verified once is not looked up again, so its revocation is not seen.
// That is the trade-off DefaultKeyCacheTTL bounds.
func TestKeyCacheServesVerifiedKeys(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, withKeyCacheTTL(time.Hour))
	a := newAPI(t, s)
	a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, nil)
	revoke(t, s, s.APIKey)
	a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, nil)
}

func TestKeyCacheDisabled(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, withKeyCacheTTL(-1))
	a := newAPI(t, s)
	a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, nil)
	revoke(t, s, s.APIKey)
	a.do("GET", "/api/mcp-connections", nil).expectError(t, http.StatusUnauthorized, "invalid API key")
}

// TestUnknownKeysAreNotCached: a key refused once works as soon as it
// exists, so a client that raced its key's creation is not locked out.
func TestUnknownKeysAreNotCached(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, withKeyCacheTTL(time.Hour))
	a := newAPI(t, s).as("mcpk_not_yet_issued")
	a.do("GET", "/api/mcp-connections", nil).expectError(t, http.StatusUnauthorized, "invalid API key")
	if err := s.Store.CreateAPIKey(context.Background(), s.TenantID, secrets.HashAPIKey("mcpk_not_yet_issued")); err != nil {
		t.Fatal(err)
	}
	a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, nil)
}
