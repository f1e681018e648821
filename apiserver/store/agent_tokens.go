package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq/pqerror"
)

// AgentToken is a row of agent_tokens. The token itself is never stored:
// TokenHash is its SHA-256.
type AgentToken struct {
	Key[uuid.UUID]
	AgentID   uuid.UUID  `db:"agent_id"`
	Name      string     `db:"name"`
	TokenHash []byte     `db:"token_hash"`
	ExpiresAt *time.Time `db:"expires_at"`
	RevokedAt *time.Time `db:"revoked_at"`
	CreatedAt time.Time  `db:"created_at"`
}

func (t AgentToken) utc() AgentToken {
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt = utcPtr(t.ExpiresAt)
	t.RevokedAt = utcPtr(t.RevokedAt)
	return t
}

// AgentTokenIDs are UUIDs.
var AgentTokenIDs = IDFormat{uuid: true}

// ListAgentTokensParams selects a page of an agent's unrevoked tokens.
type ListAgentTokensParams struct {
	TenantID uuid.UUID
	AgentID  uuid.UUID
	Limit    int // 1..contract.MaxPageLimit
	After    *Cursor
}

// AgentCaller is who an agent token authenticates.
type AgentCaller struct {
	TenantID uuid.UUID `db:"tenant_id"`
	AgentID  uuid.UUID `db:"agent_id"`
	TokenID  uuid.UUID `db:"id"`
	// ExpiresAt is when the token stops working, if ever: a cache of
	// verified tokens must not outlive it.
	ExpiresAt *time.Time `db:"expires_at"`
}

const agentTokenColumns = `id, tenant_id, agent_id, name, token_hash, expires_at, revoked_at, created_at`

// CreateAgentToken inserts t. The caller sets ID, TenantID, AgentID, Name,
// TokenHash and ExpiresAt; the store fills the stored values back into t.
// ErrNotFound: the tenant has no such agent.
func (s *Store) CreateAgentToken(ctx context.Context, t *AgentToken) error {
	if t.ID == uuid.Nil || len(t.TokenHash) == 0 {
		return errors.New("create agent token: the caller must assign an id and the token's hash")
	}
	var row AgentToken
	err := s.write(ctx, "create agent token", func(q sqlx.ExtContext) error {
		return namedGet(ctx, q, &row, `
			INSERT INTO agent_tokens (id, tenant_id, agent_id, name, token_hash, expires_at, created_at)
			VALUES (:id, :tenant_id, :agent_id, :name, :token_hash,
				date_trunc('milliseconds', CAST(:expires_at AS timestamptz)), date_trunc('milliseconds', now()))
			RETURNING `+agentTokenColumns,
			map[string]any{"id": t.ID, "tenant_id": t.TenantID, "agent_id": t.AgentID, "name": t.Name,
				"token_hash": t.TokenHash, "expires_at": t.ExpiresAt})
	})
	switch {
	case constraint(err, pqerror.ForeignKeyViolation) != "":
		return ErrNotFound
	case constraint(err, pqerror.UniqueViolation) == "agent_tokens_token_hash_key":
		return errors.New("create agent token: a token with this hash already exists; generate a new token")
	case err != nil:
		return s.fail("create agent token", err)
	}
	*t = row.utc()
	return nil
}

// ListAgentTokens returns a page of the agent's unrevoked tokens (expired
// ones included, so their owner sees them) in creation order, and the
// cursor of the next page when there is one. An agent that does not exist
// has none.
func (s *Store) ListAgentTokens(ctx context.Context, p ListAgentTokensParams) ([]AgentToken, *Cursor, error) {
	q := pageQuery{op: "list agent tokens", table: "agent_tokens", columns: agentTokenColumns, idType: "uuid",
		filters: map[string]*string{"agent_id": new(p.AgentID.String())}, conditions: []string{"revoked_at IS NULL"},
		limit: p.Limit, after: p.After}
	return selectPage[AgentToken](ctx, s, p.TenantID, q, func(last AgentToken) Cursor {
		return Cursor{CreatedAt: last.CreatedAt, ID: last.ID.String()}
	})
}

// RevokeAgentToken marks the agent's token revoked now; AgentForToken no
// longer returns it. ErrNotFound: the tenant's agent has no such
// unrevoked token.
func (s *Store) RevokeAgentToken(ctx context.Context, tenantID, agentID, id uuid.UUID) error {
	return s.write(ctx, "revoke agent token", func(q sqlx.ExtContext) error {
		return deleteRow(ctx, s, q, "revoke agent token", `
			UPDATE agent_tokens SET revoked_at = date_trunc('milliseconds', clock_timestamp())
			WHERE tenant_id = :tenant_id AND agent_id = :agent_id AND id = :id AND revoked_at IS NULL`,
			map[string]any{"tenant_id": tenantID, "agent_id": agentID, "id": id})
	})
}

// AgentForToken returns the tenant, agent and token id of the unrevoked,
// unexpired agent token with this hash, or ErrNotFound.
func (s *Store) AgentForToken(ctx context.Context, tokenHash []byte) (AgentCaller, error) {
	var c AgentCaller
	// prepared: every gateway request whose token is not cached runs it
	err := s.preparedGet(ctx, &c, `SELECT id, tenant_id, agent_id, expires_at FROM agent_tokens
		WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`, tokenHash)
	if errors.Is(err, sql.ErrNoRows) {
		return AgentCaller{}, ErrNotFound
	}
	if err != nil {
		return AgentCaller{}, s.fail("look up agent token", err)
	}
	c.ExpiresAt = utcPtr(c.ExpiresAt)
	return c, nil
}
