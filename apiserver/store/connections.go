package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq/pqerror"
)

const connectionColumns = `id, tenant_id, name, server_url, auth_type, token_ciphertext, token_key_id,
	status, instructions, last_error, last_health_check_at, next_check_at, created_at, updated_at`

// getConnectionQuery is prepared: GET /api/mcp-connections/{id} runs it on
// every request.
const getConnectionQuery = `SELECT ` + connectionColumns + ` FROM mcp_connections
	WHERE tenant_id = $1 AND id = $2`

// MaxListLimit is the largest page ListConnections returns.
const MaxListLimit = 100

// CreateConnection inserts c. The caller sets ID, TenantID, Name, ServerURL,
// AuthType and the token fields; the store sets Status to "unknown", clears
// the health fields, makes the row due for a check and fills the stored
// values back into c. ErrNameTaken: the tenant already has a connection with
// that name; ErrNotFound: the tenant does not exist.
func (s *Store) CreateConnection(ctx context.Context, c *Connection) error {
	if c.ID == uuid.Nil {
		return errors.New("create connection: the caller must assign an id (the sealed token is bound to it)")
	}
	var row Connection
	err := namedGet(ctx, s.db, &row, `
		INSERT INTO mcp_connections (id, tenant_id, name, server_url, auth_type, token_ciphertext, token_key_id,
			status, next_check_at, created_at, updated_at)
		VALUES (:id, :tenant_id, :name, :server_url, :auth_type, :token_ciphertext, :token_key_id,
			'unknown', date_trunc('milliseconds', now()), date_trunc('milliseconds', now()), date_trunc('milliseconds', now()))
		RETURNING `+connectionColumns,
		map[string]any{
			"id":               c.ID,
			"tenant_id":        c.TenantID,
			"name":             c.Name,
			"server_url":       c.ServerURL,
			"auth_type":        c.AuthType,
			"token_ciphertext": c.TokenCiphertext,
			"token_key_id":     c.TokenKeyID,
		})
	if err != nil {
		return s.connectionError("create connection", c, err)
	}
	*c = row.utc()
	return nil
}

// GetConnection returns the tenant's connection id, or ErrNotFound (also when
// it belongs to another tenant).
func (s *Store) GetConnection(ctx context.Context, tenantID, id uuid.UUID) (Connection, error) {
	var c Connection
	err := s.preparedGet(ctx, &c, getConnectionQuery, tenantID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Connection{}, ErrNotFound
	}
	if err != nil {
		return Connection{}, s.fail("get connection", err)
	}
	return c.utc(), nil
}

// ListConnections returns a page of the tenant's connections in creation
// order, and the cursor of the next page when there is one. Pages are keyed
// on (created_at, id), so rows added while a client pages through never make
// it see a row twice or miss one that existed when it started.
func (s *Store) ListConnections(ctx context.Context, p ListConnectionsParams) ([]Connection, *Cursor, error) {
	q := pageQuery{op: "list connections", table: "mcp_connections", columns: connectionColumns, idType: "uuid",
		filters: map[string]*string{"name": p.Name, "status": p.Status}, limit: p.Limit}
	if p.After != nil {
		q.afterAt, q.afterID = p.After.CreatedAt, p.After.ID
	}
	rows, more, err := selectPage[Connection](ctx, s, p.TenantID, q)
	if err != nil || !more {
		return rows, nil, err
	}
	last := rows[len(rows)-1]
	return rows, &Cursor{CreatedAt: last.CreatedAt, ID: last.ID}, nil
}

