package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

const agentsPath = "/api/agents"

// AgentListOptions filters and pages GET /api/agents. Zero values mean "no
// filter" and "the API's default page size".
type AgentListOptions struct {
	// Name restricts the list to the agent with exactly this name.
	Name string
	// Limit is the page size, 1 to contract.MaxPageLimit.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

func (o AgentListOptions) query() url.Values {
	q := url.Values{}
	if o.Name != "" {
		q.Set("name", o.Name)
	}
	return pageQuery(q, o.Limit, o.Cursor)
}

// agentPath checks id before it reaches a URL: "", "." and ".." would be
// cleaned out of the path and address another endpoint.
func agentPath(id string) (string, error) {
	switch id {
	case "":
		return "", fmt.Errorf("%w: the agent id must not be empty", ErrBadRequest)
	case ".", "..":
		return "", fmt.Errorf("%w: the agent id must be a UUID, got %q", ErrBadRequest, id)
	}
	return agentsPath + "/" + url.PathEscape(id), nil
}

// GetAgent returns the agent with the given id; ErrNotFound if the caller's
// tenant has none.
func (c *Client) GetAgent(ctx context.Context, id string) (*contract.Agent, error) {
	p, err := agentPath(id)
	if err != nil {
		return nil, err
	}
	var out contract.Agent
	if err := c.do(ctx, call{method: http.MethodGet, path: p, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAgents returns one page of agents.
func (c *Client) ListAgents(ctx context.Context, opts AgentListOptions) (*contract.AgentList, error) {
	var out contract.AgentList
	if err := c.do(ctx, call{method: http.MethodGet, path: agentsPath, query: opts.query(), idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAllAgents follows NextCursor from opts.Cursor (or the start) to the
// last page and returns every agent. Pages are of opts.Limit, or of
// contract.MaxPageLimit when it is zero.
func (c *Client) ListAllAgents(ctx context.Context, opts AgentListOptions) ([]contract.Agent, error) {
	opts.Limit = allPagesLimit(opts.Limit)
	return listAll(agentsPath, opts.Cursor, func(cursor string) ([]contract.Agent, *string, error) {
		opts.Cursor = cursor
		page, err := c.ListAgents(ctx, opts)
		if err != nil {
			return nil, nil, err
		}
		return page.Data, page.NextCursor, nil
	})
}

// CreateAgent creates an agent with its assignments. Like every create it
// is retried only when the API certainly did not act on it.
func (c *Client) CreateAgent(ctx context.Context, req contract.CreateAgentRequest) (*contract.Agent, error) {
	var out contract.Agent
	if err := c.do(ctx, call{method: http.MethodPost, path: agentsPath, body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateAgent changes the non-nil fields of req and returns the result; a
// non-nil Assignments replaces the whole list.
func (c *Client) UpdateAgent(ctx context.Context, id string, req contract.UpdateAgentRequest) (*contract.Agent, error) {
	p, err := agentPath(id)
	if err != nil {
		return nil, err
	}
	var out contract.Agent
	// PATCH sets absolute values (the list is replaced, not appended to),
	// so repeating it is harmless.
	if err := c.do(ctx, call{method: http.MethodPatch, path: p, body: req, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteAgent deletes the agent and with it its tokens; ErrNotFound if it
// does not exist.
func (c *Client) DeleteAgent(ctx context.Context, id string) error {
	p, err := agentPath(id)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: p, idempotent: true}, nil)
}
