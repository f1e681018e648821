package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/reqid"
)

// Keys of values the middleware leaves on the Gin context.
const (
	keyRequestID = "httpapi.request_id"
	keyTenant    = "httpapi.tenant_id"
	keyAPIKeyID  = "httpapi.api_key_id"
)

// HeaderRequestID carries the id that ties a request to its log lines.
const HeaderRequestID = reqid.Header

// maxRequestIDLength bounds an incoming request id: it is echoed and logged,
// so an unbounded one would let a client bloat both.
const maxRequestIDLength = 128

// maxAPIKeyLength bounds what is worth hashing and looking up; no issued key
// comes close.
const maxAPIKeyLength = 512

// requestID honours a well-formed incoming X-Request-Id (so a caller's or a
// proxy's id carries through) and otherwise mints one; either way it is
// echoed on the response. The request's context carries it too (reqid), so
// that the checks and gateway calls the request causes log it; and so does
// the request's header, which is all the MCP SDK passes on to the gateway's
// handlers of a session's later requests.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(HeaderRequestID)
		if !validRequestID(id) {
			id = uuid.NewString()
			c.Request.Header.Set(HeaderRequestID, id)
		}
		c.Set(keyRequestID, id)
		c.Header(HeaderRequestID, id)
		c.Request = c.Request.WithContext(reqid.With(c.Request.Context(), id))
		c.Next()
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// logger returns base annotated with the request's id.
func logger(c *gin.Context, base *slog.Logger) *slog.Logger {
	return base.With("request_id", c.GetString(keyRequestID))
}

// accessLog writes one line per request. It records the route template
// rather than the raw URL, so neither ids nor query strings (which might hold
// secrets) reach the log, and it never touches headers or bodies.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		path := c.FullPath()
		if path == "" {
			path = c.Request.URL.Path
		}
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case path == "/healthz" || path == "/readyz":
			// orchestrators poll these every few seconds
			level = slog.LevelDebug
		}
		// The record is made here rather than by log.LogAttrs, which
		// walks the stack for the caller's source position on every line
		// even when the handler prints none: a tenth of the line's cost.
		ctx, h := c.Request.Context(), log.Handler()
		if !h.Enabled(ctx, level) {
			return
		}
		r := slog.NewRecord(time.Now(), level, "request", 0)
		// Up to five attributes are kept in the record itself; the tenant
		// is the sixth.
		r.AddAttrs(
			slog.String("method", c.Request.Method),
			slog.String("path", path),
			slog.Int("status", status),
			slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("request_id", c.GetString(keyRequestID)),
		)
		if tenant, ok := authenticated(c); ok {
			r.AddAttrs(slog.String("tenant_id", tenant.String()))
		}
		_ = h.Handle(ctx, r)
	}
}

// recovery turns a panic into a logged error and a 500 without internals.
// The log line carries the stack but nothing from the request beyond its
// method, route and id.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				// net/http's way to abort a response; it logs nothing for it
				panic(v)
			}
			logger(c, log).Error("panic in handler",
				"method", c.Request.Method,
				"path", c.FullPath(),
				"panic", fmt.Sprint(v),
				"stack", string(debug.Stack()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			abortError(c, http.StatusInternalServerError, "internal error")
		}()
		c.Next()
	}
}

// limitBody caps request bodies at contract.MaxBodyBytes. A declared length
// over the cap is refused before reading; otherwise the reader fails with
// *http.MaxBytesError, which the JSON decoding turns into a 413.
func limitBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		// The gateway's MCP messages have a cap of their own.
		if isGatewayPath(c.Request.URL.Path) {
			c.Next()
			return
		}
		if c.Request.ContentLength > contract.MaxBodyBytes {
			abortError(c, http.StatusRequestEntityTooLarge, msgBodyTooLarge)
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, contract.MaxBodyBytes)
		c.Next()
	}
}

// authenticator resolves bearer credentials: tenant API keys for /api and
// the gateway, agent tokens for the gateway (agent_auth.go). Each cache
// may be nil (no cache).
type authenticator struct {
	store  *store.Store
	keys   *keyCache
	tokens *agentTokenCache
	log    *slog.Logger
}

