package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrProjectNotFound means a server names a project its tenant does not have.
var ErrProjectNotFound = errors.New("project not found")

// Server is a row of mcp_servers. Its bearer token is sealed (SealedToken)
// and bound to the row by ServerTokenAAD.
type Server struct {
	Key[string]
	ProjectID      string  `db:"project_id"`
	Name           string  `db:"name"`
	Description    *string `db:"description"`
	URL            *string `db:"url"`            // http and sse only
	TransportType  string  `db:"transport_type"` // stdio, http or sse
	ConnectionType string  `db:"connection_type"`
	// AuthType is bearer, none or oauth2; none for stdio.
	AuthType string  `db:"auth_type"`
	Command  *string `db:"command"` // stdio only
	// Args is stdio only; nil otherwise (and never nil for stdio). It is
	// scanned through serverRow.
	Args []string `db:"-"`
	SealedToken
	UpstreamAuth
	// LastConnectedAt is when the last passing check was stored.
	LastConnectedAt *time.Time `db:"last_connected_at"`
	Timestamps
	Health
}

// serverRow is how a Server is scanned: lib/pq's array type stays in the
// store, and Server.Args is a plain slice.
type serverRow struct {
	Server
	Args pq.StringArray `db:"args"`
}

// utc returns the row as a Server with every time in UTC: lib/pq returns the
// session's time zone.
func (r serverRow) utc() Server {
	srv := r.Server
	srv.Args = []string(r.Args)
	srv.Timestamps = srv.Timestamps.utc()
	srv.Health = srv.Health.utc()
	srv.LastConnectedAt = utcPtr(srv.LastConnectedAt)
	return srv
}

// ListServersParams selects a page of a tenant's MCP servers.
type ListServersParams struct {
	TenantID  uuid.UUID
	ProjectID *string
	Name      *string // exact match
	Status    *string
	Limit     int // 1..contract.MaxPageLimit
	After     *Cursor
}

// ServerTokenAAD binds a server's sealed bearer token to its row, so a
// ciphertext copied onto another row does not open.
func ServerTokenAAD(id string) []byte {
	return []byte("mcp_servers:" + id)
}

const serverColumns = `id, tenant_id, project_id, name, description, url, transport_type, connection_type,
	auth_type, command, args, ` + sealedTokenColumns + `, ` + upstreamAuthColumns + `, last_connected_at, ` + timestampColumns + `, ` + healthColumns

// servers are the rows of mcp_servers.
var servers = kind[serverRow, Server]{table: "mcp_servers", noun: "MCP server", columns: serverColumns, idType: "text",
	set: assign("project_id", "name", "description", "url", "transport_type", "connection_type", "auth_type", "command", "args",
		"token_ciphertext", "token_key_id", "upstream_auth", "auth_secrets_ciphertext", "auth_secrets_key_id", "status", "capabilities", "server_name", "server_version", "last_error") + `,
				last_connected_at = date_trunc('milliseconds', CAST(:last_connected_at AS timestamptz)),
				` + assign("instructions") + checkedSetSQL,
	cursor:  func(srv Server) Cursor { return Cursor{CreatedAt: srv.CreatedAt, ID: srv.ID} },
	refused: (*Store).serverError}

// CreateServer inserts srv. The caller sets ID (NewServerID; the sealed
// token is bound to it), TenantID, ProjectID, Name, Description, the
// transport fields, AuthType (empty: bearer with a token, else none), the
// token and UpstreamAuth; the store sets Status to "connecting",
// clears what probes learn, makes the row due for a check at once and fills
// the stored values back into srv. ErrProjectNotFound: the tenant has no such
// project; ErrNameTaken: the project already has a server with that name.
func (s *Store) CreateServer(ctx context.Context, srv *Server) error {
	if srv.ID == "" {
		return errors.New("create MCP server: the caller must assign an id (the sealed token is bound to it)")
	}
	if srv.AuthType == "" {
		// the API's default: bearer when a token is given, else none
		srv.AuthType = "none"
		if srv.TokenCiphertext != nil {
			srv.AuthType = "bearer"
		}
	}
	return servers.create(ctx, s, srv, `
		INSERT INTO mcp_servers (id, tenant_id, project_id, name, description, url, transport_type, connection_type,
			auth_type, command, args, token_ciphertext, token_key_id, upstream_auth, auth_secrets_ciphertext,
			auth_secrets_key_id, status, next_check_at, created_at, updated_at)
		VALUES (:id, :tenant_id, :project_id, :name, :description, :url, :transport_type, :connection_type,
			:auth_type, :command, :args, :token_ciphertext, :token_key_id, :upstream_auth, :auth_secrets_ciphertext,
			:auth_secrets_key_id, 'connecting',
			date_trunc('milliseconds', now()), date_trunc('milliseconds', now()), date_trunc('milliseconds', now()))`,
		serverRow{*srv, srv.Args})
}

