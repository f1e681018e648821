package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

const connectionsPath = "/api/mcp-connections"

// ConnectionListOptions filters and pages GET /api/mcp-connections. Zero values mean
// "no filter" and "the API's default page size".
type ConnectionListOptions struct {
	// Name restricts the list to connections with this name.
	Name string
	// Status restricts the list to connections in this state.
	Status contract.ConnectionStatus
	// Limit is the page size, 1 to contract.MaxPageLimit.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

func (o ConnectionListOptions) query() url.Values {
	q := url.Values{}
	if o.Name != "" {
		q.Set("name", o.Name)
	}
	if o.Status != "" {
		q.Set("status", string(o.Status))
	}
	return pageQuery(q, o.Limit, o.Cursor)
}

func connectionPath(id string) (string, error) {
	switch id {
	case "":
		return "", fmt.Errorf("%w: the connection id must not be empty", ErrBadRequest)
	case ".", "..":
		// These would be cleaned out of the URL path and address another endpoint.
		return "", fmt.Errorf("%w: the connection id must be a UUID, got %q", ErrBadRequest, id)
	}
	return connectionsPath + "/" + url.PathEscape(id), nil
}

// GetConnection returns the connection with the given id; ErrNotFound if the
// caller's tenant has none.
func (c *Client) GetConnection(ctx context.Context, id string) (*contract.Connection, error) {
	p, err := connectionPath(id)
	if err != nil {
		return nil, err
	}
	var out contract.Connection
	if err := c.do(ctx, call{method: http.MethodGet, path: p, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListConnections returns one page of connections.
func (c *Client) ListConnections(ctx context.Context, opts ConnectionListOptions) (*contract.ConnectionList, error) {
	var out contract.ConnectionList
	if err := c.do(ctx, call{method: http.MethodGet, path: connectionsPath, query: opts.query(), idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAllConnections follows NextCursor from opts.Cursor (or the start) to
// the last page and returns every connection. Pages are of opts.Limit, or of
// contract.MaxPageLimit when it is zero.
func (c *Client) ListAllConnections(ctx context.Context, opts ConnectionListOptions) ([]contract.Connection, error) {
	opts.Limit = allPagesLimit(opts.Limit)
	return listAll(connectionsPath, opts.Cursor, func(cursor string) ([]contract.Connection, *string, error) {
		opts.Cursor = cursor
		page, err := c.ListConnections(ctx, opts)
		if err != nil {
			return nil, nil, err
		}
		return page.Data, page.NextCursor, nil
	})
}

// CreateConnection registers a connection. A create is retried only when the
// API certainly did not act on it (refused connection, 429, 503), so a
// timeout cannot register the same connection twice.
func (c *Client) CreateConnection(ctx context.Context, req contract.CreateConnectionRequest) (*contract.Connection, error) {
	var out contract.Connection
	if err := c.do(ctx, call{method: http.MethodPost, path: connectionsPath, body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateConnection changes the non-nil fields of req and returns the result.
func (c *Client) UpdateConnection(ctx context.Context, id string, req contract.UpdateConnectionRequest) (*contract.Connection, error) {
	p, err := connectionPath(id)
	if err != nil {
		return nil, err
	}
	var out contract.Connection
	// PATCH sets absolute values, so repeating it is harmless.
	if err := c.do(ctx, call{method: http.MethodPatch, path: p, body: req, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteConnection deletes the connection; ErrNotFound if it does not exist.
func (c *Client) DeleteConnection(ctx context.Context, id string) error {
	p, err := connectionPath(id)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: p, idempotent: true}, nil)
}

// CheckConnection runs the health check (the MCP handshake against the
// connection's server) now and returns the connection with the stored result.
func (c *Client) CheckConnection(ctx context.Context, id string) (*contract.Connection, error) {
	p, err := connectionPath(id)
	if err != nil {
		return nil, err
	}
	var out contract.Connection
	// A check only refreshes the stored health, so repeating it is safe.
	if err := c.do(ctx, call{method: http.MethodPost, path: p + "/health-check", idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
