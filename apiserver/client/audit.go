package client

import (
	"context"
	"net/url"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

const auditEventsPath = "/api/audit-events"

// AuditEventListOptions filters and pages GET /api/audit-events. Zero
// values mean "no filter" and "the API's default page size".
type AuditEventListOptions struct {
	// AgentID restricts the list to one agent's calls and tokens.
	AgentID string
	// RecordID restricts the list to events about one connection, server,
	// project or agent.
	RecordID string
	// Action restricts the list to one action, such as "tools/call".
	Action string
	// Since restricts the list to events at or after this time.
	Since time.Time
	// Limit is the page size, 1 to contract.MaxPageLimit.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

func (o AuditEventListOptions) query() url.Values {
	q := filters("agentId", o.AgentID, "recordId", o.RecordID, "action", o.Action)
	if !o.Since.IsZero() {
		q.Set("since", contract.NewTime(o.Since).String())
	}
	return pageQuery(q, o.Limit, o.Cursor)
}

func (o *AuditEventListOptions) page() (limit *int, cursor *string) { return &o.Limit, &o.Cursor }

// ListAuditEvents returns one page of the tenant's audit events, newest first.
func (c *Client) ListAuditEvents(ctx context.Context, opts AuditEventListOptions) (*contract.AuditEventList, error) {
	return fetch[contract.AuditEventList](ctx, c, get(auditEventsPath, opts.query()))
}

// ListAllAuditEvents follows NextCursor from opts.Cursor (or the newest) to
// the oldest matching event and returns them all, newest first. Pages are
// of opts.Limit, or of contract.MaxPageLimit when it is zero.
func (c *Client) ListAllAuditEvents(ctx context.Context, opts AuditEventListOptions) ([]contract.AuditEvent, error) {
	return listEveryPage(ctx, auditEventsPath, opts, c.ListAuditEvents)
}
