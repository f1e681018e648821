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
	g.GET("/:id/tokens", onAgent.wrap("list agent tokens", onList(h.listParams, h.store.ListAgentTokens, answerPage(toAgentToken))))
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
	agentID, req, err := onRecordRequest(c, agentKind, func(req *contract.CreateAgentTokenRequest) error { return checkName(req.Name) })
	if err != nil {
		return err
	}
	t := store.AgentToken{AgentID: agentID, Name: req.Name}
	t.ID, t.TenantID = newUUID(), tenantOf(c)
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
	answerCreated(c, agentsPath+"/"+agentID.String()+"/tokens/"+t.ID.String(), out)
	return nil
}

// listParams reads the query of GET /api/agents/{id}/tokens.
func (h *agentTokens) listParams(c *gin.Context) (p store.ListAgentTokensParams, err error) {
	if p.AgentID, err = agentKind.pathID(c); err != nil {
		return p, err
	}
	p.TenantID = tenantOf(c)
	if p.Limit, p.After, err = parsePage(c, store.AgentTokenIDs); err != nil {
		return p, err
	}
	// An agent of another tenant, or none, is a 404 rather than an empty list.
	_, err = h.store.GetAgent(c.Request.Context(), p.TenantID, p.AgentID)
	return p, err
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
