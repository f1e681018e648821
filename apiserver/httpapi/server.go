// Package httpapi is the HTTP layer of the API server: the Gin router, its
// middleware (request id, access log, panic recovery, body limit, API key
// authentication) and the handlers of /api/mcp-connections, /api/mcp/servers,
// /api/projects, /api/agents and /api/audit-events, and the API's OpenAPI
// document at /openapi.json. It turns HTTP into calls on the store and back; it holds
// no state of its own.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/openapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/ui"
)

// Config is what the HTTP layer needs.
type Config struct {
	// Store holds tenants, API keys and connections.
	Store *store.Store
	// Keyring seals bearer tokens before they reach the store, when Secrets
	// is nil.
	Keyring *secrets.Keyring
	// Secrets keeps every write-only value (SPEC §11); nil means the
	// builtin store over Keyring.
	Secrets secrets.Store
	// Logger receives the access log and internal errors; nil means slog.Default().
	Logger *slog.Logger
	// ConnectionChecker, when set, enables POST /api/mcp-connections/{id}/health-check.
	ConnectionChecker ConnectionChecker
	// ServerChecker, when set, enables POST /api/mcp/servers/{id}/connect and
	// probes new and changed MCP servers in the background.
	ServerChecker ServerChecker
	// AllowPrivateTargets is the outbound policy's (netguard.AllowPrivateEnv):
	// when set, an oauth2.tokenUrl may be plain http on a loopback host.
	AllowPrivateTargets bool
	// StdioCommands are the programs stdio MCP servers may run
	// (health.StdioCommandsEnv); empty disables stdio servers.
	StdioCommands []string
	// RateLimit is the average number of /api requests per second a tenant
	// may send before getting 429s; 0 means no limit.
	RateLimit float64
	// RateBurst is how many requests a tenant may send at once; below 1 it
	// is RateLimit rounded up.
	RateBurst int
	// PublicURL is where clients reach this API (MCP_API_PUBLIC_URL), such
	// as https://mcp.example.com, without a trailing slash: the base of the
	// gateway URLs of proxy servers and agents. Empty means "http://" and
	// the request's Host.
	PublicURL string
	// KeyCacheTTL is how long a verified API key is trusted before it is
	// looked up again, and so how long a revoked key keeps working: 0 means
	// DefaultKeyCacheTTL, a negative value looks every request's key up.
	KeyCacheTTL time.Duration
	// Gateway, when set, serves proxied MCP servers at /mcp/servers/{id}
	// (to callers with a tenant API key or a token of an agent that has the
	// server assigned) and agents at /mcp/agents/{id} (to that agent's
	// tokens).
	Gateway Gateway
	// AgentTokenCacheTTL is how long a verified agent token is trusted
	// before it is looked up again: 0 means DefaultAgentTokenCacheTTL, a
	// negative value looks every request's token up.
	AgentTokenCacheTTL time.Duration
	// GatewayRateLimit is the average number of gateway requests per second
	// an agent (or, for API key callers, an API key) may send before being
	// refused; 0 means no limit.
	GatewayRateLimit float64
	// GatewayRateBurst is how many gateway requests an agent may send at
	// once; below 1 it is GatewayRateLimit rounded up.
	GatewayRateBurst int
	// Metrics, when set, counts and times every request by route template,
	// method and status code.
	Metrics HTTPObserver
}

// serveOpenAPI answers GET /openapi.json with the API's description; it
// needs no key (it holds no tenant data).
func serveOpenAPI(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		doc, err := openapi.JSON()
		if err != nil {
			plainFamily.internalError(c, log, "openapi document", err)
			return
		}
		c.Data(http.StatusOK, "application/json", doc)
	}
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
	if cfg.Secrets == nil && cfg.Keyring != nil {
		cfg.Secrets = secrets.NewBuiltin(cfg.Keyring)
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

	if cfg.Metrics != nil {
		r.Use(observeRequests(cfg.Metrics))
	}
	r.Use(requestID(), accessLog(cfg.Logger), recovery(cfg.Logger), limitBody(), checkQuery())
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
			familyOf(c).unavailable(c)
			return
		}
		body := gin.H{"status": "ok"}
		if cfg.Secrets != nil {
			// A secret store that is down degrades writes that carry a
			// secret, not the API: reads, checks and the gateway go on from
			// the cache, so the replica stays ready.
			state := "ok"
			if err := cfg.Secrets.Check(ctx); err != nil {
				logger(c, cfg.Logger).Warn("secret store degraded", "backend", cfg.Secrets.Backend(), "error", err.Error())
				state = "degraded"
			}
			body["secretStore"] = gin.H{"backend": cfg.Secrets.Backend(), "status": state}
		}
		c.JSON(http.StatusOK, body)
	})
	r.GET(openapi.Path, serveOpenAPI(cfg.Logger))

	// the status page is static: it holds no data and needs no key (its
	// script sends the key the user signs in with to /api)
	page := gin.WrapH(ui.Handler())
	for _, p := range []string{strings.TrimSuffix(ui.Path, "/"), ui.Path + "*file"} {
		r.GET(p, page)
		r.HEAD(p, page)
	}

	// /api and the gateway share one key cache: a key is trusted (and a
	// revoked one refused) alike by both.
	auth := &authenticator{store: cfg.Store, keys: newKeyCache(cfg.KeyCacheTTL),
		tokens: newAgentTokenCache(cfg.AgentTokenCacheTTL), log: cfg.Logger}
	if cfg.Gateway != nil {
		gw := &gatewayRoutes{gateway: cfg.Gateway, agents: cfg.Store, log: cfg.Logger}
		servers := r.Group(gatewayPath, auth.keysOrAgentTokens())
		agents := r.Group(agentGatewayPath, auth.agentTokens())
		// one bucket per agent whichever of its endpoints it calls
		if l := newRateLimiter(cfg.GatewayRateLimit, cfg.GatewayRateBurst); l != nil {
			servers.Use(limitGateway(l))
			agents.Use(limitGateway(l))
		}
		gw.registerServers(servers)
		gw.registerAgents(agents)
	}
	api := r.Group("/api", auth.apiKeys())
	if l := newRateLimiter(cfg.RateLimit, cfg.RateBurst); l != nil {
		api.Use(limitRate(l))
	}
	(&connections{store: cfg.Store, secrets: cfg.Secrets, log: cfg.Logger, checker: cfg.ConnectionChecker,
		allowLoopbackHTTP: cfg.AllowPrivateTargets}).register(api.Group("/mcp-connections"))
	public := publicURL(strings.TrimRight(cfg.PublicURL, "/"))
	(&servers{store: cfg.Store, secrets: cfg.Secrets, log: cfg.Logger, checker: cfg.ServerChecker, commands: cfg.StdioCommands,
		publicURL: public, allowLoopbackHTTP: cfg.AllowPrivateTargets}).register(api.Group("/mcp/servers"))
	(&projects{store: cfg.Store, log: cfg.Logger}).register(api.Group("/projects"))
	(&agents{store: cfg.Store, log: cfg.Logger, publicURL: public}).register(api.Group("/agents"))
	(&auditEvents{store: cfg.Store, log: cfg.Logger}).register(api.Group("/audit-events"))
	return r
}
