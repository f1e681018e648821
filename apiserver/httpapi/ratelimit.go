package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"golang.org/x/time/rate"
)

// sweepInterval is how often the limiter drops the buckets of tenants that
// have gone quiet, so the map does not grow with every tenant ever seen.
const sweepInterval = time.Minute

// rateLimiter keeps a token bucket per tenant: each tenant may send burst
// requests at once and perSecond on average after that.
type rateLimiter struct {
	perSecond rate.Limit
	burst     int

	mu        sync.Mutex
	buckets   map[uuid.UUID]*rate.Limiter
	lastSweep time.Time
}

// newRateLimiter returns nil, meaning no limit, when perSecond is not
// positive. A burst below 1 becomes the rate rounded up, at least 1: a bucket
// that cannot hold one token would refuse everything.
func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	if perSecond <= 0 || math.IsNaN(perSecond) || math.IsInf(perSecond, 0) {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(math.Min(math.Ceil(perSecond), math.MaxInt32)))
	}
	return &rateLimiter{perSecond: rate.Limit(perSecond), burst: burst, buckets: map[uuid.UUID]*rate.Limiter{}}
}

// allow takes a token from tenant's bucket at now. When there is none it
// reports how long until there will be.
func (l *rateLimiter) allow(tenant uuid.UUID, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	if now.Sub(l.lastSweep) >= sweepInterval {
		l.sweep(now)
	}
	b, ok := l.buckets[tenant]
	if !ok {
		b = rate.NewLimiter(l.perSecond, l.burst)
		l.buckets[tenant] = b
	}
	l.mu.Unlock()

	if b.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - b.TokensAt(now)
	return false, time.Duration(missing / float64(l.perSecond) * float64(time.Second))
}

// sweep drops full buckets. A full bucket is exactly what a new tenant
// gets, so forgetting one changes nothing but memory. l.mu is held.
func (l *rateLimiter) sweep(now time.Time) {
	for tenant, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, tenant)
		}
	}
	l.lastSweep = now
}

// size is the number of buckets held.
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// limitRate answers 429 with Retry-After (whole seconds, at least 1) once
// the caller's tenant is over its rate. It runs after authenticate: the
// limit is per tenant, and unauthenticated requests cost one key lookup and
// are not counted.
func limitRate(l *rateLimiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		tenant, ok := authenticated(c)
		if !ok {
			c.Next()
			return
		}
		allowed, wait := l.allow(tenant, time.Now())
		if allowed {
			c.Next()
			return
		}
		secs := max(1, int64(math.Ceil(wait.Seconds())))
		c.Header("Retry-After", strconv.FormatInt(secs, 10))
		abortError(c, http.StatusTooManyRequests, fmt.Sprintf(
			"rate limit exceeded: %s requests per second per tenant; retry after %ds",
			strconv.FormatFloat(float64(l.perSecond), 'f', -1, 64), secs))
	}
}
