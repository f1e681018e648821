package secrets

import (
	"bytes"
	"context"
	"sync"
	"time"
)

// DefaultCacheTTL is how long a Cached store keeps a value it read or
// wrote: long enough to ride out a short outage of the backend, short
// enough that a secret changed or revoked at the backend is not used for
// long.
const DefaultCacheTTL = 10 * time.Minute

// maxCached bounds how many values a Cached store holds; past it the
// oldest entries go first.
const maxCached = 10000

// Cached is a Store that keeps the values it reads and writes in memory
// (never on disk) for a bounded time, so reads, checks and gateway calls
// keep working while the backend is down. Everything but Get and Put goes
// straight to the backend.
type Cached struct {
	Store
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	value, aad []byte
	at         time.Time
}

var _ Store = (*Cached)(nil)

// NewCached wraps backend with a cache whose entries expire ttl after they
// were read or written (DefaultCacheTTL when ttl is 0 or less).
func NewCached(backend Store, ttl time.Duration) *Cached {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	return &Cached{Store: backend, ttl: ttl, now: time.Now, entries: map[string]cacheEntry{}}
}

// cacheKey is the Ref itself: a Ref never changes once written.
func cacheKey(ref Ref) string { return ref.KeyID + "\x00" + string(ref.Data) }

// Put writes through and remembers the value.
func (c *Cached) Put(ctx context.Context, name string, value, aad []byte) (Ref, error) {
	ref, err := c.Store.Put(ctx, name, value, aad)
	if err == nil {
		c.remember(ref, value, aad)
	}
	return ref, err
}

// Get answers from memory while the entry is fresh, and from the backend
// otherwise.
func (c *Cached) Get(ctx context.Context, ref Ref, aad []byte) ([]byte, error) {
	key := cacheKey(ref)
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok && c.now().Sub(e.at) >= c.ttl {
		delete(c.entries, key)
		clear(e.value)
		ok = false
	}
	c.mu.Unlock()
	if ok {
		if !bytes.Equal(e.aad, aad) {
			return nil, ErrDecrypt
		}
		return bytes.Clone(e.value), nil
	}
	v, err := c.Store.Get(ctx, ref, aad)
	if err == nil {
		c.remember(ref, v, aad)
	}
	return v, err
}

// Delete forgets ref and deletes it at the backend.
func (c *Cached) Delete(ctx context.Context, ref Ref) error {
	c.mu.Lock()
	if e, ok := c.entries[cacheKey(ref)]; ok {
		clear(e.value)
		delete(c.entries, cacheKey(ref))
	}
	c.mu.Unlock()
	return c.Store.Delete(ctx, ref)
}

// Len is how many values are cached now, for tests.
func (c *Cached) Len() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.entries) }

func (c *Cached) remember(ref Ref, value, aad []byte) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCached {
		c.evict(now)
	}
	c.entries[cacheKey(ref)] = cacheEntry{value: bytes.Clone(value), aad: bytes.Clone(aad), at: now}
}

// evict drops the expired entries, and if none has expired the oldest
// tenth, so the cache stays bounded.
func (c *Cached) evict(now time.Time) {
	var oldest time.Time
	for k, e := range c.entries {
		if now.Sub(e.at) >= c.ttl {
			clear(e.value)
			delete(c.entries, k)
		} else if oldest.IsZero() || e.at.Before(oldest) {
			oldest = e.at
		}
	}
	if len(c.entries) < maxCached {
		return
	}
	cut := oldest.Add(c.ttl / 10)
	for k, e := range c.entries {
		if !e.at.After(cut) {
			clear(e.value)
			delete(c.entries, k)
		}
	}
}
