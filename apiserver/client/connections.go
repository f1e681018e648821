package client

import (
	"context"
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
	return pageQuery(filters("name", o.Name, "status", string(o.Status)), o.Limit, o.Cursor)
}

func (o *ConnectionListOptions) page() (limit *int, cursor *string) { return &o.Limit, &o.Cursor }

// GetConnection returns the connection with the given id; ErrNotFound if the
// caller's tenant has none.
func (c *Client) GetConnection(ctx context.Context, id string) (*contract.Connection, error) {
	return fetch[contract.Connection](ctx, c, connections.on(id, get("", nil)))
}

// ListConnections returns one page of connections.
func (c *Client) ListConnections(ctx context.Context, opts ConnectionListOptions) (*contract.ConnectionList, error) {
	return fetch[contract.ConnectionList](ctx, c, get(connectionsPath, opts.query()))
}

// ListAllConnections follows NextCursor from opts.Cursor (or the start) to
// the last page and returns every connection. Pages are of opts.Limit, or of
// contract.MaxPageLimit when it is zero.
func (c *Client) ListAllConnections(ctx context.Context, opts ConnectionListOptions) ([]contract.Connection, error) {
	return listEveryPage(ctx, connectionsPath, opts, c.ListConnections)
}

// CreateConnection registers a connection. A create is retried only when the
// API certainly did not act on it (refused connection, 429, 503), so a
// timeout cannot register the same connection twice.
func (c *Client) CreateConnection(ctx context.Context, req contract.CreateConnectionRequest) (*contract.Connection, error) {
	return fetch[contract.Connection](ctx, c, post(connectionsPath, req))
}

// UpdateConnection changes the non-nil fields of req and returns the result.
func (c *Client) UpdateConnection(ctx context.Context, id string, req contract.UpdateConnectionRequest) (*contract.Connection, error) {
	return fetch[contract.Connection](ctx, c, connections.on(id, patch(req)))
}

// DeleteConnection deletes the connection; ErrNotFound if it does not exist.
func (c *Client) DeleteConnection(ctx context.Context, id string) error {
	return c.do(ctx, connections.on(id, del()), nil)
}

// CheckConnection runs the health check (the MCP handshake against the
// connection's server) now and returns the connection with the stored result.
func (c *Client) CheckConnection(ctx context.Context, id string) (*contract.Connection, error) {
	// A check only refreshes the stored health, so repeating it is safe.
	return fetch[contract.Connection](ctx, c, connections.on(id, refresh("/health-check")))
}
