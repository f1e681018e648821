package httpapi

import (
	"sync"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// DefaultKeyCacheTTL is how long a verified API key is trusted without
// asking the database again, and so how long a revoked key may keep working.
const DefaultKeyCacheTTL = 5 * time.Second

// keyCacheSize bounds the cache; past it, entries are dropped to make room.
const keyCacheSize = 10_000

// credentialCache remembers what a credential's hash (an API key's, an
// agent token's) stood for when the database last confirmed it, so that
// authenticating a request does not cost a database round trip each time:
// profiling showed that lookup was half of the database work of a GET. Only
// credentials that were found are remembered, each for ttl at most, which
// bounds how long a revocation takes to apply; unknown ones always go to the
// database.
type credentialCache[V any] struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[string]cacheEntry[V] // by hash
}

type cacheEntry[V any] struct {
	value   V
	expires time.Time
}

// keyCache is the cache of API keys.
type keyCache = credentialCache[store.APIKey]

// newKeyCache returns a cache with the given TTL: 0 means
// DefaultKeyCacheTTL, and a negative one disables caching (nil).
func newKeyCache(ttl time.Duration) *keyCache {
	return newCredentialCache[store.APIKey](ttl, DefaultKeyCacheTTL)
}

// newCredentialCache returns a cache with the given TTL: 0 means def, and
// a negative one disables caching (nil).
func newCredentialCache[V any](ttl, def time.Duration) *credentialCache[V] {
	switch {
	case ttl < 0:
		return nil
	case ttl == 0:
		ttl = def
	}
	return &credentialCache[V]{ttl: ttl, max: keyCacheSize, entries: map[string]cacheEntry[V]{}}
}

// get returns the value of the hash if it was confirmed less than ttl
// before now (and its own end, if put gave one, is after now). A nil cache
// holds nothing.
func (k *credentialCache[V]) get(hash []byte, now time.Time) (V, bool) {
	var zero V
	if k == nil {
		return zero, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.entries[string(hash)]
	if !ok {
		return zero, false
	}
	if !now.Before(e.expires) {
		delete(k.entries, string(hash))
		return zero, false
	}
	return e.value, true
}

// put records that the hash was v at now.
func (k *credentialCache[V]) put(hash []byte, v V, now time.Time) {
	k.putUntil(hash, v, now, nil)
}

// putUntil records that the hash was v at now, and that the credential
// ends at end (if not nil): the entry does not outlive it.
func (k *credentialCache[V]) putUntil(hash []byte, v V, now time.Time, end *time.Time) {
	if k == nil {
		return
	}
	expires := now.Add(k.ttl)
	if end != nil && end.Before(expires) {
		expires = *end
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.entries[string(hash)]; !ok && len(k.entries) >= k.max {
		k.makeRoom(now)
	}
	k.entries[string(hash)] = cacheEntry[V]{value: v, expires: expires}
}

// makeRoom drops expired entries, and if that frees nothing, some others:
// a dropped credential costs one lookup, so which ones go hardly matters.
// k.mu is held.
func (k *credentialCache[V]) makeRoom(now time.Time) {
	for h, e := range k.entries {
		if !now.Before(e.expires) {
			delete(k.entries, h)
		}
	}
	for h := range k.entries {
		if len(k.entries) < k.max {
			return
		}
		delete(k.entries, h)
	}
}

// size is the number of entries held.
func (k *credentialCache[V]) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.entries)
}
