package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// AgentTokenListOptions pages GET /api/agents/{id}/tokens. Zero values mean
// "from the start" and "the API's default page size".
type AgentTokenListOptions struct {
	// Limit is the page size, 1 to contract.MaxPageLimit.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

func (o AgentTokenListOptions) query() url.Values {
	return pageQuery(url.Values{}, o.Limit, o.Cursor)
}

// agentTokensPath is the tokens collection of one agent.
func agentTokensPath(agentID string) (string, error) {
	p, err := agentPath(agentID)
	if err != nil {
		return "", err
	}
	return p + "/tokens", nil
}

// agentTokenPath is one token of one agent, checked like agentPath.
func agentTokenPath(agentID, tokenID string) (string, error) {
	p, err := agentTokensPath(agentID)
	if err != nil {
		return "", err
	}
	switch tokenID {
	case "":
		return "", fmt.Errorf("%w: the agent token id must not be empty", ErrBadRequest)
	case ".", "..":
		return "", fmt.Errorf("%w: the agent token id must be a UUID, got %q", ErrBadRequest, tokenID)
	}
	return p + "/" + url.PathEscape(tokenID), nil
}

// CreateAgentToken issues a token for the agent. The answer is the only
// time the token's value is shown: the API keeps only its hash. A create is
// retried only when the API certainly did not act on it, so a timeout
// cannot issue two tokens.
func (c *Client) CreateAgentToken(ctx context.Context, agentID string, req contract.CreateAgentTokenRequest) (*contract.AgentToken, error) {
	p, err := agentTokensPath(agentID)
	if err != nil {
		return nil, err
	}
	var out contract.AgentToken
	if err := c.do(ctx, call{method: http.MethodPost, path: p, body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAgentTokens returns one page of the agent's tokens, without their
// values; ErrNotFound if the agent does not exist.
func (c *Client) ListAgentTokens(ctx context.Context, agentID string, opts AgentTokenListOptions) (*contract.AgentTokenList, error) {
	p, err := agentTokensPath(agentID)
	if err != nil {
		return nil, err
	}
	var out contract.AgentTokenList
	if err := c.do(ctx, call{method: http.MethodGet, path: p, query: opts.query(), idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAllAgentTokens follows NextCursor from opts.Cursor (or the start) to
// the last page and returns every token of the agent. Pages are of
// opts.Limit, or of contract.MaxPageLimit when it is zero.
func (c *Client) ListAllAgentTokens(ctx context.Context, agentID string, opts AgentTokenListOptions) ([]contract.AgentToken, error) {
	opts.Limit = allPagesLimit(opts.Limit)
	return listAll(agentsPath+"/{id}/tokens", opts.Cursor, func(cursor string) ([]contract.AgentToken, *string, error) {
		opts.Cursor = cursor
		page, err := c.ListAgentTokens(ctx, agentID, opts)
		if err != nil {
			return nil, nil, err
		}
		return page.Data, page.NextCursor, nil
	})
}

// RevokeAgentToken revokes the token: the gateway refuses it from then on.
// ErrNotFound if the agent or the token does not exist.
func (c *Client) RevokeAgentToken(ctx context.Context, agentID, tokenID string) error {
	p, err := agentTokenPath(agentID, tokenID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: p, idempotent: true}, nil)
}
