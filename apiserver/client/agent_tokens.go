package client

import (
	"context"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// AgentTokenListOptions pages GET /api/agents/{id}/tokens.
type AgentTokenListOptions = PageOptions

// agentTokens is the tokens collection of one agent.
func agentTokens(agentID string) collection {
	return agents.below(agentID, "tokens", uuidID("agent token"))
}

// CreateAgentToken issues a token for the agent. The answer is the only
// time the token's value is shown: the API keeps only its hash. A create is
// retried only when the API certainly did not act on it, so a timeout
// cannot issue two tokens.
func (c *Client) CreateAgentToken(ctx context.Context, agentID string, req contract.CreateAgentTokenRequest) (*contract.AgentToken, error) {
	return fetch[contract.AgentToken](ctx, c, agents.on(agentID, post("/tokens", req)))
}

// ListAgentTokens returns one page of the agent's tokens, without their
// values; ErrNotFound if the agent does not exist.
func (c *Client) ListAgentTokens(ctx context.Context, agentID string, opts AgentTokenListOptions) (*contract.AgentTokenList, error) {
	return fetch[contract.AgentTokenList](ctx, c, agents.on(agentID, get("/tokens", opts.query())))
}

// ListAllAgentTokens follows NextCursor from opts.Cursor (or the start) to
// the last page and returns every token of the agent. Pages are of
// opts.Limit, or of contract.MaxPageLimit when it is zero.
func (c *Client) ListAllAgentTokens(ctx context.Context, agentID string, opts AgentTokenListOptions) ([]contract.AgentToken, error) {
	return listEveryPage(ctx, agentsPath+"/{id}/tokens", opts, below(agentID, c.ListAgentTokens))
}

// RevokeAgentToken revokes the token: the gateway refuses it from then on.
// ErrNotFound if the agent or the token does not exist.
func (c *Client) RevokeAgentToken(ctx context.Context, agentID, tokenID string) error {
	return c.do(ctx, agentTokens(agentID).on(tokenID, del()), nil)
}
