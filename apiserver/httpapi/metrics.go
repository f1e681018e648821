package httpapi

import (
	"time"

	"github.com/gin-gonic/gin"
)

// HTTPObserver counts and times the requests the API answers;
// *metrics.Metrics is one. route is the matched route's template (such as
// /api/mcp-connections/:id), never the raw path, and "" when no route
// matched, so what it is told is bounded.
type HTTPObserver interface {
	ObserveHTTP(route, method string, code int, d time.Duration)
}

// observeRequests tells o of each request once it is answered. It runs
// first, outside the panic recovery, so a panic's 500 is counted too.
func observeRequests(o HTTPObserver) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		o.ObserveHTTP(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
	}
}
