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

// keyCache remembers which key, of which tenant, an API key hash is, so that
// authenticating a request does not cost a database round trip each time:
// profiling showed that lookup was half of the database work of a GET. Only
// keys that were found are remembered, each for ttl, which bounds how long a
// revocation takes to apply; unknown keys always go to the database.
type keyCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[string]keyEntry // by key hash
}

type keyEntry struct {
	key     store.APIKey
	expires time.Time
}

// newKeyCache returns a cache with the given TTL: 0 means
// DefaultKeyCacheTTL, and a negative one disables caching (nil).
func newKeyCache(ttl time.Duration) *keyCache {
	switch {
	case ttl < 0:
		return nil
	case ttl == 0:
		ttl = DefaultKeyCacheTTL
	}
	return &keyCache{ttl: ttl, max: keyCacheSize, entries: map[string]keyEntry{}}
}

// get returns the key of the hash if it was verified less than ttl before
// now. A nil cache holds nothing.
func (k *keyCache) get(hash []byte, now time.Time) (store.APIKey, bool) {
	if k == nil {
		return store.APIKey{}, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.entries[string(hash)]
	if !ok {
		return store.APIKey{}, false
	}
	if !now.Before(e.expires) {
		delete(k.entries, string(hash))
		return store.APIKey{}, false
	}
	return e.key, true
}

// put records that the hash was key at now.
func (k *keyCache) put(hash []byte, key store.APIKey, now time.Time) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.entries[string(hash)]; !ok && len(k.entries) >= k.max {
		k.makeRoom(now)
	}
	k.entries[string(hash)] = keyEntry{key: key, expires: now.Add(k.ttl)}
}

// makeRoom drops expired entries, and if that frees nothing, some others:
// a dropped key costs one lookup, so which ones go hardly matters. k.mu is
// held.
func (k *keyCache) makeRoom(now time.Time) {
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
func (k *keyCache) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.entries)
}