// apiKeys resolves "Authorization: Bearer <api key>" to a tenant and the
// key's id (which audit events name).
func (a *authenticator) apiKeys() gin.HandlerFunc {
	return func(c *gin.Context) {
		key, ok := bearer(c, "API key", "api key")
		if !ok {
			return
		}
		if a.checkAPIKey(c, key) {
			c.Next()
		}
	}
}

// bearer is the request's bearer credential; when there is none, or it is
// malformed, it answers 401 naming what to send (such as "API key", shown
// as placeholder in the header's example), and reports false.
func bearer(c *gin.Context, what, placeholder string) (string, bool) {
	header := c.GetHeader("Authorization")
	if header == "" {
		unauthorized(c, fmt.Sprintf(`missing %s: send the header "Authorization: Bearer <%s>"`, what, placeholder), false)
		return "", false
	}
	scheme, cred, ok := strings.Cut(header, " ")
	cred = strings.TrimSpace(cred)
	if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" {
		unauthorized(c, fmt.Sprintf(`malformed Authorization header: expected "Bearer <%s>"`, placeholder), false)
		return "", false
	}
	return cred, true
}

// checkAPIKey looks key up and leaves its tenant and id on c; when it is
// not a valid key, or the lookup fails, it answers and reports false.
func (a *authenticator) checkAPIKey(c *gin.Context, key string) bool {
	if len(key) > maxAPIKeyLength {
		unauthorized(c, "invalid API key", true)
		return false
	}
	found, ok := lookUpCredential(a, c, a.keys, key, a.store.APIKeyForHash, func(store.APIKey) *time.Time { return nil }, "invalid API key")
	if !ok {
		return false
	}
	c.Set(keyTenant, found.TenantID)
	c.Set(keyAPIKeyID, found.ID)
	return true
}

// lookUpCredential finds what the credential cred stands for: in cache,
// or else by lookup, after which the cache keeps it until end says (nil:
// for the cache's ttl). When it is unknown, it answers a 401 with the
// message unknown; when the lookup fails, a 503 or 500; both report false.
func lookUpCredential[V any](a *authenticator, c *gin.Context, cache *credentialCache[V], cred string,
	lookup func(context.Context, []byte) (V, error), end func(V) *time.Time, unknown string,
) (V, bool) {
	hash := secrets.HashAPIKey(cred)
	found, ok := cache.get(hash, time.Now())
	if ok {
		return found, true
	}
	found, err := lookup(c.Request.Context(), hash)
	switch {
	case err == nil:
		cache.putUntil(hash, found, time.Now(), end(found))
		return found, true
	case errors.Is(err, store.ErrNotFound):
		unauthorized(c, unknown, true)
	default:
		a.lookupFailed(c, err)
	}
	var zero V
	return zero, false
}

// lookupFailed answers a credential lookup that failed for want of the
// database (503) or otherwise (500).
func (a *authenticator) lookupFailed(c *gin.Context, err error) {
	if errors.Is(err, store.ErrUnavailable) {
		logger(c, a.log).Warn("authentication: database unavailable", "error", err.Error())
		familyOf(c).unavailable(c)
		return
	}
	familyOf(c).internalError(c, a.log, "authentication", err)
}

func unauthorized(c *gin.Context, msg string, invalidToken bool) {
	challenge := `Bearer realm="mcp-api"`
	if invalidToken {
		challenge += `, error="invalid_token"`
	}
	c.Header("WWW-Authenticate", challenge)
	abortError(c, http.StatusUnauthorized, msg)
}

// authenticated returns the tenant authenticate stored, if it ran and passed.
func authenticated(c *gin.Context) (uuid.UUID, bool) {
	v, _ := c.Get(keyTenant)
	id, ok := v.(uuid.UUID)
	return id, ok
}

// apiKeyOf is the id of the caller's API key in handlers; uuid.Nil if
// authenticate did not run.
func apiKeyOf(c *gin.Context) uuid.UUID {
	v, _ := c.Get(keyAPIKeyID)
	id, _ := v.(uuid.UUID)
	return id
}

// tenantOf is the caller's tenant in handlers, which all sit behind
// authenticate; uuid.Nil (which owns nothing) if one ever did not.
func tenantOf(c *gin.Context) uuid.UUID {
	id, _ := authenticated(c)
	return id
}