// GetServer returns the tenant's MCP server id, or ErrNotFound (also when it
// belongs to another tenant).
func (s *Store) GetServer(ctx context.Context, tenantID uuid.UUID, id string) (Server, error) {
	return servers.get(ctx, s, tenantID, id)
}

// ListServers returns a page of the tenant's MCP servers in creation order,
// and the cursor of the next page when there is one.
func (s *Store) ListServers(ctx context.Context, p ListServersParams) ([]Server, *Cursor, error) {
	return servers.list(ctx, s, p.TenantID, map[string]*string{"project_id": p.ProjectID, "name": p.Name, "status": p.Status},
		p.Limit, p.After)
}

// UpdateServer changes the tenant's MCP server id under a row lock: it reads
// the row, lets fn change it, and writes every mutable column back, so
// concurrent updates of one row apply one after the other. If fn returns an
// error nothing is written and that error is returned as is. ID, TenantID
// and CreatedAt are not mutable; UpdatedAt becomes the database's current
// time; NextCheckAt is kept when fn leaves it zero, and DueNow makes the row
// due at once. ErrNotFound: no such server for the tenant;
// ErrProjectNotFound: the new project is not one of the tenant's;
// ErrNameTaken: the name is used by another server of the project;
// ErrUnknownToolsHash: fn approved a toolsHash the server has never had.
func (s *Store) UpdateServer(ctx context.Context, tenantID uuid.UUID, id string, fn func(*Server) error) (Server, error) {
	return servers.update(ctx, s, tenantID, id, fn, func(tx *sqlx.Tx, was, row Server) (any, error) {
		if err := checkApproval(ctx, tx, ServerRecords, id, was.ApprovedToolsHash, row.ApprovedToolsHash); err != nil {
			return nil, s.fail("update MCP server", err)
		}
		if err := s.checkStillProxy(ctx, tx, was, row); err != nil {
			return nil, err
		}
		row.ID, row.TenantID = was.ID, was.TenantID
		row.NextCheckAt = nextCheckAt(row.NextCheckAt, was.NextCheckAt)
		return serverRow{row, row.Args}, nil
	})
}

// DeleteServer deletes the tenant's MCP server id, or returns ErrNotFound.
// Its agent assignments go with it.
func (s *Store) DeleteServer(ctx context.Context, tenantID uuid.UUID, id string) error {
	return s.deleteByID(ctx, "delete MCP server", "mcp_servers", tenantID, id)
}

// checkStillProxy refuses to make was, a proxy server, direct while agents
// have it assigned (*ServerAssignedError). The row is locked FOR UPDATE,
// which an assignment's FOR KEY SHARE waits for, so none is added meanwhile.
func (s *Store) checkStillProxy(ctx context.Context, tx *sqlx.Tx, was, row Server) error {
	if was.ConnectionType != "proxy" || row.ConnectionType == "proxy" {
		return nil
	}
	var agents int
	if err := namedGet(ctx, tx, &agents, `SELECT count(DISTINCT agent_id) FROM agent_assignments WHERE server_id = :id`,
		map[string]any{"id": was.ID}); err != nil {
		return s.fail("update MCP server", err)
	}
	if agents > 0 {
		return &ServerAssignedError{Agents: agents}
	}
	return nil
}

// ClaimDueServers takes up to limit MCP servers, across all tenants, whose
// next check is due and which are not disconnected, oldest first, and
// pushes their next_check_at to now plus lease so no other claimer takes
// them meanwhile. The lease is also the crash recovery: a row whose check is
// never recorded (including a "connecting" row whose first probe was lost)
// is due again when it expires. Concurrent claimers get disjoint rows
// without waiting on each other.
func (s *Store) ClaimDueServers(ctx context.Context, limit int, lease time.Duration) ([]Server, error) {
	if err := claimable("claim due MCP servers", limit, lease); err != nil {
		return nil, err
	}
	rows := []serverRow{}
	err := namedSelect(ctx, s.db, &rows, `
		WITH due AS MATERIALIZED (
			SELECT id FROM mcp_servers
			WHERE next_check_at <= now() AND status <> 'disconnected'
			ORDER BY next_check_at
			LIMIT :limit
			FOR UPDATE SKIP LOCKED
		)
		UPDATE mcp_servers AS m
		SET next_check_at = `+leaseSQL+`
		FROM due
		WHERE m.id = due.id
		RETURNING `+qualifiedServerColumns,
		map[string]any{"limit": limit, "lease_ms": lease.Milliseconds()})
	if err != nil {
		return nil, s.fail("claim due MCP servers", err)
	}
	return utcAll(rows), nil
}

