package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

const serversPath = "/api/mcp/servers"

// ServerListOptions filters and pages GET /api/mcp/servers. Zero values mean
// "no filter" and "the API's default page size".
type ServerListOptions struct {
	// ProjectID restricts the list to one project's servers.
	ProjectID string
	// Name restricts the list to servers with exactly this name.
	Name string
	// Status restricts the list to servers in this state.
	Status contract.ServerStatus
	// Limit is the page size, 1 to contract.MaxPageLimit.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

func (o ServerListOptions) query() url.Values {
	q := url.Values{}
	if o.ProjectID != "" {
		q.Set("projectId", o.ProjectID)
	}
	if o.Name != "" {
		q.Set("name", o.Name)
	}
	if o.Status != "" {
		q.Set("status", string(o.Status))
	}
	return pageQuery(q, o.Limit, o.Cursor)
}

// serverPath checks id before it reaches a URL: an id the API cannot have
// issued ("", "..", "a/b") would otherwise address another endpoint.
func serverPath(id string) (string, error) {
	if !contract.ValidServerID(id) {
		return "", fmt.Errorf("%w: the MCP server id must be %q followed by letters and digits, got %q",
			ErrBadRequest, contract.ServerIDPrefix, id)
	}
	return serversPath + "/" + id, nil
}

// serverCall performs cl and unwraps the {"success":true,"server":{...}} envelope.
func (c *Client) serverCall(ctx context.Context, cl call) (*contract.Server, error) {
	var out contract.ServerEnvelope
	if err := c.envelopeCall(ctx, cl, &out, func() bool { return out.Success && out.Server.ID != "" }); err != nil {
		return nil, err
	}
	return &out.Server, nil
}

// GetServer returns the MCP server with the given id; ErrNotFound if the
// caller's tenant has none.
func (c *Client) GetServer(ctx context.Context, id string) (*contract.Server, error) {
	p, err := serverPath(id)
	if err != nil {
		return nil, err
	}
	return c.serverCall(ctx, call{method: http.MethodGet, path: p, idempotent: true})
}

// ListServers returns one page of MCP servers.
func (c *Client) ListServers(ctx context.Context, opts ServerListOptions) (*contract.ServerListEnvelope, error) {
	var out contract.ServerListEnvelope
	cl := call{method: http.MethodGet, path: serversPath, query: opts.query(), idempotent: true}
	if err := c.envelopeCall(ctx, cl, &out, func() bool { return out.Success }); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAllServers follows NextCursor from opts.Cursor (or the start) to the
// last page and returns every matching server. Pages are of opts.Limit, or
// of contract.MaxPageLimit when it is zero.
func (c *Client) ListAllServers(ctx context.Context, opts ServerListOptions) ([]contract.Server, error) {
	opts.Limit = allPagesLimit(opts.Limit)
	return listAll(serversPath, opts.Cursor, func(cursor string) ([]contract.Server, *string, error) {
		opts.Cursor = cursor
		page, err := c.ListServers(ctx, opts)
		if err != nil {
			return nil, nil, err
		}
		return page.Servers, page.NextCursor, nil
	})
}

// CreateServer registers an MCP server. The API answers at once with status
// "connecting" and probes the server in the background; ConnectServer gives
// a definite status. Like every create it is retried only when the API
// certainly did not act on it.
func (c *Client) CreateServer(ctx context.Context, req contract.CreateServerRequest) (*contract.Server, error) {
	return c.serverCall(ctx, call{method: http.MethodPost, path: serversPath, body: req})
}

// UpdateServer changes the non-nil fields of req and returns the result.
func (c *Client) UpdateServer(ctx context.Context, id string, req contract.UpdateServerRequest) (*contract.Server, error) {
	p, err := serverPath(id)
	if err != nil {
		return nil, err
	}
	// PATCH sets absolute values, so repeating it is harmless.
	return c.serverCall(ctx, call{method: http.MethodPatch, path: p, body: req, idempotent: true})
}

// DeleteServer deletes the MCP server; ErrNotFound if it does not exist.
func (c *Client) DeleteServer(ctx context.Context, id string) error {
	p, err := serverPath(id)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: p, idempotent: true}, nil)
}

// ConnectServer runs the MCP handshake with the server now and returns it
// with the result stored: status "connected", or "error" with LastError. A
// failing handshake is not an error of this call. It also revives a
// disconnected server.
func (c *Client) ConnectServer(ctx context.Context, id string) (*contract.Server, error) {
	p, err := serverPath(id)
	if err != nil {
		return nil, err
	}
	// A connect only refreshes the stored health, so repeating it is safe.
	return c.serverCall(ctx, call{method: http.MethodPost, path: p + "/connect", idempotent: true})
}

// DisconnectServer sets the server's status to "disconnected", which stops
// its scheduled probes until the next ConnectServer.
func (c *Client) DisconnectServer(ctx context.Context, id string) (*contract.Server, error) {
	p, err := serverPath(id)
	if err != nil {
		return nil, err
	}
	return c.serverCall(ctx, call{method: http.MethodPost, path: p + "/disconnect", idempotent: true})
}
