package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/catalog"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// DefaultCheckHistory is how many checks per record are kept when the
// operator sets no other number (MCP_API_CHECK_HISTORY).
const DefaultCheckHistory = 500

// ErrUnknownToolsHash means an update set an approved tools hash that the
// record has never had (no catalog of it had that toolsHash).
var ErrUnknownToolsHash = errors.New("the record has never had that toolsHash")

// ErrNoCatalog means the record exists but has not passed a check yet, so
// no catalog is stored for it.
var ErrNoCatalog = errors.New("no catalog yet")

// RecordKind is one family of checked records: the table of its rows and
// the column by which the side tables (catalogs, check_history,
// catalog_changes) name a row of it.
type RecordKind struct {
	table string
	fk    string
	ids   IDFormat
}

// The kinds of checked record.
var (
	// ConnectionRecords are rows of mcp_connections; their ids are UUIDs.
	ConnectionRecords = RecordKind{table: "mcp_connections", fk: "connection_id", ids: ConnectionIDs}
	// ServerRecords are rows of mcp_servers; their ids are "mcp_" ids.
	ServerRecords = RecordKind{table: "mcp_servers", fk: "server_id", ids: ServerIDs}
)

// HistoryIDs is the form of the ids in check and catalog-change cursors:
// decimal sequence numbers.
var HistoryIDs = IDFormat{digits: true}

// CheckState is what checks record about a row beyond its status, the same
// for every kind. A failed check keeps what the last passing one found and
// sets LastErrorKind; a passing one replaces it all and clears LastErrorKind.
type CheckState struct {
	ProtocolVersion *string    `db:"protocol_version"`
	LastErrorKind   *string    `db:"last_error_kind"`
	ToolCount       *int       `db:"tool_count"`
	ToolsHash       *string    `db:"tools_hash"`
	ToolsChangedAt  *time.Time `db:"tools_changed_at"`
	// ApprovedToolsHash is the catalog a person approved; Update* fns may
	// set it (check HadToolsHash first).
	ApprovedToolsHash *string `db:"approved_tools_hash"`
	// CatalogHash names the stored catalog the last passing check saw (the
	// SHA-256 of its body), CatalogObservedAt when.
	CatalogHash       *string    `db:"catalog_hash"`
	CatalogObservedAt *time.Time `db:"catalog_observed_at"`
	// CheckSeq counts the row's checks: the seq of its newest history row.
	CheckSeq int64 `db:"check_seq"`
}

// checkStateColumns are CheckState's columns, in every kind's table.
const checkStateColumns = `protocol_version, last_error_kind, tool_count, tools_hash, tools_changed_at,
	approved_tools_hash, catalog_hash, catalog_observed_at, check_seq`