// ClaimServer claims the tenant's MCP server id for a check as
// ClaimDueServers would, if it is due and not disconnected: the probe that
// follows a create or an endpoint change takes the row this way, so it and
// the scheduler never both probe it. ok is false when the row is not due
// (someone else holds it) or is disconnected; ErrNotFound: the row is gone.
func (s *Store) ClaimServer(ctx context.Context, tenantID uuid.UUID, id string, lease time.Duration) (srv Server, ok bool, err error) {
	if err := claimable("claim MCP server", 1, lease); err != nil {
		return Server{}, false, err
	}
	rows := []serverRow{}
	err = namedSelect(ctx, s.db, &rows, `
		UPDATE mcp_servers
		SET next_check_at = `+leaseSQL+`
		WHERE tenant_id = :tenant_id AND id = :id AND next_check_at <= now() AND status <> 'disconnected'
		RETURNING `+serverColumns,
		map[string]any{"tenant_id": tenantID, "id": id, "lease_ms": lease.Milliseconds()})
	if err != nil {
		return Server{}, false, s.fail("claim MCP server", err)
	}
	if len(rows) == 1 {
		return rows[0].utc(), true, nil
	}
	if _, err := s.GetServer(ctx, tenantID, id); err != nil {
		return Server{}, false, err
	}
	return Server{}, false, nil
}

// RecordServerCheck stores the result of probing srv, a row as it was read
// before the probe: status connected (with capabilities, server name and
// version, last_connected_at, and last_error cleared) or error (with
// last_error, keeping the last known rest), updated_at set to the database's
// current time, and the next check due interval later. It returns the
// stored row. The result is stored only if the row still has srv's
// transport, url, command, args, token and upstream auth, and — unless manual is set (a
// connect the tenant asked for) — is not disconnected; otherwise it returns
// the current row and ErrChanged. ErrNotFound: the row is gone.
func (s *Store) RecordServerCheck(ctx context.Context, srv Server, r CheckResult, interval time.Duration, manual bool) (Server, error) {
	return recordOne(ctx, s.RecordServerChecks, Check[Server]{Record: srv, Result: r, Manual: manual}, interval)
}

// RecordServerChecks stores several results as RecordServerCheck does (each
// check's Manual is its manual), in one statement, and returns an outcome
// per check in the same order. The error is for the whole batch (nothing was
// stored).
func (s *Store) RecordServerChecks(ctx context.Context, checks []Check[Server], interval time.Duration) ([]CheckOutcome[Server], error) {
	return serverChecks.record(ctx, s, checks, interval)
}

// serverChecks stores the checks of MCP servers: last_connected_at is set
// by a passing check, and a result is stored only while the row has the
// transport, url, command and args it was checked with and, unless the
// check was manual, is not disconnected.
var serverChecks = checkedKind[serverRow, Server]{records: ServerRecords, noun: "MCP server",
	passed: "connected", silent: "the connection attempt failed without saying why",
	query: checkWriteSQL(ServerRecords, serverColumns, checkedSQL{
		unnest: `, CAST(:transports AS text[]), CAST(:urls AS text[]), CAST(:commands AS text[]),
				CAST(:args AS text[]), CAST(:manuals AS boolean[])`,
		names: `, transport_type, url, command, args, manual`,
		set: `,
			last_connected_at = CASE WHEN r.c_ok THEN greatest(t.now, m.updated_at) ELSE m.last_connected_at END`,
		guard: `
			AND m.transport_type = r.transport_type
			AND m.url IS NOT DISTINCT FROM r.url
			AND m.command IS NOT DISTINCT FROM r.command
			AND m.args IS NOT DISTINCT FROM CAST(r.args AS text[])
			AND (r.manual OR m.status <> 'disconnected')`}),
	row: func(srv Server) checkedRow {
		return checkedRow{id: srv.ID, tenantID: srv.TenantID, token: srv.TokenCiphertext, auth: srv.UpstreamAuth, state: srv.CheckState}
	},
	inputs: func(checks []Check[Server], w checkWrite) (any, error) {
		n := len(checks)
		arg := struct {
			checkWrite
			Transports pq.StringArray `db:"transports"`
			URLs       texts          `db:"urls"`
			Commands   texts          `db:"commands"`
			// Each row's args as an array literal: an array of arrays would
			// be flattened by unnest.
			Args    texts        `db:"args"`
			Manuals pq.BoolArray `db:"manuals"`
		}{w, make(pq.StringArray, n), make(texts, n), make(texts, n), make(texts, n), make(pq.BoolArray, n)}
		for j, ch := range checks {
			srv := ch.Record
			arg.Transports[j], arg.URLs[j], arg.Commands[j], arg.Manuals[j] = srv.TransportType, srv.URL, srv.Command, ch.Manual
			if srv.Args != nil {
				v, err := textValue(pq.StringArray(srv.Args))
				if err != nil {
					return nil, fmt.Errorf("args of %s: %w", srv.ID, err)
				}
				arg.Args[j] = &v
			}
		}
		return arg, nil
	},
	get: func(ctx context.Context, s *Store, srv Server) (Server, error) {
		return s.GetServer(ctx, srv.TenantID, srv.ID)
	},
	rebase: func(checked, stored Server) Server { checked.CheckState = stored.CheckState; return checked },
}

