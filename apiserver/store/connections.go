package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Connection is a row of mcp_connections. Its bearer token is sealed
// (SealedToken); the store never sees it in the clear.
type Connection struct {
	Key[uuid.UUID]
	Name      string `db:"name"`
	ServerURL string `db:"server_url"`
	AuthType  string `db:"auth_type"`
	SealedToken
	UpstreamAuth
	// LastHealthCheckAt is when the last check, passing or not, was stored.
	LastHealthCheckAt *time.Time `db:"last_health_check_at"`
	Timestamps
	Health
}

// ListConnectionsParams selects a page of a tenant's connections.
type ListConnectionsParams struct {
	TenantID uuid.UUID
	Name     *string // exact match
	Status   *string
	Limit    int     // 1..contract.MaxPageLimit
	After    *Cursor // nil for the first page
}

// ConnectionTokenAAD binds a connection's sealed bearer token to its row,
// so a ciphertext copied onto another row does not open.
func ConnectionTokenAAD(id uuid.UUID) []byte {
	return []byte("mcp_connections:" + id.String())
}

const connectionColumns = `id, tenant_id, name, server_url, auth_type, ` + sealedTokenColumns + `, ` + upstreamAuthColumns + `,
	last_health_check_at, ` + timestampColumns + `, ` + healthColumns

// getConnectionQuery is prepared: GET /api/mcp-connections/{id} runs it on
// every request.
const getConnectionQuery = `SELECT ` + connectionColumns + ` FROM mcp_connections
	WHERE tenant_id = $1 AND id = $2`

// connections are the rows of mcp_connections.
var connections = kind[Connection, Connection]{table: "mcp_connections", noun: "connection", columns: connectionColumns,
	idType: "uuid", set: assign("name", "server_url", "auth_type", "token_ciphertext", "token_key_id", "upstream_auth",
		"auth_secrets_ciphertext", "auth_secrets_key_id", "status",
		"instructions", "last_error") + `,
				last_health_check_at = date_trunc('milliseconds', CAST(:last_health_check_at AS timestamptz)),
				` + assign("capabilities", "server_name", "server_version") + checkedSetSQL,
	cursor:  func(c Connection) Cursor { return Cursor{CreatedAt: c.CreatedAt, ID: c.ID.String()} },
	refused: (*Store).connectionError}

// CreateConnection inserts c. The caller sets ID, TenantID, Name, ServerURL,
// AuthType, the token fields and UpstreamAuth; the store sets Status to "unknown", clears
// the health fields, makes the row due for a check and fills the stored
// values back into c. ErrNameTaken: the tenant already has a connection with
// that name; ErrNotFound: the tenant does not exist.
func (s *Store) CreateConnection(ctx context.Context, c *Connection) error {
	if c.ID == uuid.Nil {
		return errors.New("create connection: the caller must assign an id (the sealed token is bound to it)")
	}
	return connections.create(ctx, s, c, `
		INSERT INTO mcp_connections (id, tenant_id, name, server_url, auth_type, token_ciphertext, token_key_id,
			upstream_auth, auth_secrets_ciphertext, auth_secrets_key_id, status, next_check_at, created_at, updated_at)
		VALUES (:id, :tenant_id, :name, :server_url, :auth_type, :token_ciphertext, :token_key_id,
			:upstream_auth, :auth_secrets_ciphertext, :auth_secrets_key_id, 'unknown', date_trunc('milliseconds', now()), date_trunc('milliseconds', now()), date_trunc('milliseconds', now()))`,
		*c)
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
	return connections.list(ctx, s, p.TenantID, map[string]*string{"name": p.Name, "status": p.Status}, p.Limit, p.After)
}

