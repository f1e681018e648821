package client

import (
	"context"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// GetConnectionCatalog returns what the connection's last passing check
// found its server offers. ErrNotFound both when the tenant has no such
// connection and when no check of it has passed yet; GetConnection tells
// the two apart.
func (c *Client) GetConnectionCatalog(ctx context.Context, id string) (*contract.Catalog, error) {
	return fetch[contract.Catalog](ctx, c, connections.on(id, get("/catalog", nil)))
}

// ListConnectionChecks returns one page of the connection's checks, newest first.
func (c *Client) ListConnectionChecks(ctx context.Context, id string, opts PageOptions) (*contract.CheckList, error) {
	return fetch[contract.CheckList](ctx, c, connections.on(id, get("/checks", opts.query())))
}

// ListAllConnectionChecks follows NextCursor from opts.Cursor (or the
// newest) to the oldest kept check and returns them all, newest first.
func (c *Client) ListAllConnectionChecks(ctx context.Context, id string, opts PageOptions) ([]contract.CheckEntry, error) {
	return listEveryPage(ctx, connectionsPath+"/{id}/checks", opts, below(id, c.ListConnectionChecks))
}

// ListConnectionCatalogChanges returns one page of the changes of the
// connection's tools, newest first.
func (c *Client) ListConnectionCatalogChanges(ctx context.Context, id string, opts PageOptions) (*contract.CatalogChangeList, error) {
	return fetch[contract.CatalogChangeList](ctx, c, connections.on(id, get("/catalog-changes", opts.query())))
}

// ListAllConnectionCatalogChanges follows NextCursor from opts.Cursor (or
// the newest) to the oldest change and returns them all, newest first.
func (c *Client) ListAllConnectionCatalogChanges(ctx context.Context, id string, opts PageOptions) ([]contract.CatalogChange, error) {
	return listEveryPage(ctx, connectionsPath+"/{id}/catalog-changes", opts, below(id, c.ListConnectionCatalogChanges))
}

// GetServerCatalog returns what the server's last passing check found it
// offers. ErrNotFound both when the tenant has no such server and when no
// check of it has passed yet; GetServer tells the two apart.
func (c *Client) GetServerCatalog(ctx context.Context, id string) (*contract.Catalog, error) {
	// A catalog always has a hash (that of the empty string when there are no tools).
	out, err := fetchEnvelope(ctx, c, servers.on(id, get("/catalog", nil)),
		func(e *contract.CatalogEnvelope) bool { return e.Success && e.Catalog.ToolsHash != "" })
	if err != nil {
		return nil, err
	}
	return &out.Catalog, nil
}

// ListServerChecks returns one page of the server's checks, newest first.
func (c *Client) ListServerChecks(ctx context.Context, id string, opts PageOptions) (*contract.CheckListEnvelope, error) {
	return fetchEnvelope(ctx, c, servers.on(id, get("/checks", opts.query())),
		func(e *contract.CheckListEnvelope) bool { return e.Success })
}

// ListAllServerChecks follows NextCursor from opts.Cursor (or the newest)
// to the oldest kept check and returns them all, newest first.
func (c *Client) ListAllServerChecks(ctx context.Context, id string, opts PageOptions) ([]contract.CheckEntry, error) {
	return listEvery(ctx, serversPath+"/{id}/checks", opts, below(id, c.ListServerChecks),
		func(p *contract.CheckListEnvelope) ([]contract.CheckEntry, *string) { return p.Checks, p.NextCursor })
}

// ListServerCatalogChanges returns one page of the changes of the server's
// tools, newest first.
func (c *Client) ListServerCatalogChanges(ctx context.Context, id string, opts PageOptions) (*contract.CatalogChangeListEnvelope, error) {
	return fetchEnvelope(ctx, c, servers.on(id, get("/catalog-changes", opts.query())),
		func(e *contract.CatalogChangeListEnvelope) bool { return e.Success })
}

// ListAllServerCatalogChanges follows NextCursor from opts.Cursor (or the
// newest) to the oldest change and returns them all, newest first.
func (c *Client) ListAllServerCatalogChanges(ctx context.Context, id string, opts PageOptions) ([]contract.CatalogChange, error) {
	return listEvery(ctx, serversPath+"/{id}/catalog-changes", opts, below(id, c.ListServerCatalogChanges),
		func(p *contract.CatalogChangeListEnvelope) ([]contract.CatalogChange, *string) {
			return p.Changes, p.NextCursor
		})
}
