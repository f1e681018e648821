package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// agentTokens serves /api/agents/{id}/tokens.
type agentTokens struct {
	store *store.Store
}

// register adds the token routes to the agents' group: onAgent answers a
// missing agent, onToken a missing token.
func (h *agentTokens) register(g *gin.RouterGroup, onAgent, onToken errorHandler) {
	g.GET("/:id/tokens", onAgent.wrap("list agent tokens", h.list))
	g.POST("/:id/tokens", onAgent.wrap("create agent token", h.create))
	g.DELETE("/:id/tokens/:tokenId", onToken.wrap("revoke agent token", h.revoke))
}

// toAgentToken is the one place a stored token becomes the wire object;
// the hash stays behind, and the token itself is only ever in a create's
// answer.
func toAgentToken(t store.AgentToken) contract.AgentToken {
	return contract.AgentToken{
		ID:        t.ID.String(),
		AgentID:   t.AgentID.String(),
		Name:      t.Name,
		ExpiresAt: contract.TimePtr(t.ExpiresAt),
		CreatedAt: contract.NewTime(t.CreatedAt),
	}
}

func (h *agentTokens) create(c *gin.Context) error {
	agentID, err := agentKind.pathID(c)
	if err != nil {
		return err
	}
	var req contract.CreateAgentTokenRequest
	if err := decodeObject(c.Request, &req); err != nil {
		return err
	}
	if err := checkName(req.Name); err != nil {
		return err
	}
	t := store.AgentToken{ID: newUUID(), TenantID: tenantOf(c), AgentID: agentID, Name: req.Name}
	if req.ExpiresAt != nil {
		if !req.ExpiresAt.After(time.Now()) {
			return badRequest("expiresAt must be in the future, got %s", req.ExpiresAt)
		}
		t.ExpiresAt = new(req.ExpiresAt.Time)
	}
	plain := store.NewAgentToken()
	t.TokenHash = secrets.HashAPIKey(plain)
	ctx := auditedAs(c, agentTokenKind.audit, "create", t.ID.String(), &agentID)
	if err := h.store.CreateAgentToken(ctx, &t); err != nil {
		return err
	}
	out := toAgentToken(t)
	out.Token = &plain
	c.Header("Location", agentsPath+"/"+agentID.String()+"/tokens/"+t.ID.String())
	c.JSON(http.StatusCreated, out)
	return nil
}

func (h *agentTokens) list(c *gin.Context) error {
	agentID, err := agentKind.pathID(c)
	if err != nil {
		return err
	}
	p := store.ListAgentTokensParams{TenantID: tenantOf(c), AgentID: agentID}
	if p.Limit, p.After, err = parsePage(c, store.AgentTokenIDs); err != nil {
		return err
	}
	// An agent of another tenant, or none, is a 404 rather than an empty list.
	if _, err := h.store.GetAgent(c.Request.Context(), p.TenantID, agentID); err != nil {
		return err
	}
	rows, next, err := h.store.ListAgentTokens(c.Request.Context(), p)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, pageOf(rows, next, toAgentToken))
	return nil
}

func (h *agentTokens) revoke(c *gin.Context) error {
	agentID, err := agentKind.pathID(c)
	if err != nil {
		return err
	}
	id, err := agentTokenKind.param(c, "tokenId")
	if err != nil {
		return err
	}
	ctx := auditedAs(c, agentTokenKind.audit, "revoke", id.String(), &agentID)
	if err := h.store.RevokeAgentToken(ctx, tenantOf(c), agentID, id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
