package client

import (
	"context"
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
	return pageQuery(filters("projectId", o.ProjectID, "name", o.Name, "status", string(o.Status)), o.Limit, o.Cursor)
}

func (o *ServerListOptions) page() (limit *int, cursor *string) { return &o.Limit, &o.Cursor }

// serverCall performs cl and unwraps the {"success":true,"server":{...}} envelope.
func (c *Client) serverCall(ctx context.Context, cl call) (*contract.Server, error) {
	out, err := fetchEnvelope(ctx, c, cl, func(e *contract.ServerEnvelope) bool { return e.Success && e.Server.ID != "" })
	if err != nil {
		return nil, err
	}
	return &out.Server, nil
}

// GetServer returns the MCP server with the given id; ErrNotFound if the
// caller's tenant has none.
func (c *Client) GetServer(ctx context.Context, id string) (*contract.Server, error) {
	return c.serverCall(ctx, servers.on(id, get("", nil)))
}

// ListServers returns one page of MCP servers.
func (c *Client) ListServers(ctx context.Context, opts ServerListOptions) (*contract.ServerListEnvelope, error) {
	return fetchEnvelope(ctx, c, get(serversPath, opts.query()), func(e *contract.ServerListEnvelope) bool { return e.Success })
}

// ListAllServers follows NextCursor from opts.Cursor (or the start) to the
// last page and returns every matching server. Pages are of opts.Limit, or
// of contract.MaxPageLimit when it is zero.
func (c *Client) ListAllServers(ctx context.Context, opts ServerListOptions) ([]contract.Server, error) {
	return listEvery(ctx, serversPath, opts, c.ListServers,
		func(p *contract.ServerListEnvelope) ([]contract.Server, *string) { return p.Servers, p.NextCursor })
}

// CreateServer registers an MCP server. The API answers at once with status
// "connecting" and probes the server in the background; ConnectServer gives
// a definite status. Like every create it is retried only when the API
// certainly did not act on it.
func (c *Client) CreateServer(ctx context.Context, req contract.CreateServerRequest) (*contract.Server, error) {
	return c.serverCall(ctx, post(serversPath, req))
}

// UpdateServer changes the non-nil fields of req and returns the result.
func (c *Client) UpdateServer(ctx context.Context, id string, req contract.UpdateServerRequest) (*contract.Server, error) {
	return c.serverCall(ctx, servers.on(id, patch(req)))
}

// DeleteServer deletes the MCP server; ErrNotFound if it does not exist.
func (c *Client) DeleteServer(ctx context.Context, id string) error {
	return c.do(ctx, servers.on(id, del()), nil)
}

// ConnectServer runs the MCP handshake with the server now and returns it
// with the result stored: status "connected", or "error" with LastError. A
// failing handshake is not an error of this call. It also revives a
// disconnected server.
func (c *Client) ConnectServer(ctx context.Context, id string) (*contract.Server, error) {
	return c.serverCall(ctx, servers.on(id, refresh("/connect")))
}

// DisconnectServer sets the server's status to "disconnected", which stops
// its scheduled probes until the next ConnectServer.
func (c *Client) DisconnectServer(ctx context.Context, id string) (*contract.Server, error) {
	return c.serverCall(ctx, servers.on(id, refresh("/disconnect")))
}
