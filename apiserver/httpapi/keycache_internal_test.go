package httpapi

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// The cache is tested with explicit instants, never the clock.

func TestKeyCacheExpires(t *testing.T) {
	k := newKeyCache(5 * time.Second)
	tenant := uuid.New()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, ok := k.get([]byte("h"), t0); ok {
		t.Fatal("empty cache returned a tenant")
	}
	k.put([]byte("h"), store.APIKey{TenantID: tenant}, t0)
	if got, ok := k.get([]byte("h"), t0.Add(5*time.Second-time.Nanosecond)); !ok || got.TenantID != tenant {
		t.Fatalf("within the TTL: %v, %t", got, ok)
	}
	if _, ok := k.get([]byte("h"), t0.Add(5*time.Second)); ok {
		t.Fatal("returned a tenant after the TTL: a revoked key would live on")
	}
	if k.size() != 0 {
		t.Fatalf("expired entry kept: size %d", k.size())
	}
	if _, ok := k.get([]byte("other"), t0); ok {
		t.Fatal("returned a tenant for another hash")
	}
}

func TestKeyCacheIsBounded(t *testing.T) {
	k := newKeyCache(time.Minute)
	k.max = 3
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k.put([]byte("old"), store.APIKey{TenantID: uuid.New()}, t0)
	later := t0.Add(time.Minute)
	for _, h := range []string{"a", "b", "c", "d", "e"} {
		k.put([]byte(h), store.APIKey{TenantID: uuid.New()}, later)
		if k.size() > k.max {
			t.Fatalf("size %d over the bound %d", k.size(), k.max)
		}
	}
	if _, ok := k.get([]byte("e"), later); !ok {
		t.Fatal("the newest entry was dropped to make room for itself")
	}
}

func TestKeyCacheOff(t *testing.T) {
	k := newKeyCache(-1)
	if k != nil {
		t.Fatal("a negative TTL must disable the cache")
	}
	k.put([]byte("h"), store.APIKey{TenantID: uuid.New()}, time.Now())
	if _, ok := k.get([]byte("h"), time.Now()); ok {
		t.Fatal("a disabled cache returned a tenant")
	}
	if newKeyCache(0).ttl != DefaultKeyCacheTTL {
		t.Fatal("TTL 0 must mean the default")
	}
}