// UpdateConnection changes the tenant's connection id under a row lock: it
// reads the row, lets fn change it, and writes every mutable column back, so
// concurrent updates of one row apply one after the other. If fn returns an
// error nothing is written and that error is returned as is. ID, TenantID and
// CreatedAt are not mutable; UpdatedAt becomes the database's current time;
// NextCheckAt is kept when fn leaves it zero, and DueNow makes the row due at
// once. Times are stored at millisecond precision and the stored row is
// returned. ErrNotFound: no such connection for the tenant; ErrNameTaken: the
// new name is used by another of its connections; ErrUnknownToolsHash: fn
// approved a toolsHash the connection has never had.
func (s *Store) UpdateConnection(ctx context.Context, tenantID, id uuid.UUID, fn func(*Connection) error) (Connection, error) {
	return connections.update(ctx, s, tenantID, id, fn, func(tx *sqlx.Tx, current, row Connection) (any, error) {
		if err := checkApproval(ctx, tx, ConnectionRecords, id.String(), current.ApprovedToolsHash, row.ApprovedToolsHash); err != nil {
			return nil, s.fail("update connection", err)
		}
		row.ID, row.TenantID = current.ID, current.TenantID
		row.NextCheckAt = nextCheckAt(row.NextCheckAt, current.NextCheckAt)
		return row, nil
	})
}

// DeleteConnection deletes the tenant's connection id, or returns ErrNotFound.
// Its agent assignments go with it.
func (s *Store) DeleteConnection(ctx context.Context, tenantID, id uuid.UUID) error {
	return s.deleteByID(ctx, "delete connection", "mcp_connections", tenantID, id)
}

// ReencryptConnectionSecrets calls fn for every stored connection token and
// every sealed AuthSecrets (aad says which: ConnectionTokenAAD or
// ConnectionAuthAAD), across all tenants, and
// stores what fn returns whenever the key id changes; it returns how many rows
// it changed. Rows are handled in batches of their own transactions, so a
// large table is never locked at once; on error the batches already done stay
// done and their count is returned with the error.
func (s *Store) ReencryptConnectionSecrets(ctx context.Context, fn func(aad []byte, ciphertext []byte, keyID string) ([]byte, string, error)) (int, error) {
	return s.reencryptAll(ctx, "mcp_connections", "connection", uuid.Nil.String(), []sealedColumns{
		{what: "token", ciphertext: "token_ciphertext", keyID: "token_key_id", aad: func(id string) ([]byte, error) {
			parsed, err := uuid.Parse(id)
			return ConnectionTokenAAD(parsed), err
		}},
		{what: "auth secrets", ciphertext: "auth_secrets_ciphertext", keyID: "auth_secrets_key_id", aad: func(id string) ([]byte, error) {
			parsed, err := uuid.Parse(id)
			return ConnectionAuthAAD(parsed), err
		}},
	}, fn)
}

// ClaimDueConnections takes up to limit connections, across all tenants,
// whose next check is due, oldest first, and pushes their next_check_at to
// now plus lease so no other claimer takes them meanwhile. The lease is also
// the crash recovery: a row whose check is never recorded is due again when
// it expires. Concurrent claimers (replicas) get disjoint rows without
// waiting on each other.
func (s *Store) ClaimDueConnections(ctx context.Context, limit int, lease time.Duration) ([]Connection, error) {
	if err := claimable("claim due connections", limit, lease); err != nil {
		return nil, err
	}
	// The ARRAY(...) subquery runs once, before the update, and its ids are
	// then looked up by primary key. SKIP LOCKED makes replicas claim past
	// each other's rows instead of queueing behind them.
	rows := []Connection{}
	err := namedSelect(ctx, s.db, &rows, `
		UPDATE mcp_connections
		SET next_check_at = `+leaseSQL+`
		WHERE id = ANY(ARRAY(
			SELECT id FROM mcp_connections
			WHERE next_check_at <= now()
			ORDER BY next_check_at
			LIMIT :limit
			FOR UPDATE SKIP LOCKED
		))
		RETURNING `+connectionColumns,
		map[string]any{"limit": limit, "lease_ms": lease.Milliseconds()})
	if err != nil {
		return nil, s.fail("claim due connections", err)
	}
	return utcAll(rows), nil
}

// RecordConnectionCheck stores the result of checking c, a row as it was
// read (claimed or loaded) before the check: status active or error,
// last_error (cleared on a pass), instructions (replaced on a pass, kept on
// a failure), last_health_check_at and updated_at set to the database's
// current time, and the next check due interval later. It returns the
// stored row. The result is stored only if c's server URL, auth type,
// token and upstream auth are still those of the row; otherwise it returns the current row
// and ErrChanged. ErrNotFound: the row is gone.
func (s *Store) RecordConnectionCheck(ctx context.Context, c Connection, r CheckResult, interval time.Duration) (Connection, error) {
	return recordOne(ctx, s.RecordConnectionChecks, Check[Connection]{Record: c, Result: r}, interval)
}