// UpdateConnection changes the tenant's connection id under a row lock: it
// reads the row, lets fn change it, and writes every mutable column back, so
// concurrent updates of one row apply one after the other. If fn returns an
// error nothing is written and that error is returned as is. ID, TenantID and
// CreatedAt are not mutable. UpdatedAt becomes the database's current time,
// unless fn set it to another value (a health check does, so that updatedAt
// equals lastHealthCheckAt); times are stored at millisecond precision and the
// stored row is returned. ErrNotFound: no such connection for the tenant;
// ErrNameTaken: the new name is used by another of its connections.
func (s *Store) UpdateConnection(ctx context.Context, tenantID, id uuid.UUID, fn func(*Connection) error) (Connection, error) {
	var stored Connection
	err := s.inTx(ctx, "update connection", func(tx *sqlx.Tx) error {
		var current Connection
		err := namedGet(ctx, tx, &current, `SELECT `+connectionColumns+` FROM mcp_connections
			WHERE tenant_id = :tenant_id AND id = :id
			FOR UPDATE`,
			map[string]any{"tenant_id": tenantID, "id": id})
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return s.fail("update connection", err)
		}
		current = current.utc()
		row := current
		if err := fn(&row); err != nil {
			return err
		}
		var updatedAt any // nil: the database clock
		if !row.UpdatedAt.Equal(current.UpdatedAt) && !row.UpdatedAt.IsZero() {
			updatedAt = row.UpdatedAt
		}
		nextCheckAt := row.NextCheckAt
		if nextCheckAt.IsZero() {
			nextCheckAt = current.NextCheckAt
		}
		// clock_timestamp, not now(): now() is when the transaction began,
		// which may be before a concurrent writer we waited for committed.
		err = namedGet(ctx, tx, &stored, `
			UPDATE mcp_connections SET
				name = :name,
				server_url = :server_url,
				auth_type = :auth_type,
				token_ciphertext = :token_ciphertext,
				token_key_id = :token_key_id,
				status = :status,
				instructions = :instructions,
				last_error = :last_error,
				last_health_check_at = date_trunc('milliseconds', CAST(:last_health_check_at AS timestamptz)),
				next_check_at = date_trunc('milliseconds', CAST(:next_check_at AS timestamptz)),
				updated_at = COALESCE(date_trunc('milliseconds', CAST(:updated_at AS timestamptz)),
					date_trunc('milliseconds', clock_timestamp()))
			WHERE tenant_id = :tenant_id AND id = :id
			RETURNING `+connectionColumns,
			map[string]any{
				"tenant_id":            tenantID,
				"id":                   id,
				"name":                 row.Name,
				"server_url":           row.ServerURL,
				"auth_type":            row.AuthType,
				"token_ciphertext":     row.TokenCiphertext,
				"token_key_id":         row.TokenKeyID,
				"status":               row.Status,
				"instructions":         row.Instructions,
				"last_error":           row.LastError,
				"last_health_check_at": row.LastHealthCheckAt,
				"next_check_at":        nextCheckAt,
				"updated_at":           updatedAt,
			})
		if err != nil {
			return s.connectionError("update connection", &row, err)
		}
		return nil
	})
	if err != nil {
		return Connection{}, err
	}
	return stored.utc(), nil
}

// DeleteConnection deletes the tenant's connection id, or returns ErrNotFound.
func (s *Store) DeleteConnection(ctx context.Context, tenantID, id uuid.UUID) error {
	res, err := namedExec(ctx, s.db, `DELETE FROM mcp_connections WHERE tenant_id = :tenant_id AND id = :id`,
		map[string]any{"tenant_id": tenantID, "id": id})
	if err != nil {
		return s.fail("delete connection", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail("delete connection", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ReencryptTokens calls fn for every stored token, across all tenants, and
// stores what fn returns whenever the key id changes; it returns how many rows
// it changed. Rows are handled in batches of their own transactions, so a
// large table is never locked at once; on error the batches already done stay
// done and their count is returned with the error.
func (s *Store) ReencryptTokens(ctx context.Context, fn func(id uuid.UUID, ciphertext []byte, keyID string) ([]byte, string, error)) (int, error) {
	return s.reencrypt(ctx, "mcp_connections", "connection", uuid.Nil.String(),
		func(id string, ciphertext []byte, keyID string) ([]byte, string, error) {
			parsed, err := uuid.Parse(id)
			if err != nil {
				return nil, "", err
			}
			return fn(parsed, ciphertext, keyID)
		})
}

// connectionError turns constraint violations into errors that say what is
// wrong with c.
func (s *Store) connectionError(op string, c *Connection, err error) error {
	switch constraint(err, pqerror.UniqueViolation) {
	case "mcp_connections_tenant_id_name_key":
		return ErrNameTaken
	case "mcp_connections_pkey":
		return fmt.Errorf("%s: id %s is already used by another connection", op, c.ID)
	}
	if constraint(err, pqerror.ForeignKeyViolation) != "" {
		return fmt.Errorf("%s: tenant %s: %w", op, c.TenantID, ErrNotFound)
	}
	switch constraint(err, pqerror.CheckViolation) {
	case "mcp_connections_auth_type_check":
		return fmt.Errorf("%s: auth type %q is neither bearer nor none", op, c.AuthType)
	case "mcp_connections_status_check":
		return fmt.Errorf("%s: status %q is not active, error or unknown", op, c.Status)
	case "mcp_connections_token_pair_check":
		return fmt.Errorf("%s: the token ciphertext and its key id must be set together", op)
	case "mcp_connections_token_auth_check":
		return fmt.Errorf("%s: auth type %q with a token present=%t; bearer needs a token and none must have none", op, c.AuthType, c.TokenCiphertext != nil)
	}
	return s.fail(op, err)
}

// utc puts every time in UTC: lib/pq returns the session's time zone, and
// the API speaks UTC.
func (c Connection) utc() Connection {
	c.CreatedAt = c.CreatedAt.UTC()
	c.UpdatedAt = c.UpdatedAt.UTC()
	c.NextCheckAt = c.NextCheckAt.UTC()
	if c.LastHealthCheckAt != nil {
		t := c.LastHealthCheckAt.UTC()
		c.LastHealthCheckAt = &t
	}
	return c
}
