// Package httpapi is the HTTP layer of the API server: the Gin router, its
// middleware (request id, access log, panic recovery, body limit, API key
// authentication) and the handlers of /api/mcp-connections. It turns HTTP into
// calls on the store and back; it holds no state of its own.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// Checker runs a health check of one connection now and returns the stored
// result. It backs POST /api/mcp-connections/{id}/health-check.
type Checker interface {
	Check(ctx context.Context, tenantID, id uuid.UUID) (store.Connection, error)
}

// Config is what the HTTP layer needs.
type Config struct {
	// Store holds tenants, API keys and connections.
	Store *store.Store
	// Keyring seals bearer tokens before they reach the store.
	Keyring *secrets.Keyring
	// Logger receives the access log and internal errors; nil means slog.Default().
	Logger *slog.Logger
	// Checker, when set, enables POST /api/mcp-connections/{id}/health-check.
	Checker Checker
}

// readyTimeout bounds the database ping of /readyz so a hung database makes
// the probe fail rather than hang.
const readyTimeout = 2 * time.Second

// New returns the API's HTTP handler.
func New(cfg Config) http.Handler {
	return newEngine(cfg)
}

func newEngine(cfg Config) *gin.Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// Debug mode prints route tables and warnings to stdout; the mode is a
	// process-wide setting in Gin, stored atomically.
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// An API answers what it was asked: no redirects to a "fixed" path, and a
	// wrong method is a 405 with Allow rather than a 404.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = true

	r.Use(requestID(), accessLog(cfg.Logger), recovery(cfg.Logger), limitBody())
	r.NoRoute(func(c *gin.Context) {
		abortError(c, http.StatusNotFound, "no route for "+c.Request.Method+" "+c.Request.URL.Path)
	})
	r.NoMethod(func(c *gin.Context) {
		abortError(c, http.StatusMethodNotAllowed, "method "+c.Request.Method+" is not allowed on "+c.Request.URL.Path+"; allowed: "+c.Writer.Header().Get("Allow"))
	})

	r.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	r.GET("/readyz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
		defer cancel()
		if err := cfg.Store.Ping(ctx); err != nil {
			logger(c, cfg.Logger).Warn("readiness check failed", "error", err.Error())
			unavailable(c)
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})

	h := &connections{store: cfg.Store, keyring: cfg.Keyring, log: cfg.Logger, checker: cfg.Checker}
	api := r.Group("/api", authenticate(cfg.Store, cfg.Logger))
	h.register(api.Group("/mcp-connections"))
	return r
}