// RecordConnectionChecks stores several results as RecordConnectionCheck
// does, in one statement, and returns an outcome per check in the same
// order. The error is for the whole batch (nothing was stored).
func (s *Store) RecordConnectionChecks(ctx context.Context, checks []Check[Connection], interval time.Duration) ([]CheckOutcome[Connection], error) {
	return connectionChecks.record(ctx, s, checks, interval)
}

// connectionChecks stores the checks of connections: last_health_check_at
// is set by every check, and a result is stored only while the row has the
// server URL and auth type it was checked with.
var connectionChecks = checkedKind[Connection, Connection]{records: ConnectionRecords, noun: "connection",
	passed: "active", silent: "the health check failed without saying why",
	query: checkWriteSQL(ConnectionRecords, connectionColumns, checkedSQL{
		unnest: `, CAST(:urls AS text[]), CAST(:auths AS text[])`,
		names:  `, server_url, auth_type`,
		set: `,
			last_health_check_at = greatest(t.now, m.updated_at)`,
		guard: `
			AND m.server_url = r.server_url
			AND m.auth_type = r.auth_type`}),
	row: func(c Connection) checkedRow {
		return checkedRow{id: c.ID.String(), tenantID: c.TenantID, token: c.TokenCiphertext, auth: c.UpstreamAuth, state: c.CheckState}
	},
	inputs: func(checks []Check[Connection], w checkWrite) (any, error) {
		arg := struct {
			checkWrite
			URLs  pq.StringArray `db:"urls"`
			Auths pq.StringArray `db:"auths"`
		}{w, make(pq.StringArray, len(checks)), make(pq.StringArray, len(checks))}
		for j, ch := range checks {
			arg.URLs[j], arg.Auths[j] = ch.Record.ServerURL, ch.Record.AuthType
		}
		return arg, nil
	},
	get: func(ctx context.Context, s *Store, c Connection) (Connection, error) {
		return s.GetConnection(ctx, c.TenantID, c.ID)
	},
	rebase: func(checked, stored Connection) Connection { checked.CheckState = stored.CheckState; return checked },
}

// connectionError turns constraint violations into errors that say what is
// wrong with c.
func (s *Store) connectionError(op string, c *Connection, err error) error {
	return s.refusal(op, constraints{noun: "connection", id: c.ID, tenantID: c.TenantID,
		nameKey: "mcp_connections_tenant_id_name_key", idKeys: []string{"mcp_connections_pkey"},
		checks: map[string]string{
			"mcp_connections_auth_type_check":  fmt.Sprintf("auth type %q is not bearer, none or oauth2", c.AuthType),
			"mcp_connections_status_check":     fmt.Sprintf("status %q is not active, error or unknown", c.Status),
			"mcp_connections_token_pair_check": "the token ciphertext and its key id must be set together",
			"mcp_connections_token_auth_check": fmt.Sprintf("auth type %q with a token present=%t; bearer needs a token and none must have none",
				c.AuthType, c.TokenCiphertext != nil),
			"mcp_connections_upstream_auth_check":     "the upstream auth settings must be a JSON object",
			"mcp_connections_auth_secrets_pair_check": "the auth secrets ciphertext and its key id must be set together",
			"mcp_connections_oauth2_auth_check": fmt.Sprintf("auth type %q with oauth2 settings present=%t; oauth2 needs them and no other auth type may have them",
				c.AuthType, c.AuthSettings.OAuth2 != nil),
		}}, err)
}

// utc puts every time in UTC: lib/pq returns the session's time zone, and
// the API speaks UTC.
func (c Connection) utc() Connection {
	c.Timestamps = c.Timestamps.utc()
	c.Health = c.Health.utc()
	c.LastHealthCheckAt = utcPtr(c.LastHealthCheckAt)
	return c
}
