package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
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

// checkWrite is what every kind's batch check write adds to its own columns:
// the check state, a history row, the pruning of history beyond the kept
// count, a new catalog when it differs from the stored one, and a catalog
// change when the tools did. It is one statement with the kind's UPDATE, so
// a batch of checks costs one round trip.
type checkWrite struct {
	oks          pq.BoolArray
	errorKinds   []*string
	protocols    []*string
	durations    pq.Int64Array
	toolCounts   pq.Int64Array
	toolsHashes  []*string
	catalogs     []*string // content hashes
	bodies       []*string // set only when the catalog is not stored yet
	prevCatalogs []*string // the catalog the row had when it was read
	prevTools    []*string
	added        []*string // JSON arrays of names, set exactly when the tools changed
	removed      []*string
	changed      []*string
}

// The SQL a kind's check write splices in, around its own: r is the
// unnest of its inputs, m its table, t the statement's time.
const (
	checkUnnestSQL = `, CAST(:c_oks AS boolean[]), CAST(:c_error_kinds AS text[]), CAST(:c_protocols AS text[]),
		CAST(:c_durations AS bigint[]), CAST(:c_tool_counts AS bigint[]), CAST(:c_tools_hashes AS text[]),
		CAST(:c_catalogs AS text[]), CAST(:c_bodies AS text[]), CAST(:c_prev_catalogs AS text[]),
		CAST(:c_prev_tools AS text[]), CAST(:c_added AS text[]), CAST(:c_removed AS text[]), CAST(:c_changed AS text[])`
	checkUnnestNames = `, c_ok, c_error_kind, c_protocol, c_duration_ms, c_tool_count, c_tools_hash,
		c_catalog, c_body, c_prev_catalog, c_prev_tools, c_added, c_removed, c_changed`
	checkSetSQL = `,
			last_error_kind = r.c_error_kind,
			protocol_version = CASE WHEN r.c_ok THEN r.c_protocol ELSE m.protocol_version END,
			tool_count = CASE WHEN r.c_ok THEN r.c_tool_count ELSE m.tool_count END,
			tools_hash = CASE WHEN r.c_ok THEN r.c_tools_hash ELSE m.tools_hash END,
			catalog_hash = CASE WHEN r.c_ok THEN r.c_catalog ELSE m.catalog_hash END,
			catalog_observed_at = CASE WHEN r.c_ok THEN greatest(t.now, m.updated_at) ELSE m.catalog_observed_at END,
			tools_changed_at = CASE WHEN r.c_ok AND r.c_added IS NOT NULL
				THEN greatest(t.now, m.updated_at) ELSE m.tools_changed_at END,
			check_seq = m.check_seq + 1`
	// checkGuardSQL stores a passing check only over the catalog it was
	// compared with: a concurrent check that stored another one makes this
	// result ErrChanged rather than a change entry against the wrong base.
	checkGuardSQL = `
			AND (NOT r.c_ok OR m.catalog_hash IS NOT DISTINCT FROM r.c_prev_catalog)`
	checkReturningSQL = `, r.c_ok, r.c_duration_ms, r.c_body, r.c_prev_tools, r.c_added, r.c_removed, r.c_changed`
)

// sideEffectsSQL is the rest of a kind's check write: upd is its UPDATE's
// RETURNING, with the row's columns and checkReturningSQL's.
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

// newCheckWrite prepares the shared part of storing results[i] over the
// rows as they were read (prev[i]). A passing result's catalog is marshalled
// once here; its body goes to the database only when the row does not have
// it already, and a change of tools is diffed against the stored catalog.
func (s *Store) newCheckWrite(ctx context.Context, k RecordKind, ids []string, results []CheckResult, prev []CheckState) (checkWrite, error) {
	n := len(results)
	w := checkWrite{
		oks: make(pq.BoolArray, n), errorKinds: make([]*string, n), protocols: make([]*string, n),
		durations: make(pq.Int64Array, n), toolCounts: make(pq.Int64Array, n), toolsHashes: make([]*string, n),
		catalogs: make([]*string, n), bodies: make([]*string, n), prevCatalogs: make([]*string, n),
		prevTools: make([]*string, n), added: make([]*string, n), removed: make([]*string, n), changed: make([]*string, n),
	}
	for j, r := range results {
		w.oks[j] = r.OK
		w.durations[j] = r.Duration.Milliseconds()
		w.prevCatalogs[j], w.prevTools[j] = prev[j].CatalogHash, prev[j].ToolsHash
		if !r.OK {
			kind := r.ErrorKind
			if kind == "" {
				kind = string(contract.ErrorProtocol)
			}
			w.errorKinds[j] = &kind
			continue
		}
		if r.ProtocolVersion != "" {
			w.protocols[j] = new(r.ProtocolVersion)
		}
		cat := r.Catalog
		if cat == nil {
			cat = &catalog.Catalog{Tools: []catalog.Tool{}, Prompts: []catalog.Prompt{}, Resources: []catalog.Resource{}, ToolsHash: catalog.ToolsHash(nil)}
		}
		body, err := json.Marshal(cat)
		if err != nil {
			return checkWrite{}, fmt.Errorf("record checks: catalog of %s: %w", ids[j], err)
		}
		sum := sha256.Sum256(body)
		content := contract.HashPrefix + hex.EncodeToString(sum[:])
		w.catalogs[j], w.toolsHashes[j] = &content, new(cat.ToolsHash)
		w.toolCounts[j] = int64(len(cat.Tools))
		if prev[j].CatalogHash == nil || *prev[j].CatalogHash != content {
			w.bodies[j] = new(string(body))
		}
		// A record's first catalog counts as a change from none: every tool added.
		if prev[j].ToolsHash == nil || *prev[j].ToolsHash != cat.ToolsHash {
			before, err := s.storedToolHashes(ctx, k, ids[j], prev[j].CatalogHash)
			if err != nil {
				return checkWrite{}, err
			}
			d := catalog.Diff(before, cat.ToolHashes())
			w.added[j], w.removed[j], w.changed[j] = jsonNames(d.ToolsAdded), jsonNames(d.ToolsRemoved), jsonNames(d.ToolsChanged)
		}
	}
	return w, nil
}

