package httpapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// audited is the request's context carrying the audit event of the write
// it is about to make: action is the kind's audit name and verb, such as
// "connection.create", and id the written record. The store inserts the
// event in the write's own transaction (store.WithAudit), so a write that
// fails leaves no event and one that succeeds always has its event.
func (k kind[ID]) audited(c *gin.Context, verb string, id ID) context.Context {
	var agent *uuid.UUID
	if k.agentOf != nil {
		agent = k.agentOf(id)
	}
	return auditedAs(c, k.audit, verb, k.text(id), agent)
}

// auditedAs is audited for a record of kind recordKind that belongs to
// agent (nil for records that belong to none).
func auditedAs(c *gin.Context, recordKind, verb, recordID string, agent *uuid.UUID) context.Context {
	ev := store.AuditEvent{
		Key:        store.Key[uuid.UUID]{TenantID: tenantOf(c)},
		Action:     recordKind + "." + verb,
		AgentID:    agent,
		RecordKind: &recordKind,
		RecordID:   &recordID,
		Outcome:    string(contract.OutcomeOK),
	}
	if key := apiKeyOf(c); key != uuid.Nil {
		ev.APIKeyID = &key
	}
	return store.WithAudit(c.Request.Context(), ev)
}

// auditEvents serves GET /api/audit-events.
type auditEvents struct {
	store *store.Store
	log   *slog.Logger
}

func (h *auditEvents) register(g *gin.RouterGroup) {
	e := errorHandler{family: plainFamily, log: h.log, notFound: "audit event not found"}
	g.GET("", e.wrap("list audit events", onList(listAuditEventsParams, h.store.ListAuditEvents, answerPage(toAuditEvent))))
}

// toAuditEvent is the one place a stored event becomes the wire object.
func toAuditEvent(ev store.AuditEvent) contract.AuditEvent {
	return contract.AuditEvent{
		ID:         ev.ID.String(),
		At:         contract.NewTime(ev.At),
		Action:     ev.Action,
		AgentID:    uuidString(ev.AgentID),
		TokenID:    uuidString(ev.TokenID),
		APIKeyID:   uuidString(ev.APIKeyID),
		RecordKind: ev.RecordKind,
		RecordID:   ev.RecordID,
		Tool:       ev.Tool,
		Outcome:    contract.AuditOutcome(ev.Outcome),
		DurationMs: ev.DurationMs,
		Error:      ev.Error,
	}
}

func uuidString(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	return new(id.String())
}

// listAuditEventsParams reads the query of GET /api/audit-events.
func listAuditEventsParams(c *gin.Context) (p store.ListAuditEventsParams, err error) {
	p = store.ListAuditEventsParams{TenantID: tenantOf(c), RecordID: queried(c, "recordId"), Action: queried(c, "action")}
	if p.Limit, p.After, err = parsePage(c, store.AuditEventIDs); err != nil {
		return p, err
	}
	if v := c.Query("agentId"); v != "" {
		id, ok := parseUUID(v)
		if !ok {
			return p, badRequest("agentId must be an agent id (a UUID), got %q", clipped(v))
		}
		p.AgentID = &id
	}
	if v := c.Query("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return p, badRequest("since must be an RFC 3339 timestamp such as 2026-01-02T15:04:05Z, got %q", clipped(v))
		}
		p.Since = &t
	}
	return p, nil
}
