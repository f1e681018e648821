package httpapi

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// TestAgentTokenCacheDiesWithin5s: with the default TTL a verified token is
// trusted for less than SPEC §10's 5 s, and never past its own expiry.
func TestAgentTokenCacheDiesWithin5s(t *testing.T) {
	if DefaultAgentTokenCacheTTL >= 5*time.Second {
		t.Fatalf("DefaultAgentTokenCacheTTL = %s: a revoked token would outlive 5 s", DefaultAgentTokenCacheTTL)
	}
	k := newAgentTokenCache(0)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	caller := store.AgentCaller{TenantID: uuid.New(), AgentID: uuid.New(), TokenID: uuid.New()}
	k.putUntil([]byte("h"), caller, t0, nil)
	if got, ok := k.get([]byte("h"), t0.Add(time.Second)); !ok || got != caller {
		t.Fatalf("a second later: %+v, %t; the cache holds nothing", got, ok)
	}
	if _, ok := k.get([]byte("h"), t0.Add(5*time.Second)); ok {
		t.Fatal("still trusted 5 s after it was verified: a revoked token would live on")
	}

	// a token that expires before the TTL is up is refused from then on
	end := t0.Add(time.Second)
	expiring := caller
	expiring.ExpiresAt = &end
	k.putUntil([]byte("e"), expiring, t0, &end)
	if _, ok := k.get([]byte("e"), end.Add(-time.Nanosecond)); !ok {
		t.Fatal("not trusted before its expiry")
	}
	if _, ok := k.get([]byte("e"), end); ok {
		t.Fatal("trusted at its expiry")
	}
	// an expiry after the TTL changes nothing
	late := t0.Add(time.Hour)
	k.putUntil([]byte("l"), caller, t0, &late)
	if _, ok := k.get([]byte("l"), t0.Add(5*time.Second)); ok {
		t.Fatal("a far expiry kept the entry past the TTL")
	}
	if newAgentTokenCache(-1) != nil {
		t.Fatal("a negative TTL must disable the cache")
	}
}