// args adds the write's parameters to a kind's.
func (w checkWrite) args(arg map[string]any, keep int) {
	arg["c_oks"] = w.oks
	arg["c_error_kinds"] = pq.Array(w.errorKinds)
	arg["c_protocols"] = pq.Array(w.protocols)
	arg["c_durations"] = w.durations
	arg["c_tool_counts"] = w.toolCounts
	arg["c_tools_hashes"] = pq.Array(w.toolsHashes)
	arg["c_catalogs"] = pq.Array(w.catalogs)
	arg["c_bodies"] = pq.Array(w.bodies)
	arg["c_prev_catalogs"] = pq.Array(w.prevCatalogs)
	arg["c_prev_tools"] = pq.Array(w.prevTools)
	arg["c_added"] = pq.Array(w.added)
	arg["c_removed"] = pq.Array(w.removed)
	arg["c_changed"] = pq.Array(w.changed)
	arg["keep_checks"] = keep
}

func jsonNames(names []string) *string {
	if names == nil {
		names = []string{}
	}
	b, _ := json.Marshal(names) // a []string always marshals
	return new(string(b))
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
	rows, err := historyPage[CheckEntry](ctx, s, k, tenantID, id, limit, after, "list checks", "seq",
		`SELECT seq, at, ok, duration_ms, protocol_version, error_kind, error, tools_hash FROM check_history`)
	if err != nil {
		return nil, nil, err
	}
	page, next := pageOf(rows, limit, func(e CheckEntry) Cursor {
		return Cursor{CreatedAt: e.At, ID: strconv.FormatInt(e.Seq, 10)}
	}, func(e *CheckEntry) { e.At = e.At.UTC() })
	return page, next, nil
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
	rows, err := historyPage[CatalogChange](ctx, s, k, tenantID, id, limit, after, "list catalog changes", "id",
		`SELECT id, at, from_hash, to_hash, tools_added, tools_removed, tools_changed FROM catalog_changes`)
	if err != nil {
		return nil, nil, err
	}
	page, next := pageOf(rows, limit, func(c CatalogChange) Cursor {
		return Cursor{CreatedAt: c.At, ID: strconv.FormatInt(c.ID, 10)}
	}, func(c *CatalogChange) { c.At = c.At.UTC() })
	return page, next, nil
}

// historyPage selects up to limit+1 rows of a side table for the record,
// newest first by key (a per-record increasing number), after the cursor.
func historyPage[T any](ctx context.Context, s *Store, k RecordKind, tenantID uuid.UUID, id string,
	limit int, after *Cursor, op, key, selectFrom string) ([]T, error) {
	if limit < 1 || limit > contract.MaxPageLimit {
		return nil, fmt.Errorf("%s: limit must be between 1 and %d, got %d", op, contract.MaxPageLimit, limit)
	}
	if err := s.exists(ctx, k, tenantID, id); err != nil {
		return nil, err
	}
	arg := map[string]any{"id": id, "limit": limit + 1}
	where := k.fk + ` = CAST(:id AS ` + k.idType() + `)`
	if after != nil {
		n, err := strconv.ParseInt(after.ID, 10, 64)
		if err != nil {
			return nil, ErrInvalidCursor
		}
		where += ` AND ` + key + ` < :after`
		arg["after"] = n
	}
	rows := []T{}
	if err := namedSelect(ctx, s.db, &rows, selectFrom+` WHERE `+where+` ORDER BY `+key+` DESC LIMIT :limit`, arg); err != nil {
		return nil, s.fail(op, err)
	}
	return rows, nil
}

// pageOf trims rows to limit, fixes each up, and gives the next page's
// cursor when a row was left over.
func pageOf[T any](rows []T, limit int, cursor func(T) Cursor, fix func(*T)) ([]T, *Cursor) {
	for i := range rows {
		fix(&rows[i])
	}
	if len(rows) <= limit {
		return rows, nil
	}
	rows = rows[:limit]
	next := cursor(rows[limit-1])
	return rows, &next
}