// ReencryptServerSecrets calls fn for every stored MCP server token and every
// sealed AuthSecrets (aad says which: ServerTokenAAD or ServerAuthAAD),
// across all tenants, and stores what fn returns whenever the key id changes; it
// returns how many rows it changed. Rows are handled in batches of their own
// transactions, as ReencryptConnectionSecrets does.
func (s *Store) ReencryptServerSecrets(ctx context.Context, fn func(aad []byte, ciphertext []byte, keyID string) ([]byte, string, error)) (int, error) {
	return s.reencryptAll(ctx, "mcp_servers", "MCP server", "", []sealedColumns{
		{what: "token", ciphertext: "token_ciphertext", keyID: "token_key_id",
			aad: func(id string) ([]byte, error) { return ServerTokenAAD(id), nil }},
		{what: "auth secrets", ciphertext: "auth_secrets_ciphertext", keyID: "auth_secrets_key_id",
			aad: func(id string) ([]byte, error) { return ServerAuthAAD(id), nil }},
	}, fn)
}

// serverError turns constraint violations into errors that say what is
// wrong with srv.
func (s *Store) serverError(op string, srv *Server, err error) error {
	return s.refusal(op, constraints{noun: "MCP server", id: srv.ID, tenantID: srv.TenantID,
		nameKey: "mcp_servers_project_id_name_key", idKeys: []string{"mcp_servers_pkey"},
		foreign: map[string]error{"mcp_servers_project_fkey": fmt.Errorf("project %q: %w", srv.ProjectID, ErrProjectNotFound)},
		checks: map[string]string{
			"mcp_servers_id_check":              fmt.Sprintf("id %q is not %s followed by 1 to 64 letters and digits", srv.ID, serverIDPrefix),
			"mcp_servers_name_check":            "the name must not be empty",
			"mcp_servers_transport_type_check":  fmt.Sprintf("transport type %q is not stdio, http or sse", srv.TransportType),
			"mcp_servers_connection_type_check": fmt.Sprintf("connection type %q is neither direct nor proxy", srv.ConnectionType),
			"mcp_servers_status_check":          fmt.Sprintf("status %q is not connecting, connected, disconnected or error", srv.Status),
			"mcp_servers_transport_fields_check": fmt.Sprintf("transport %q with url set=%t, command set=%t, args set=%t; stdio needs command and args and no url, http and sse need url and neither command nor args",
				srv.TransportType, srv.URL != nil, srv.Command != nil, srv.Args != nil),
			"mcp_servers_token_pair_check":      "the token ciphertext and its key id must be set together",
			"mcp_servers_token_transport_check": "a stdio server cannot have a bearer token",
			"mcp_servers_auth_type_check":       fmt.Sprintf("auth type %q is not bearer, none or oauth2", srv.AuthType),
			"mcp_servers_token_auth_check": fmt.Sprintf("auth type %q with a token present=%t; bearer needs a token and no other auth type may have one",
				srv.AuthType, srv.TokenCiphertext != nil),
			"mcp_servers_upstream_auth_check":     "the upstream auth settings must be a JSON object",
			"mcp_servers_auth_secrets_pair_check": "the auth secrets ciphertext and its key id must be set together",
			"mcp_servers_oauth2_auth_check": fmt.Sprintf("auth type %q with oauth2 settings present=%t; oauth2 needs them and no other auth type may have them",
				srv.AuthType, srv.AuthSettings.OAuth2 != nil),
			"mcp_servers_auth_transport_check": "a stdio server cannot have a bearer token or other credentials: it needs auth type none and no headers, oauth2 or tls",
		}}, err)
}

// qualifiedServerColumns is serverColumns for mcp_servers aliased as m.
var qualifiedServerColumns = qualified("m", serverColumns)
