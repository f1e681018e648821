package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/gateway"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// DefaultAgentTokenCacheTTL is how long a verified agent token is trusted
// without asking the database again. SPEC §10 wants a revoked or expired
// token refused by every replica within 5 s; 4 s leaves a second for the
// revocation's own commit and the request in flight. An entry also ends
// when its token expires.
const DefaultAgentTokenCacheTTL = 4 * time.Second

// keyAgent is the Gin context key of the authenticated agent token.
const keyAgent = "httpapi.agent"

// agentTokenCache is the cache of agent tokens.
type agentTokenCache = credentialCache[store.AgentCaller]

func newAgentTokenCache(ttl time.Duration) *agentTokenCache {
	return newCredentialCache[store.AgentCaller](ttl, DefaultAgentTokenCacheTTL)
}

// agentTokens authenticates /mcp/agents/{id}: only a live token of agent
// {id} passes. API keys, other agents' tokens and revoked, expired or
// unknown tokens are all 401s that say which it was.
func (a *authenticator) agentTokens() gin.HandlerFunc {
	return func(c *gin.Context) {
		tok, ok := bearer(c, "agent token", "agent token")
		if !ok {
			return
		}
		id, valid := parseUUID(c.Param("id"))
		if !strings.HasPrefix(tok, contract.AgentTokenPrefix) {
			// An API key (or anything else) is never looked up here.
			unauthorized(c, fmt.Sprintf("not an agent token: /mcp/agents/{id} takes a token of that agent (%s...), not an API key; "+
				"create one with POST /api/agents/{id}/tokens", contract.AgentTokenPrefix), true)
			return
		}
		caller, ok := a.checkAgentToken(c, tok)
		if !ok {
			return
		}
		if !valid || caller.AgentID != id {
			unauthorized(c, fmt.Sprintf("the agent token is not one of agent %s's: it belongs to another agent; "+
				"use a token of agent %s", clipped(c.Param("id")), clipped(c.Param("id"))), true)
			return
		}
		c.Next()
	}
}

// keysOrAgentTokens authenticates /mcp/servers/{id}: a tenant API key, or
// an agent token (whether that agent has the server assigned is the
// handler's question, answered with a 403).
func (a *authenticator) keysOrAgentTokens() gin.HandlerFunc {
	return func(c *gin.Context) {
		cred, ok := bearer(c, "API key or agent token", "api key or agent token")
		if !ok {
			return
		}
		if strings.HasPrefix(cred, contract.AgentTokenPrefix) {
			_, ok = a.checkAgentToken(c, cred)
		} else {
			ok = a.checkAPIKey(c, cred)
		}
		if ok {
			c.Next()
		}
	}
}

// checkAgentToken looks tok up, through the cache, and leaves its tenant
// and agent on c; when it is not a live token, or the lookup fails, it
// answers and reports false. The token itself is never logged or echoed.
func (a *authenticator) checkAgentToken(c *gin.Context, tok string) (store.AgentCaller, bool) {
	if len(tok) > maxAPIKeyLength {
		unauthorized(c, "invalid agent token: too long to be one", true)
		return store.AgentCaller{}, false
	}
	// The entry ends with the token, should it expire first.
	found, ok := lookUpCredential(a, c, a.tokens, tok, a.store.AgentForToken, func(f store.AgentCaller) *time.Time { return f.ExpiresAt },
		"invalid agent token: it is unknown, revoked or expired; create a new one with POST /api/agents/{id}/tokens")
	if !ok {
		return store.AgentCaller{}, false
	}
	c.Set(keyTenant, found.TenantID)
	c.Set(keyAgent, found)
	return found, true
}

// agentOf is the agent token that authenticated the request, if one did.
func agentOf(c *gin.Context) (store.AgentCaller, bool) {
	v, ok := c.Get(keyAgent)
	if !ok {
		return store.AgentCaller{}, false
	}
	caller, ok := v.(store.AgentCaller)
	return caller, ok
}

// callerOf is who a gateway request is from, as the gateway and its audit
// events see it.
func callerOf(c *gin.Context) gateway.Caller {
	caller := gateway.Caller{Tenant: tenantOf(c)}
	if agent, ok := agentOf(c); ok {
		caller.AgentID, caller.TokenID = new(agent.AgentID), new(agent.TokenID)
	} else if key := apiKeyOf(c); key != uuid.Nil {
		caller.APIKeyID = &key
	}
	return caller
}

// forbidden ends the request with a 403 in its family's body.
func forbidden(c *gin.Context, msg string) {
	abortError(c, http.StatusForbidden, msg)
}
