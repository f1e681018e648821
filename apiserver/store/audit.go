package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// AuditEvent is a row of audit_events: one API write or one gateway call.
// Arguments, results, tokens and secrets are never part of it.
type AuditEvent struct {
	// Key's ID is a version 7 UUID; InsertAuditEvents assigns one when it
	// is zero.
	Key[uuid.UUID]
	// At is when it happened; InsertAuditEvents uses the database's clock
	// when it is zero.
	At         time.Time  `db:"at"`
	Action     string     `db:"action"` // such as "connection.create" or "tools/call"
	AgentID    *uuid.UUID `db:"agent_id"`
	TokenID    *uuid.UUID `db:"token_id"`
	APIKeyID   *uuid.UUID `db:"api_key_id"`
	RecordKind *string    `db:"record_kind"` // "connection", "server", "project", "agent", "agent_token"
	RecordID   *string    `db:"record_id"`
	Tool       *string    `db:"tool"`
	Outcome    string     `db:"outcome"` // a contract.AuditOutcome
	DurationMs *int64     `db:"duration_ms"`
	Error      *string    `db:"error"`
}

func (e AuditEvent) utc() AuditEvent {
	e.At = e.At.UTC()
	return e
}

// AuditEventIDs are UUIDs.
var AuditEventIDs = IDFormat{uuid: true}

// ListAuditEventsParams selects a page of a tenant's audit events, newest
// first. Nil filters match every event.
type ListAuditEventsParams struct {
	TenantID uuid.UUID
	AgentID  *uuid.UUID
	RecordID *string
	Action   *string
	Since    *time.Time // events at or after it
	Limit    int        // 1..contract.MaxPageLimit
	// After is the cursor's position: the page starts with the events
	// older than it. Its CreatedAt is the event's At.
	After *Cursor
}

const auditEventColumns = `id, tenant_id, at, action, agent_id, token_id, api_key_id, record_kind, record_id,
	tool, outcome, duration_ms, error`

// auditKey is the context key of WithAudit.
type auditKey struct{}

// WithAudit returns ctx carrying ev: the record writes of this package
// (create, update and delete of connections, servers, projects and agents,
// creating and revoking agent tokens) called with it insert ev in the same
// transaction as the write, so a write is never stored without its event
// nor an event without its write. ev's ID and At are filled in as
// InsertAuditEvents does.
func WithAudit(ctx context.Context, ev AuditEvent) context.Context {
	return context.WithValue(ctx, auditKey{}, ev)
}

func auditOf(ctx context.Context) (AuditEvent, bool) {
	ev, ok := ctx.Value(auditKey{}).(AuditEvent)
	return ev, ok
}

// write runs fn on a transaction when ctx carries an audit event, and
// inserts the event in it after fn succeeds; otherwise it runs fn on the
// pool, costing no transaction. fn's errors come back unchanged.
func (s *Store) write(ctx context.Context, op string, fn func(q sqlx.ExtContext) error) error {
	_, audited := auditOf(ctx)
	if _, secrets := secretWritesOf(ctx); !audited && !secrets {
		return fn(s.db)
	}
	return s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.audit(ctx, tx, op)
	})
}

// audit inserts ctx's audit event, if it carries one, on q: the writes
// that run their own transaction call it inside it.
func (s *Store) audit(ctx context.Context, q sqlx.ExtContext, op string) error {
	ev, ok := auditOf(ctx)
	if !ok {
		return nil
	}
	if err := insertAuditEvents(ctx, q, []AuditEvent{ev}); err != nil {
		return s.fail(op+": audit event", err)
	}
	return nil
}

// InsertAuditEvents stores events in one statement, so a caller that
// groups events (the gateway) pays one round trip per group. An event
// without an ID gets a version 7 UUID, one without At the database's
// current time; an event without an Outcome is refused.
func (s *Store) InsertAuditEvents(ctx context.Context, events []AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	// Prepared: the gateway writes a group of its calls' events at a time,
	// all through this one statement.
	args, err := auditEventArgs(events)
	if err != nil {
		return err
	}
	if err := s.preparedExec(ctx, insertAuditEventsQuery, args...); err != nil {
		return s.fail("insert audit events", err)
	}
	return nil
}

func insertAuditEvents(ctx context.Context, q sqlx.ExtContext, events []AuditEvent) error {
	args, err := auditEventArgs(events)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, insertAuditEventsQuery, args...)
	return err
}

// insertAuditEventsQuery inserts a group of events, one array per column:
// one statement text whatever the group's size, so it can be prepared.
const insertAuditEventsQuery = `
		INSERT INTO audit_events (id, tenant_id, at, action, agent_id, token_id, api_key_id, record_kind,
			record_id, tool, outcome, duration_ms, error)
		SELECT id, tenant_id, date_trunc('milliseconds', coalesce(at, clock_timestamp())), action, agent_id,
			token_id, api_key_id, record_kind, record_id, tool, outcome, duration_ms, error
		FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::uuid[], $6::uuid[], $7::uuid[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::text[])
			AS e(id, tenant_id, at, action, agent_id, token_id, api_key_id, record_kind, record_id, tool,
				outcome, duration_ms, error)`