// checkStateUTC is c with its times in UTC.
func checkStateUTC(c CheckState) CheckState {
	c.ToolsChangedAt = utcPtr(c.ToolsChangedAt)
	c.CatalogObservedAt = utcPtr(c.CatalogObservedAt)
	return c
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// checkWrite is the inputs of a kind's batch check write that every kind
// has, one element per check. It is one statement (checkWriteSQL), so a
// batch of checks costs one round trip.
type checkWrite struct {
	healthWrite
	checkStateWrite
	// IntervalMs is when the next check is due; KeepChecks how many
	// history rows a record keeps.
	IntervalMs int64 `db:"interval_ms"`
	KeepChecks int   `db:"keep_checks"`
}

// healthWrite is what finds and guards each row (its id, tenant, token and
// upstream auth as they were read), and the Health the result stores on it.
type healthWrite struct {
	IDs          pq.StringArray `db:"ids"`
	Tenants      pq.StringArray `db:"tenants"`
	Tokens       pq.ByteaArray  `db:"tokens"`
	AuthSettings pq.StringArray `db:"auth_settings"`
	AuthSecrets  pq.ByteaArray  `db:"auth_secrets"`
	Statuses     pq.StringArray `db:"statuses"`
	LastErrors   texts          `db:"last_errors"`
	Instructions texts          `db:"instructions"`
	Capabilities pq.StringArray `db:"capabilities"`
	Names        pq.StringArray `db:"names"`
	Versions     pq.StringArray `db:"versions"`
}

// checkStateWrite is the CheckState a result stores, and what it adds
// beside the row: a history row, the pruning of history beyond the kept
// count, a new catalog when it differs from the stored one, and a catalog
// change when the tools did.
type checkStateWrite struct {
	OKs          pq.BoolArray  `db:"c_oks"`
	ErrorKinds   texts         `db:"c_error_kinds"`
	Protocols    texts         `db:"c_protocols"`
	Durations    pq.Int64Array `db:"c_durations"`
	ToolCounts   pq.Int64Array `db:"c_tool_counts"`
	ToolsHashes  texts         `db:"c_tools_hashes"`
	Catalogs     texts         `db:"c_catalogs"`      // content hashes
	Bodies       texts         `db:"c_bodies"`        // set only when the catalog is not stored yet
	PrevCatalogs texts         `db:"c_prev_catalogs"` // the catalog the row had when it was read
	PrevTools    texts         `db:"c_prev_tools"`
	Added        texts         `db:"c_added"` // JSON arrays of names, set exactly when the tools changed
	Removed      texts         `db:"c_removed"`
	Changed      texts         `db:"c_changed"`
}

// texts is a text[] parameter whose elements may be NULL.
type texts []*string

// Value implements driver.Valuer.
func (t texts) Value() (driver.Value, error) { return pq.Array([]*string(t)).Value() }

// checkedRow is what the shared part of a check write reads of a row as it
// was read before the check.
type checkedRow struct {
	id       string
	tenantID uuid.UUID
	token    []byte // nil for none
	auth     UpstreamAuth
	state    CheckState
}

// checkedSQL is a kind's own part of its check write statement: r is the
// unnest of the inputs, m the kind's table, t the statement's time.
type checkedSQL struct {
	unnest string // the casts of its own inputs, each after a comma
	names  string // their names in r, each after a comma
	set    string // its own SET items, each after a comma
	guard  string // its own conditions that the row is still what was checked
}

// checkWriteSQL is the check write statement of kind k, whose columns are
// columns. The time is taken once and used for updated_at and the check
// times, which must be equal; greatest keeps updated_at from going
// backwards if a concurrent writer we waited for stamped a later time than
// our statement's start. A failed check keeps what the last passing one
// found. A row is stored only while its id, tenant, token and upstream auth
// are those it was checked with, and own.guard holds.
func checkWriteSQL(k RecordKind, columns string, own checkedSQL) string {
	return `
		WITH upd AS (
		UPDATE ` + k.table + ` AS m SET
			status = r.status,
			last_error = r.last_error,
			instructions = CASE WHEN r.c_ok THEN r.instructions ELSE m.instructions END,
			capabilities = CASE WHEN r.c_ok THEN CAST(r.capabilities AS jsonb) ELSE m.capabilities END,
			server_name = CASE WHEN r.c_ok THEN r.server_name ELSE m.server_name END,
			server_version = CASE WHEN r.c_ok THEN r.server_version ELSE m.server_version END,
			updated_at = greatest(t.now, m.updated_at),
			next_check_at = greatest(t.now, m.updated_at) + CAST(:interval_ms AS bigint) * interval '1 millisecond'` + own.set + `,
			last_error_kind = r.c_error_kind,
			protocol_version = CASE WHEN r.c_ok THEN r.c_protocol ELSE m.protocol_version END,
			tool_count = CASE WHEN r.c_ok THEN r.c_tool_count ELSE m.tool_count END,
			tools_hash = CASE WHEN r.c_ok THEN r.c_tools_hash ELSE m.tools_hash END,
			catalog_hash = CASE WHEN r.c_ok THEN r.c_catalog ELSE m.catalog_hash END,
			catalog_observed_at = CASE WHEN r.c_ok THEN greatest(t.now, m.updated_at) ELSE m.catalog_observed_at END,
			tools_changed_at = CASE WHEN r.c_ok AND r.c_added IS NOT NULL
				THEN greatest(t.now, m.updated_at) ELSE m.tools_changed_at END,
			check_seq = m.check_seq + 1
		FROM unnest(CAST(:ids AS ` + k.idType() + `[]), CAST(:tenants AS uuid[]), CAST(:tokens AS bytea[]),
				CAST(:auth_settings AS text[]), CAST(:auth_secrets AS bytea[]),
				CAST(:statuses AS text[]), CAST(:last_errors AS text[]), CAST(:instructions AS text[]),
				CAST(:capabilities AS text[]), CAST(:names AS text[]), CAST(:versions AS text[])` + own.unnest + `,
				CAST(:c_oks AS boolean[]), CAST(:c_error_kinds AS text[]), CAST(:c_protocols AS text[]),
				CAST(:c_durations AS bigint[]), CAST(:c_tool_counts AS bigint[]), CAST(:c_tools_hashes AS text[]),
				CAST(:c_catalogs AS text[]), CAST(:c_bodies AS text[]), CAST(:c_prev_catalogs AS text[]),
				CAST(:c_prev_tools AS text[]), CAST(:c_added AS text[]), CAST(:c_removed AS text[]), CAST(:c_changed AS text[]))
			AS r(id, tenant_id, token_ciphertext, auth_settings, auth_secrets, status, last_error, instructions, capabilities, server_name,
				server_version` + own.names + `, c_ok, c_error_kind, c_protocol, c_duration_ms, c_tool_count,
				c_tools_hash, c_catalog, c_body, c_prev_catalog, c_prev_tools, c_added, c_removed, c_changed),
			(SELECT date_trunc('milliseconds', clock_timestamp()) AS now) AS t
		WHERE m.id = ANY(CAST(:ids AS ` + k.idType() + `[])) -- lets the planner look rows up by key
			AND m.id = r.id AND m.tenant_id = r.tenant_id
			AND coalesce(m.token_ciphertext, '') = r.token_ciphertext
			AND m.upstream_auth = CAST(r.auth_settings AS jsonb)
			AND coalesce(m.auth_secrets_ciphertext, '') = r.auth_secrets` + own.guard + `
			-- A passing check is stored only over the catalog it was compared
			-- with, so a concurrent check that stored another one makes this
			-- result ErrChanged rather than a change entry against the wrong base.
			AND (NOT r.c_ok OR m.catalog_hash IS NOT DISTINCT FROM r.c_prev_catalog)
		RETURNING ` + qualified("m", columns) + `, r.c_ok, r.c_duration_ms, r.c_body, r.c_prev_tools, r.c_added,
			r.c_removed, r.c_changed)` + k.sideEffectsSQL() + `
		SELECT ` + columns + ` FROM upd`
}

// sideEffectsSQL is the rest of a kind's check write: upd is its UPDATE's
// RETURNING, with the row's columns and the check's inputs it needs.
func (k RecordKind) sideEffectsSQL() string {
	return `,
	history AS (
		INSERT INTO check_history (` + k.fk + `, seq, at, ok, duration_ms, protocol_version, error_kind, error, tools_hash)
		SELECT id, check_seq, updated_at, c_ok, c_duration_ms, CASE WHEN c_ok THEN protocol_version END,
			last_error_kind, last_error, CASE WHEN c_ok THEN tools_hash END
		FROM upd),
	-- One row leaves per check once the history is full, found by key, so the
	-- cost of storing a check does not grow with the history.
	pruned AS (
		DELETE FROM check_history h USING upd
		WHERE h.` + k.fk + ` = upd.id AND h.seq <= upd.check_seq - CAST(:keep_checks AS bigint)),
	new_catalogs AS (
		INSERT INTO catalogs (` + k.fk + `, content_hash, tools_hash, body, first_seen_at)
		SELECT id, catalog_hash, tools_hash, CAST(c_body AS json), updated_at FROM upd WHERE c_body IS NOT NULL
		ON CONFLICT (` + k.fk + `, content_hash) WHERE ` + k.fk + ` IS NOT NULL DO NOTHING),
	changes AS (
		INSERT INTO catalog_changes (` + k.fk + `, at, from_hash, to_hash, tools_added, tools_removed, tools_changed)
		SELECT id, updated_at, c_prev_tools, tools_hash,
			ARRAY(SELECT json_array_elements_text(CAST(c_added AS json))),
			ARRAY(SELECT json_array_elements_text(CAST(c_removed AS json))),
			ARRAY(SELECT json_array_elements_text(CAST(c_changed AS json)))
		FROM upd WHERE c_ok AND c_added IS NOT NULL)`
}

// newCheckWrite prepares the inputs of storing results[i] over rows[i], the
// rows as they were read: passed is the status a passing check stores,
// silent the last error of a failure that says nothing. A passing result's
// catalog is marshalled once here; its body goes to the database only when
// the row does not have it already, and a change of tools is diffed
// against the stored catalog.
func (s *Store) newCheckWrite(ctx context.Context, k RecordKind, rows []checkedRow, results []CheckResult, passed, silent string, interval time.Duration) (checkWrite, error) {
	n := len(results)
	w := checkWrite{healthWrite{
		IDs: make(pq.StringArray, n), Tenants: make(pq.StringArray, n), Tokens: make(pq.ByteaArray, n),
		AuthSettings: make(pq.StringArray, n), AuthSecrets: make(pq.ByteaArray, n),
		Statuses: make(pq.StringArray, n), LastErrors: make(texts, n), Instructions: make(texts, n),
		Capabilities: make(pq.StringArray, n), Names: make(pq.StringArray, n), Versions: make(pq.StringArray, n),
	}, checkStateWrite{
		OKs: make(pq.BoolArray, n), ErrorKinds: make(texts, n), Protocols: make(texts, n),
		Durations: make(pq.Int64Array, n), ToolCounts: make(pq.Int64Array, n), ToolsHashes: make(texts, n),
		Catalogs: make(texts, n), Bodies: make(texts, n), PrevCatalogs: make(texts, n),
		PrevTools: make(texts, n), Added: make(texts, n), Removed: make(texts, n), Changed: make(texts, n),
	}, interval.Milliseconds(), s.keepChecks()}
	for j, r := range results {
		row := rows[j]
		w.IDs[j], w.Tenants[j] = row.id, row.tenantID.String()
		// pq.ByteaArray cannot say NULL; an empty value stands for "no
		// token", which no sealed token can be.
		w.Tokens[j] = row.token
		settings, err := textValue(row.auth.AuthSettings)
		if err != nil {
			return checkWrite{}, fmt.Errorf("record checks: upstream auth of %s: %w", row.id, err)
		}
		w.AuthSettings[j], w.AuthSecrets[j] = settings, row.auth.AuthSecretsCiphertext
		w.Statuses[j], w.LastErrors[j] = r.status(passed, silent)
		caps, err := textValue(r.Capabilities)
		if err != nil {
			return checkWrite{}, fmt.Errorf("record checks: capabilities of %s: %w", row.id, err)
		}
		w.Capabilities[j], w.Names[j], w.Versions[j] = caps, r.ServerName, r.ServerVersion
		w.OKs[j] = r.OK
		w.Durations[j] = r.Duration.Milliseconds()
		w.PrevCatalogs[j], w.PrevTools[j] = row.state.CatalogHash, row.state.ToolsHash
		if !r.OK {
			kind := r.ErrorKind
			if kind == "" {
				kind = string(contract.ErrorProtocol)
			}
			w.ErrorKinds[j] = &kind
			continue
		}
		w.Instructions[j] = r.Instructions
		if r.ProtocolVersion != "" {
			w.Protocols[j] = new(r.ProtocolVersion)
		}
		cat := r.Catalog
		if cat == nil {
			cat = &catalog.Catalog{Tools: []catalog.Tool{}, Prompts: []catalog.Prompt{}, Resources: []catalog.Resource{}, ToolsHash: catalog.ToolsHash(nil)}
		}
		body, err := json.Marshal(cat)
		if err != nil {
			return checkWrite{}, fmt.Errorf("record checks: catalog of %s: %w", row.id, err)
		}
		sum := sha256.Sum256(body)
		content := contract.HashPrefix + hex.EncodeToString(sum[:])
		w.Catalogs[j], w.ToolsHashes[j] = &content, new(cat.ToolsHash)
		w.ToolCounts[j] = int64(len(cat.Tools))
		if row.state.CatalogHash == nil || *row.state.CatalogHash != content {
			w.Bodies[j] = new(string(body))
		}
		// A record's first catalog counts as a change from none: every tool added.
		if row.state.ToolsHash == nil || *row.state.ToolsHash != cat.ToolsHash {
			before, err := s.storedToolHashes(ctx, k, row.id, row.state.CatalogHash)
			if err != nil {
				return checkWrite{}, err
			}
			d := catalog.Diff(before, cat.ToolHashes())
			w.Added[j], w.Removed[j], w.Changed[j] = jsonNames(d.ToolsAdded), jsonNames(d.ToolsRemoved), jsonNames(d.ToolsChanged)
		}
	}
	return w, nil
}

func jsonNames(names []string) *string {
	if names == nil {
		names = []string{}
	}
	b, _ := json.Marshal(names) // a []string always marshals
	return new(string(b))
}

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

// storedToolHashes is each tool's hash by name in the record's stored
// catalog contentHash; empty when there is none.
func (s *Store) storedToolHashes(ctx context.Context, k RecordKind, id string, contentHash *string) (map[string]string, error) {
	if contentHash == nil {
		return map[string]string{}, nil
	}
	var body []byte
	err := namedGet(ctx, s.db, &body, `SELECT body FROM catalogs WHERE `+k.fk+` = CAST(:id AS `+k.idType()+`) AND content_hash = :hash`,
		map[string]any{"id": id, "hash": *contentHash})
	if errors.Is(err, sql.ErrNoRows) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, s.fail("read stored catalog", err)
	}
	var c catalog.Catalog
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("read stored catalog of %s: %w", id, err)
	}
	return c.ToolHashes(), nil
}

