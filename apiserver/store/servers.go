package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrProjectNotFound means a server names a project its tenant does not have.
var ErrProjectNotFound = errors.New("project not found")

// Server is a row of mcp_servers. TokenCiphertext and TokenKeyID hold the
// sealed bearer token (nil when there is none).
type Server struct {
	ID             string    `db:"id"`
	TenantID       uuid.UUID `db:"tenant_id"`
	ProjectID      string    `db:"project_id"`
	Name           string    `db:"name"`
	Description    *string   `db:"description"`
	URL            *string   `db:"url"`            // http and sse only
	TransportType  string    `db:"transport_type"` // stdio, http or sse
	ConnectionType string    `db:"connection_type"`
	Command        *string   `db:"command"` // stdio only
	// Args is stdio only; nil otherwise (and never nil for stdio). It is
	// scanned through serverRow.
	Args []string `db:"-"`
	// TokenCiphertext and TokenKeyID are the sealed bearer token, bound to
	// the row by ServerTokenAAD.
	TokenCiphertext []byte        `db:"token_ciphertext"`
	TokenKeyID      *string       `db:"token_key_id"`
	Status          string        `db:"status"`
	Capabilities    *Capabilities `db:"capabilities"` // nil until the first successful connect
	ServerName      *string       `db:"server_name"`
	ServerVersion   *string       `db:"server_version"`
	LastError       *string       `db:"last_error"`
	LastConnectedAt *time.Time    `db:"last_connected_at"`
	// Instructions is what the last passing check's handshake returned
	// (nil for none); agents' instructions are composed from it.
	Instructions *string   `db:"instructions"`
	NextCheckAt  time.Time `db:"next_check_at"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
	CheckState

	// DueNow, set by an UpdateServer fn, makes the row due for a check at
	// the database's current time (NextCheckAt is then ignored). It is a
	// parameter of the update, not a column.
	DueNow bool `db:"due_now"`
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
	srv.CreatedAt = srv.CreatedAt.UTC()
	srv.UpdatedAt = srv.UpdatedAt.UTC()
	srv.NextCheckAt = srv.NextCheckAt.UTC()
	srv.LastConnectedAt = utcPtr(srv.LastConnectedAt)
	srv.CheckState = checkStateUTC(srv.CheckState)
	return srv
}

// Capabilities is which MCP feature families a server advertised, stored as
// a JSON object.
type Capabilities struct {
	Tools     bool `json:"tools"`
	Resources bool `json:"resources"`
	Prompts   bool `json:"prompts"`
}

// Value implements driver.Valuer.
func (c Capabilities) Value() (driver.Value, error) {
	b, err := json.Marshal(c)
	return string(b), err
}

// Scan implements sql.Scanner.
func (c *Capabilities) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("capabilities: cannot scan %T", src)
	}
	return json.Unmarshal(b, c)
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
	command, args, token_ciphertext, token_key_id, status, capabilities, server_name, server_version,
	last_error, last_connected_at, instructions, next_check_at, created_at, updated_at, ` + checkStateColumns

// servers are the rows of mcp_servers.
var servers = kind[serverRow, Server]{table: "mcp_servers", noun: "MCP server", columns: serverColumns, idType: "text",
	set: assign("project_id", "name", "description", "url", "transport_type", "connection_type", "command", "args",
		"token_ciphertext", "token_key_id", "status", "capabilities", "server_name", "server_version", "last_error") + `,
				last_connected_at = date_trunc('milliseconds', CAST(:last_connected_at AS timestamptz)),
				` + assign("instructions") + checkedSetSQL,
	cursor:  func(srv Server) Cursor { return Cursor{CreatedAt: srv.CreatedAt, ID: srv.ID} },
	refused: (*Store).serverError}

// CreateServer inserts srv. The caller sets ID (NewServerID; the sealed
// token is bound to it), TenantID, ProjectID, Name, Description, the
// transport fields and the token; the store sets Status to "connecting",
// clears what probes learn, makes the row due for a check at once and fills
// the stored values back into srv. ErrProjectNotFound: the tenant has no such
// project; ErrNameTaken: the project already has a server with that name.
func (s *Store) CreateServer(ctx context.Context, srv *Server) error {
	if srv.ID == "" {
		return errors.New("create MCP server: the caller must assign an id (the sealed token is bound to it)")
	}
	return servers.create(ctx, s, srv, `
		INSERT INTO mcp_servers (id, tenant_id, project_id, name, description, url, transport_type, connection_type,
			command, args, token_ciphertext, token_key_id, status, next_check_at, created_at, updated_at)
		VALUES (:id, :tenant_id, :project_id, :name, :description, :url, :transport_type, :connection_type,
			:command, :args, :token_ciphertext, :token_key_id, 'connecting',
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
// transport, url, command, args and token, and — unless manual is set (a
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
	if interval <= 0 {
		return nil, fmt.Errorf("record MCP server checks: interval must be positive, got %s", interval)
	}
	return recordChecks(ctx, checks,
		func(srv Server) string { return srv.ID },
		func(ctx context.Context, checks []Check[Server], which []int) ([]Server, error) {
			return s.writeServerChecks(ctx, checks, which, interval)
		},
		func(ctx context.Context, srv Server) (Server, error) { return s.GetServer(ctx, srv.TenantID, srv.ID) },
		func(checked, stored Server) Server { checked.CheckState = stored.CheckState; return checked })
}

// writeServerChecks stores checks[i] for each i in which, whose rows are
// distinct, in one statement, and returns the rows it stored.
func (s *Store) writeServerChecks(ctx context.Context, checks []Check[Server], which []int, interval time.Duration) ([]Server, error) {
	n := len(which)
	ids := make(pq.StringArray, n)
	tenants := make(pq.StringArray, n)
	transports := make(pq.StringArray, n)
	urls := make([]*string, n)
	commands := make([]*string, n)
	// Each row's args as an array literal: an array of arrays would be
	// flattened by unnest.
	args := make([]*string, n)
	tokens := make(pq.ByteaArray, n)
	manuals := make(pq.BoolArray, n)
	statuses := make(pq.StringArray, n)
	lastErrors := make([]*string, n)
	capabilities := make(pq.StringArray, n)
	names := make(pq.StringArray, n)
	versions := make(pq.StringArray, n)
	instructions := make([]*string, n)
	results := make([]CheckResult, n)
	prev := make([]CheckState, n)
	idList := make([]string, n)
	for j, i := range which {
		srv, r := checks[i].Record, checks[i].Result
		ids[j], tenants[j], transports[j] = srv.ID, srv.TenantID.String(), srv.TransportType
		urls[j], commands[j] = srv.URL, srv.Command
		if srv.Args != nil {
			v, err := textValue(pq.StringArray(srv.Args))
			if err != nil {
				return nil, fmt.Errorf("record MCP server checks: args of %s: %w", srv.ID, err)
			}
			args[j] = &v
		}
		// pq.ByteaArray cannot say NULL; an empty value stands for "no
		// token", which no sealed token can be.
		tokens[j] = srv.TokenCiphertext
		manuals[j] = checks[i].Manual
		statuses[j], lastErrors[j] = r.status("connected", "the connection attempt failed without saying why")
		caps, err := textValue(r.Capabilities)
		if err != nil {
			return nil, fmt.Errorf("record MCP server checks: capabilities of %s: %w", srv.ID, err)
		}
		capabilities[j], names[j], versions[j] = caps, r.ServerName, r.ServerVersion
		if r.OK {
			instructions[j] = r.Instructions
		}
		results[j], prev[j], idList[j] = r, srv.CheckState, srv.ID
	}
	w, err := s.newCheckWrite(ctx, ServerRecords, idList, results, prev)
	if err != nil {
		return nil, err
	}
	// As for connections: the time is taken once, and greatest keeps
	// updated_at from going backwards.
	arg := map[string]any{
		"ids":          ids,
		"tenants":      tenants,
		"transports":   transports,
		"urls":         pq.Array(urls),
		"commands":     pq.Array(commands),
		"args":         pq.Array(args),
		"tokens":       tokens,
		"manuals":      manuals,
		"statuses":     statuses,
		"last_errors":  pq.Array(lastErrors),
		"capabilities": capabilities,
		"names":        names,
		"versions":     versions,
		"instructions": pq.Array(instructions),
		"interval_ms":  interval.Milliseconds(),
	}
	w.args(arg, s.keepChecks())
	var stored []serverRow
	err = namedSelect(ctx, s.db, &stored, `
		WITH upd AS (
		UPDATE mcp_servers AS m SET
			status = r.status,
			last_error = r.last_error,
			capabilities = CASE WHEN r.c_ok THEN CAST(r.capabilities AS jsonb) ELSE m.capabilities END,
			server_name = CASE WHEN r.c_ok THEN r.server_name ELSE m.server_name END,
			server_version = CASE WHEN r.c_ok THEN r.server_version ELSE m.server_version END,
			instructions = CASE WHEN r.c_ok THEN r.instructions ELSE m.instructions END,
			last_connected_at = CASE WHEN r.c_ok THEN greatest(t.now, m.updated_at) ELSE m.last_connected_at END,
			updated_at = greatest(t.now, m.updated_at),
			next_check_at = greatest(t.now, m.updated_at) + CAST(:interval_ms AS bigint) * interval '1 millisecond'`+checkSetSQL+`
		FROM unnest(CAST(:ids AS text[]), CAST(:tenants AS uuid[]), CAST(:transports AS text[]),
				CAST(:urls AS text[]), CAST(:commands AS text[]), CAST(:args AS text[]),
				CAST(:tokens AS bytea[]), CAST(:manuals AS boolean[]), CAST(:statuses AS text[]),
				CAST(:last_errors AS text[]), CAST(:capabilities AS text[]),
				CAST(:names AS text[]), CAST(:versions AS text[]), CAST(:instructions AS text[])`+checkUnnestSQL+`)
			AS r(id, tenant_id, transport_type, url, command, args, token_ciphertext, manual, status,
				last_error, capabilities, server_name, server_version, instructions`+checkUnnestNames+`),
			(SELECT date_trunc('milliseconds', clock_timestamp()) AS now) AS t
		WHERE m.id = ANY(CAST(:ids AS text[])) -- lets the planner look rows up by key
			AND m.id = r.id AND m.tenant_id = r.tenant_id
			AND m.transport_type = r.transport_type
			AND m.url IS NOT DISTINCT FROM r.url
			AND m.command IS NOT DISTINCT FROM r.command
			AND m.args IS NOT DISTINCT FROM CAST(r.args AS text[])
			AND coalesce(m.token_ciphertext, '') = r.token_ciphertext
			AND (r.manual OR m.status <> 'disconnected')`+checkGuardSQL+`
		RETURNING `+qualifiedServerColumns+checkReturningSQL+`)`+ServerRecords.sideEffectsSQL()+`
		SELECT `+serverColumns+` FROM upd`, arg)
	if err != nil {
		return nil, s.fail("record MCP server checks", err)
	}
	return utcAll(stored), nil
}

// ReencryptServerTokens calls fn for every stored MCP server token, across
// all tenants, and stores what fn returns whenever the key id changes; it
// returns how many rows it changed. Rows are handled in batches of their own
// transactions, as ReencryptConnectionTokens does.
func (s *Store) ReencryptServerTokens(ctx context.Context, fn func(id string, ciphertext []byte, keyID string) ([]byte, string, error)) (int, error) {
	return s.reencrypt(ctx, "mcp_servers", "MCP server", "", fn)
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
		}}, err)
}

// qualifiedServerColumns is serverColumns for mcp_servers aliased as m.
var qualifiedServerColumns = qualified("m", serverColumns)

// textValue is v's database value as text, for passing a value of a type
// PostgreSQL cannot take in an array parameter as its text form instead.
func textValue(v driver.Valuer) (string, error) {
	dv, err := v.Value()
	if err != nil {
		return "", err
	}
	s, ok := dv.(string)
	if !ok {
		return "", fmt.Errorf("value of %T is %T, not text", v, dv)
	}
	return s, nil
}
