package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq/pqerror"
)

// The endpoint kinds of a gateway session.
const (
	GatewayServerEndpoint = "server" // /mcp/servers/{id}
	GatewayAgentEndpoint  = "agent"  // /mcp/agents/{id}
)

// GatewaySession is a row of gateway_sessions: a stateful MCP session of
// the gateway, shared by every replica so that any of them can continue it.
type GatewaySession struct {
	ID           string     `db:"id"`
	TenantID     uuid.UUID  `db:"tenant_id"`
	EndpointKind string     `db:"endpoint_kind"`
	EndpointID   string     `db:"endpoint_id"`
	APIKeyID     *uuid.UUID `db:"api_key_id"`
	AgentID      *uuid.UUID `db:"agent_id"`
	TokenID      *uuid.UUID `db:"token_id"`
	// InitializeParams is the client's initialize request's params as JSON.
	InitializeParams json.RawMessage `db:"initialize_params"`
	CreatedAt        time.Time       `db:"created_at"`
	LastSeenAt       time.Time       `db:"last_seen_at"`
}

const gatewaySessionColumns = `id, tenant_id, endpoint_kind, endpoint_id, api_key_id, agent_id, token_id,
	initialize_params, created_at, last_seen_at`

// CreateGatewaySession inserts s; the store fills CreatedAt and LastSeenAt
// back in. An id already taken is an error (session ids are random text).
func (s *Store) CreateGatewaySession(ctx context.Context, gs *GatewaySession) error {
	if gs.ID == "" || len(gs.InitializeParams) == 0 {
		return errors.New("create gateway session: the caller must give the session id and its initialize params")
	}
	var row GatewaySession
	err := namedGet(ctx, s.db, &row, `
		INSERT INTO gateway_sessions (id, tenant_id, endpoint_kind, endpoint_id, api_key_id, agent_id, token_id, initialize_params)
		VALUES (:id, :tenant_id, :endpoint_kind, :endpoint_id, :api_key_id, :agent_id, :token_id, CAST(:initialize_params AS jsonb))
		RETURNING `+gatewaySessionColumns,
		map[string]any{"id": gs.ID, "tenant_id": gs.TenantID, "endpoint_kind": gs.EndpointKind, "endpoint_id": gs.EndpointID,
			"api_key_id": gs.APIKeyID, "agent_id": gs.AgentID, "token_id": gs.TokenID, "initialize_params": string(gs.InitializeParams)})
	switch {
	case constraint(err, pqerror.UniqueViolation) != "":
		return errors.New("create gateway session: the session id is already taken; open a new session")
	case constraint(err, pqerror.ForeignKeyViolation) != "":
		return ErrNotFound
	case err != nil:
		return s.fail("create gateway session", err)
	}
	*gs = row.utc()
	return nil
}

// TouchGatewaySession marks the session seen now and returns it; a session
// deleted, or idle longer than idle, is ErrNotFound. A replica continuing
// a session calls it when it first serves it and then every few seconds:
// that keeps the row alive and tells the replica when the session has been
// deleted through another.
func (s *Store) TouchGatewaySession(ctx context.Context, id string, idle time.Duration) (GatewaySession, error) {
	var row GatewaySession
	err := namedGet(ctx, s.db, &row, `
		UPDATE gateway_sessions SET last_seen_at = now()
		WHERE id = :id AND last_seen_at > now() - CAST(:idle_ms AS bigint) * interval '1 millisecond'
		RETURNING `+gatewaySessionColumns,
		map[string]any{"id": id, "idle_ms": idle.Milliseconds()})
	if errors.Is(err, sql.ErrNoRows) {
		return GatewaySession{}, ErrNotFound
	}
	if err != nil {
		return GatewaySession{}, s.fail("touch gateway session", err)
	}
	return row.utc(), nil
}

// DeleteGatewaySession deletes the session (the client ended it); deleting
// one that is not there is not an error.
func (s *Store) DeleteGatewaySession(ctx context.Context, id string) error {
	if _, err := namedExec(ctx, s.db, `DELETE FROM gateway_sessions WHERE id = :id`, map[string]any{"id": id}); err != nil {
		return s.fail("delete gateway session", err)
	}
	return nil
}

// DeleteIdleGatewaySessions deletes the sessions no replica has seen for
// longer than idle and returns how many there were.
func (s *Store) DeleteIdleGatewaySessions(ctx context.Context, idle time.Duration) (int64, error) {
	res, err := namedExec(ctx, s.db, `
		DELETE FROM gateway_sessions
		WHERE last_seen_at <= now() - CAST(:idle_ms AS bigint) * interval '1 millisecond'`,
		map[string]any{"idle_ms": idle.Milliseconds()})
	if err != nil {
		return 0, s.fail("delete idle gateway sessions", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (gs GatewaySession) utc() GatewaySession {
	gs.CreatedAt = gs.CreatedAt.UTC()
	gs.LastSeenAt = gs.LastSeenAt.UTC()
	return gs
}