func (k RecordKind) idType() string {
	if k.ids.uuid {
		return "uuid"
	}
	return "text"
}

// owned is the SQL condition that the record :id of the side table's row is
// the tenant's.
func (k RecordKind) owned() string {
	return `EXISTS (SELECT 1 FROM ` + k.table + ` WHERE id = CAST(:id AS ` + k.idType() + `) AND tenant_id = :tenant_id)`
}

// exists returns ErrNotFound unless the tenant has the record.
func (s *Store) exists(ctx context.Context, k RecordKind, tenantID uuid.UUID, id string) error {
	if !k.ids.valid(id) {
		return ErrNotFound
	}
	var ok bool
	err := namedGet(ctx, s.db, &ok, `SELECT `+k.owned(), map[string]any{"id": id, "tenant_id": tenantID})
	if err != nil {
		return s.fail("look up record", err)
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

// StoredCatalog is a record's current catalog: Body is the JSON of a
// catalog.Catalog, ObservedAt the last passing check that saw it.
type StoredCatalog struct {
	Body       []byte
	ObservedAt time.Time
}

// GetCatalog returns the catalog the tenant's record id had at its last
// passing check. ErrNotFound: no such record for the tenant; ErrNoCatalog:
// it has not passed a check yet.
func (s *Store) GetCatalog(ctx context.Context, k RecordKind, tenantID uuid.UUID, id string) (StoredCatalog, error) {
	if !k.ids.valid(id) {
		return StoredCatalog{}, ErrNotFound
	}
	var row struct {
		Body       []byte     `db:"body"`
		ObservedAt *time.Time `db:"catalog_observed_at"`
	}
	err := namedGet(ctx, s.db, &row, `SELECT c.body, m.catalog_observed_at
		FROM `+k.table+` m LEFT JOIN catalogs c ON c.`+k.fk+` = m.id AND c.content_hash = m.catalog_hash
		WHERE m.tenant_id = :tenant_id AND m.id = CAST(:id AS `+k.idType()+`)`,
		map[string]any{"id": id, "tenant_id": tenantID})
	if errors.Is(err, sql.ErrNoRows) {
		return StoredCatalog{}, ErrNotFound
	}
	if err != nil {
		return StoredCatalog{}, s.fail("get catalog", err)
	}
	if row.Body == nil || row.ObservedAt == nil {
		return StoredCatalog{}, ErrNoCatalog
	}
	return StoredCatalog{Body: row.Body, ObservedAt: row.ObservedAt.UTC()}, nil
}

// HadToolsHash reports whether the tenant's record id has ever had a
// catalog whose toolsHash is hash. ErrNotFound: no such record.
func (s *Store) HadToolsHash(ctx context.Context, k RecordKind, tenantID uuid.UUID, id, hash string) (bool, error) {
	if err := s.exists(ctx, k, tenantID, id); err != nil {
		return false, err
	}
	var had bool
	err := namedGet(ctx, s.db, &had, `SELECT EXISTS (SELECT 1 FROM catalogs
		WHERE `+k.fk+` = CAST(:id AS `+k.idType()+`) AND tools_hash = :hash)`,
		map[string]any{"id": id, "hash": hash})
	if err != nil {
		return false, s.fail("look up catalogs", err)
	}
	return had, nil
}

// checkApproval refuses, inside an update's transaction, an approval of a
// hash the record has never had: ErrUnknownToolsHash.
func checkApproval(ctx context.Context, tx sqlx.ExtContext, k RecordKind, id string, before, after *string) error {
	if after == nil || (before != nil && *before == *after) {
		return nil
	}
	var had bool
	err := namedGet(ctx, tx, &had, `SELECT EXISTS (SELECT 1 FROM catalogs
		WHERE `+k.fk+` = CAST(:id AS `+k.idType()+`) AND tools_hash = :hash)`,
		map[string]any{"id": id, "hash": *after})
	if err != nil {
		return err
	}
	if !had {
		return ErrUnknownToolsHash
	}
	return nil
}

// CheckEntry is one row of a record's check history.
type CheckEntry struct {
	Seq             int64     `db:"seq"`
	At              time.Time `db:"at"`
	OK              bool      `db:"ok"`
	DurationMs      int64     `db:"duration_ms"`
	ProtocolVersion *string   `db:"protocol_version"`
	ErrorKind       *string   `db:"error_kind"`
	Error           *string   `db:"error"`
	ToolsHash       *string   `db:"tools_hash"`
}

// ListChecks returns a page of the tenant's record's checks, newest first,
// and the cursor of the next page when there is one. ErrNotFound: no such
// record.
func (s *Store) ListChecks(ctx context.Context, k RecordKind, tenantID uuid.UUID, id string, limit int, after *Cursor) ([]CheckEntry, *Cursor, error) {
	return historyPage(ctx, s, k, tenantID, id, limit, after, "list checks", "seq",
		`SELECT seq, at, ok, duration_ms, protocol_version, error_kind, error, tools_hash FROM check_history`,
		func(e *CheckEntry) (*time.Time, int64) { return &e.At, e.Seq })
}

// CatalogChange is one change of a record's tools, from one toolsHash to
// another; FromHash is nil for the record's first catalog, which adds
// every tool.
type CatalogChange struct {
	ID           int64          `db:"id"`
	At           time.Time      `db:"at"`
	FromHash     *string        `db:"from_hash"`
	ToHash       string         `db:"to_hash"`
	ToolsAdded   pq.StringArray `db:"tools_added"`
	ToolsRemoved pq.StringArray `db:"tools_removed"`
	ToolsChanged pq.StringArray `db:"tools_changed"`
}

// ListCatalogChanges returns a page of the tenant's record's catalog
// changes, newest first, and the cursor of the next page when there is one.
// ErrNotFound: no such record.
func (s *Store) ListCatalogChanges(ctx context.Context, k RecordKind, tenantID uuid.UUID, id string, limit int, after *Cursor) ([]CatalogChange, *Cursor, error) {
	return historyPage(ctx, s, k, tenantID, id, limit, after, "list catalog changes", "id",
		`SELECT id, at, from_hash, to_hash, tools_added, tools_removed, tools_changed FROM catalog_changes`,
		func(c *CatalogChange) (*time.Time, int64) { return &c.At, c.ID })
}

// historyPage returns a page of a side table's rows for the record, newest
// first by key (a per-record increasing number), after the cursor, and the
// cursor of the next page when there is one. position is a row's time,
// which is put in UTC, and its key.
func historyPage[T any](ctx context.Context, s *Store, k RecordKind, tenantID uuid.UUID, id string,
	limit int, after *Cursor, op, key, selectFrom string, position func(*T) (*time.Time, int64)) ([]T, *Cursor, error) {
	if limit < 1 || limit > contract.MaxPageLimit {
		return nil, nil, fmt.Errorf("%s: limit must be between 1 and %d, got %d", op, contract.MaxPageLimit, limit)
	}
	if err := s.exists(ctx, k, tenantID, id); err != nil {
		return nil, nil, err
	}
	arg := map[string]any{"id": id, "limit": limit + 1}
	where := k.fk + ` = CAST(:id AS ` + k.idType() + `)`
	if after != nil {
		n, err := strconv.ParseInt(after.ID, 10, 64)
		if err != nil {
			return nil, nil, ErrInvalidCursor
		}
		where += ` AND ` + key + ` < :after`
		arg["after"] = n
	}
	rows := []T{}
	if err := namedSelect(ctx, s.db, &rows, selectFrom+` WHERE `+where+` ORDER BY `+key+` DESC LIMIT :limit`, arg); err != nil {
		return nil, nil, s.fail(op, err)
	}
	for i := range rows {
		at, _ := position(&rows[i])
		*at = at.UTC()
	}
	if len(rows) <= limit {
		return rows, nil, nil
	}
	rows = rows[:limit]
	at, n := position(&rows[limit-1])
	return rows, &Cursor{CreatedAt: *at, ID: strconv.FormatInt(n, 10)}, nil
}
