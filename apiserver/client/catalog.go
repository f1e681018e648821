package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// PageOptions pages a record's history: GET …/checks and …/catalog-changes
// of a connection or a server. Zero values mean "from the newest" and "the
// API's default page size".
type PageOptions struct {
	// Limit is the page size, 1 to contract.MaxPageLimit.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

func (o PageOptions) query() url.Values {
	return pageQuery(url.Values{}, o.Limit, o.Cursor)
}

// GetConnectionCatalog returns what the connection's last passing check
// found its server offers. ErrNotFound both when the tenant has no such
// connection and when no check of it has passed yet; GetConnection tells
// the two apart.
func (c *Client) GetConnectionCatalog(ctx context.Context, id string) (*contract.Catalog, error) {
	p, err := connectionPath(id)
	if err != nil {
		return nil, err
	}
	var out contract.Catalog
	if err := c.do(ctx, call{method: http.MethodGet, path: p + "/catalog", idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListConnectionChecks returns one page of the connection's checks, newest first.
func (c *Client) ListConnectionChecks(ctx context.Context, id string, opts PageOptions) (*contract.CheckList, error) {
	p, err := connectionPath(id)
	if err != nil {
		return nil, err
	}
	var out contract.CheckList
	if err := c.do(ctx, call{method: http.MethodGet, path: p + "/checks", query: opts.query(), idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAllConnectionChecks follows NextCursor from opts.Cursor (or the
// newest) to the oldest kept check and returns them all, newest first.
func (c *Client) ListAllConnectionChecks(ctx context.Context, id string, opts PageOptions) ([]contract.CheckEntry, error) {
	opts.Limit = allPagesLimit(opts.Limit)
	return listAll(connectionsPath+"/{id}/checks", opts.Cursor, func(cursor string) ([]contract.CheckEntry, *string, error) {
		opts.Cursor = cursor
		page, err := c.ListConnectionChecks(ctx, id, opts)
		if err != nil {
			return nil, nil, err
		}
		return page.Data, page.NextCursor, nil
	})
}

// ListConnectionCatalogChanges returns one page of the changes of the
// connection's tools, newest first.
func (c *Client) ListConnectionCatalogChanges(ctx context.Context, id string, opts PageOptions) (*contract.CatalogChangeList, error) {
	p, err := connectionPath(id)
	if err != nil {
		return nil, err
	}
	var out contract.CatalogChangeList
	if err := c.do(ctx, call{method: http.MethodGet, path: p + "/catalog-changes", query: opts.query(), idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAllConnectionCatalogChanges follows NextCursor from opts.Cursor (or
// the newest) to the oldest change and returns them all, newest first.
func (c *Client) ListAllConnectionCatalogChanges(ctx context.Context, id string, opts PageOptions) ([]contract.CatalogChange, error) {
	opts.Limit = allPagesLimit(opts.Limit)
	return listAll(connectionsPath+"/{id}/catalog-changes", opts.Cursor, func(cursor string) ([]contract.CatalogChange, *string, error) {
		opts.Cursor = cursor
		page, err := c.ListConnectionCatalogChanges(ctx, id, opts)
		if err != nil {
			return nil, nil, err
		}
		return page.Data, page.NextCursor, nil
	})
}

// GetServerCatalog returns what the server's last passing check found it
// offers. ErrNotFound both when the tenant has no such server and when no
// check of it has passed yet; GetServer tells the two apart.
func (c *Client) GetServerCatalog(ctx context.Context, id string) (*contract.Catalog, error) {
	p, err := serverPath(id)
	if err != nil {
		return nil, err
	}
	var out contract.CatalogEnvelope
	cl := call{method: http.MethodGet, path: p + "/catalog", idempotent: true}
	// A catalog always has a hash (that of the empty string when there are no tools).
	if err := c.envelopeCall(ctx, cl, &out, func() bool { return out.Success && out.Catalog.ToolsHash != "" }); err != nil {
		return nil, err
	}
	return &out.Catalog, nil
}

// ListServerChecks returns one page of the server's checks, newest first.
func (c *Client) ListServerChecks(ctx context.Context, id string, opts PageOptions) (*contract.CheckListEnvelope, error) {
	p, err := serverPath(id)
	if err != nil {
		return nil, err
	}
	var out contract.CheckListEnvelope
	cl := call{method: http.MethodGet, path: p + "/checks", query: opts.query(), idempotent: true}
	if err := c.envelopeCall(ctx, cl, &out, func() bool { return out.Success }); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAllServerChecks follows NextCursor from opts.Cursor (or the newest)
// to the oldest kept check and returns them all, newest first.
func (c *Client) ListAllServerChecks(ctx context.Context, id string, opts PageOptions) ([]contract.CheckEntry, error) {
	opts.Limit = allPagesLimit(opts.Limit)
	return listAll(serversPath+"/{id}/checks", opts.Cursor, func(cursor string) ([]contract.CheckEntry, *string, error) {
		opts.Cursor = cursor
		page, err := c.ListServerChecks(ctx, id, opts)
		if err != nil {
			return nil, nil, err
		}
		return page.Checks, page.NextCursor, nil
	})
}

// ListServerCatalogChanges returns one page of the changes of the server's
// tools, newest first.
func (c *Client) ListServerCatalogChanges(ctx context.Context, id string, opts PageOptions) (*contract.CatalogChangeListEnvelope, error) {
	p, err := serverPath(id)
	if err != nil {
		return nil, err
	}
	var out contract.CatalogChangeListEnvelope
	cl := call{method: http.MethodGet, path: p + "/catalog-changes", query: opts.query(), idempotent: true}
	if err := c.envelopeCall(ctx, cl, &out, func() bool { return out.Success }); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAllServerCatalogChanges follows NextCursor from opts.Cursor (or the
// newest) to the oldest change and returns them all, newest first.
func (c *Client) ListAllServerCatalogChanges(ctx context.Context, id string, opts PageOptions) ([]contract.CatalogChange, error) {
	opts.Limit = allPagesLimit(opts.Limit)
	return listAll(serversPath+"/{id}/catalog-changes", opts.Cursor, func(cursor string) ([]contract.CatalogChange, *string, error) {
		opts.Cursor = cursor
		page, err := c.ListServerCatalogChanges(ctx, id, opts)
		if err != nil {
			return nil, nil, err
		}
		return page.Changes, page.NextCursor, nil
	})
}