// auditEventArgs are insertAuditEventsQuery's arguments for events: each
// column an array literal in PostgreSQL's text form, written here rather
// than by pq.Array, whose reflection cost the gateway's audit writer a
// fifth of its CPU per group.
func auditEventArgs(events []AuditEvent) ([]any, error) {
	var cols [13]arrayLiteral
	for i, ev := range events {
		if ev.Action == "" || ev.Outcome == "" {
			return nil, fmt.Errorf("audit event %d: action and outcome are required", i)
		}
		if ev.ID == uuid.Nil {
			ev.ID = newAuditEventID()
		}
		cols[0].uuid(&ev.ID)
		cols[1].uuid(&ev.TenantID)
		if ev.At.IsZero() {
			cols[2].null()
		} else {
			cols[2].bare(ev.At.UTC().AppendFormat(cols[2].open(), time.RFC3339Nano))
		}
		cols[3].text(&ev.Action)
		cols[4].uuid(ev.AgentID)
		cols[5].uuid(ev.TokenID)
		cols[6].uuid(ev.APIKeyID)
		cols[7].text(ev.RecordKind)
		cols[8].text(ev.RecordID)
		cols[9].text(ev.Tool)
		cols[10].text(&ev.Outcome)
		if ev.DurationMs == nil {
			cols[11].null()
		} else {
			cols[11].bare(strconv.AppendInt(cols[11].open(), *ev.DurationMs, 10))
		}
		cols[12].text(ev.Error)
	}
	args := make([]any, len(cols))
	for i := range cols {
		args[i] = cols[i].String()
	}
	return args, nil
}

// arrayLiteral builds a one-dimensional array in PostgreSQL's text input
// form ("{a,NULL,\"b c\"}"), an element at a time.
type arrayLiteral struct{ b []byte }

// open starts an element and returns the buffer to append it to; bare
// takes the result back.
func (a *arrayLiteral) open() []byte {
	if len(a.b) == 0 {
		a.b = append(a.b, '{')
	} else {
		a.b = append(a.b, ',')
	}
	return a.b
}

func (a *arrayLiteral) bare(b []byte) { a.b = b }

func (a *arrayLiteral) null() { a.b = append(a.open(), "NULL"...) }

func (a *arrayLiteral) uuid(id *uuid.UUID) {
	if id == nil {
		a.null()
		return
	}
	a.b = append(a.open(), id.String()...)
}

// text appends s quoted, so that no value (empty, "NULL", one with commas,
// braces, quotes or backslashes) is read as anything but itself.
func (a *arrayLiteral) text(s *string) {
	if s == nil {
		a.null()
		return
	}
	b := append(a.open(), '"')
	for i := 0; i < len(*s); i++ {
		if c := (*s)[i]; c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, (*s)[i])
	}
	a.b = append(b, '"')
}

// String is the literal; "{}" when no element was added.
func (a *arrayLiteral) String() string {
	if len(a.b) == 0 {
		return "{}"
	}
	return string(append(a.b, '}'))
}

// ListAuditEvents returns a page of the tenant's audit events, newest
// first, and the cursor of the next (older) page when there is one. Pages
// are keyed on (at, id), so events written while a client pages never make
// it see one twice.
func (s *Store) ListAuditEvents(ctx context.Context, p ListAuditEventsParams) ([]AuditEvent, *Cursor, error) {
	if p.Limit < 1 || p.Limit > contract.MaxPageLimit {
		return nil, nil, fmt.Errorf("list audit events: limit must be between 1 and %d, got %d", contract.MaxPageLimit, p.Limit)
	}
	where := []string{"tenant_id = :tenant_id"}
	arg := map[string]any{"tenant_id": p.TenantID, "limit": p.Limit + 1}
	where = filterOn(where, arg, "agent_id = :agent_id", "agent_id", p.AgentID)
	where = filterOn(where, arg, "record_id = :record_id", "record_id", p.RecordID)
	where = filterOn(where, arg, "action = :action", "action", p.Action)
	where = filterOn(where, arg, "at >= :since", "since", p.Since)
	if p.After != nil {
		where = append(where, "(at, id) < (CAST(:after_at AS timestamptz), CAST(:after_id AS uuid))")
		arg["after_at"], arg["after_id"] = p.After.CreatedAt, p.After.ID
	}
	rows := []AuditEvent{}
	err := namedSelect(ctx, s.db, &rows, `SELECT `+auditEventColumns+` FROM audit_events
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY at DESC, id DESC
		LIMIT :limit`, arg)
	if err != nil {
		return nil, nil, s.fail("list audit events", err)
	}
	for i := range rows {
		rows[i] = rows[i].utc()
	}
	if len(rows) <= p.Limit {
		return rows, nil, nil
	}
	rows = rows[:p.Limit]
	last := rows[len(rows)-1]
	return rows, &Cursor{CreatedAt: last.At, ID: last.ID.String()}, nil
}

// filterOn is where with cond added, and arg with cond's parameter name
// set to *v, when v is set; nil matches every row.
func filterOn[T any](where []string, arg map[string]any, cond, name string, v *T) []string {
	if v == nil {
		return where
	}
	arg[name] = *v
	return append(where, cond)
}

// newAuditEventID is a version 7 UUID, so ids of one millisecond still
// order by creation.
func newAuditEventID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}
