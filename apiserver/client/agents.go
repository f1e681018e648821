package client

import (
	"context"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

const agentsPath = "/api/agents"

// AgentListOptions filters and pages GET /api/agents: by exact name.
type AgentListOptions = NameListOptions

// GetAgent returns the agent with the given id; ErrNotFound if the caller's
// tenant has none.
func (c *Client) GetAgent(ctx context.Context, id string) (*contract.Agent, error) {
	return fetch[contract.Agent](ctx, c, agents.on(id, get("", nil)))
}

// ListAgents returns one page of agents.
func (c *Client) ListAgents(ctx context.Context, opts AgentListOptions) (*contract.AgentList, error) {
	return fetch[contract.AgentList](ctx, c, get(agentsPath, opts.query()))
}

// ListAllAgents follows NextCursor from opts.Cursor (or the start) to the
// last page and returns every agent. Pages are of opts.Limit, or of
// contract.MaxPageLimit when it is zero.
func (c *Client) ListAllAgents(ctx context.Context, opts AgentListOptions) ([]contract.Agent, error) {
	return listEveryPage(ctx, agentsPath, opts, c.ListAgents)
}

// CreateAgent creates an agent with its assignments. Like every create it
// is retried only when the API certainly did not act on it.
func (c *Client) CreateAgent(ctx context.Context, req contract.CreateAgentRequest) (*contract.Agent, error) {
	return fetch[contract.Agent](ctx, c, post(agentsPath, req))
}

// UpdateAgent changes the non-nil fields of req and returns the result; a
// non-nil Assignments replaces the whole list (replaced, not appended to,
// so repeating it is harmless).
func (c *Client) UpdateAgent(ctx context.Context, id string, req contract.UpdateAgentRequest) (*contract.Agent, error) {
	return fetch[contract.Agent](ctx, c, agents.on(id, patch(req)))
}

// DeleteAgent deletes the agent and with it its tokens; ErrNotFound if it
// does not exist.
func (c *Client) DeleteAgent(ctx context.Context, id string) error {
	return c.do(ctx, agents.on(id, del()), nil)
}
