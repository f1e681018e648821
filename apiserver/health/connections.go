package health

import (
	"context"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// ConnectionChecker checks MCP connections and stores the results: the one
// code path behind POST /api/mcp-connections/{id}/health-check and the
// scheduled checks (it is a Source). It is safe for concurrent use.
type ConnectionChecker struct {
	*checker[store.Connection]
}

var (
	_ Source  = (*ConnectionChecker)(nil)
	_ Drainer = (*ConnectionChecker)(nil)
)

// NewConnectionChecker returns a ConnectionChecker configured by cfg.
func NewConnectionChecker(cfg CheckerConfig) (*ConnectionChecker, error) {
	c := &ConnectionChecker{}
	var err error
	c.checker, err = newChecker(cfg, kind[store.Connection]{
		noun:   "MCP connection",
		metric: "connection",
		id:     func(row store.Connection) string { return row.ID.String() },
		attrs: func(row store.Connection) []any {
			return recordAttrs("connection", row.ID.String(), row.TenantID)
		},
		claim:  cfg.Store.ClaimDueConnections,
		record: cfg.Store.RecordConnectionChecks,
		target: c.target,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// CheckConnection checks the tenant's connection id now, stores the result
// and returns the stored row. The check counts as the scheduled one: the
// next is due an interval later. A failing check is not an error — it is
// recorded on the row; errors are the store's (store.ErrNotFound when the
// tenant has no such connection, store.ErrUnavailable) or ctx's when the
// caller gives up during the probe, whose result is then not stored. The
// call returns within the probe timeout plus the time the database takes.
func (c *ConnectionChecker) CheckConnection(ctx context.Context, tenantID, id uuid.UUID) (store.Connection, error) {
	row, err := c.store.GetConnection(ctx, tenantID, id)
	if err != nil {
		return store.Connection{}, err
	}
	return c.check(ctx, row)
}

// ConnectionTarget is how to reach row's endpoint, credentials included,
// exactly as its checks do — for the gateway, which opens sessions to the
// connections agents are assigned. A *probe.ConnectError says why it must
// not be reached.
func (c *ConnectionChecker) ConnectionTarget(ctx context.Context, row store.Connection) (probe.Target, error) {
	return c.targetOf(ctx, row)
}

// ConnectionKey is probe.Target.Key of connection id: what is cached for
// it (OAuth 2.0 access tokens) is kept under this key.
func ConnectionKey(id uuid.UUID) string { return "conn:" + id.String() }

// target is how to reach row's endpoint, or why it must not be reached (a
// message for lastError and its kind).
func (c *ConnectionChecker) target(ctx context.Context, row store.Connection) (probe.Target, contract.ErrorKind, string) {
	target := probe.Target{Transport: contract.TransportHTTP, URL: row.ServerURL}
	if row.AuthType == string(contract.AuthBearer) {
		if msg := c.bearer(ctx, row, &target, row.TokenCiphertext, row.TokenKeyID, store.ConnectionTokenAAD(row.ID)); msg != "" {
			return target, contract.ErrorAuth, msg
		}
	}
	if msg := c.upstream(ctx, row, &target, row.AuthType, row.UpstreamAuth, store.ConnectionAuthAAD(row.ID), ConnectionKey(row.ID)); msg != "" {
		return target, contract.ErrorAuth, msg
	}
	return target, "", ""
}
