package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// ErrStale means a health check result was not stored because the
// connection's endpoint or credentials changed while it was being checked:
// the result describes an endpoint the record no longer names.
var ErrStale = errors.New("connection changed while it was being checked")

// ConnectionTokenAAD binds a connection's sealed bearer token to its row,
// so a ciphertext copied onto another row does not open.
func ConnectionTokenAAD(id uuid.UUID) []byte {
	return []byte("mcp_connections:" + id.String())
}

// CheckResult is the outcome of one health check of a connection.
type CheckResult struct {
	// OK reports that the check passed.
	OK bool
	// Err says why the check failed; it is ignored when OK is set.
	Err string
	// Instructions is what the server returned from the handshake (nil for
	// none); it is ignored when the check failed, which keeps the last known.
	Instructions *string
}

// ClaimDueConnections takes up to limit connections, across all tenants,
// whose next check is due, oldest first, and pushes their next_check_at to
// now plus lease so no other claimer takes them meanwhile. The lease is also
// the crash recovery: a row whose check is never recorded is due again when
// it expires. Concurrent claimers (replicas) get disjoint rows without
// waiting on each other.
func (s *Store) ClaimDueConnections(ctx context.Context, limit int, lease time.Duration) ([]Connection, error) {
	if limit < 1 {
		return nil, fmt.Errorf("claim due connections: limit must be at least 1, got %d", limit)
	}
	if lease <= 0 {
		return nil, fmt.Errorf("claim due connections: lease must be positive, got %s", lease)
	}
	// The ARRAY(...) subquery runs once, before the update, and its ids are
	// then looked up by primary key. SKIP LOCKED makes replicas claim past
	// each other's rows instead of queueing behind them.
	rows := []Connection{}
	err := namedSelect(ctx, s.db, &rows, `
		UPDATE mcp_connections
		SET next_check_at = date_trunc('milliseconds', now()) + CAST(:lease_ms AS bigint) * interval '1 millisecond'
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
	for i := range rows {
		rows[i] = rows[i].utc()
	}
	return rows, nil
}

// ConnectionCheck is one health check result to store: the row as it was
// read (claimed or loaded) before the check, and what the check found.
type ConnectionCheck struct {
	Conn   Connection
	Result CheckResult
}

// CheckOutcome is what storing one ConnectionCheck did. Err is nil when the
// result was stored and Conn is the stored row; ErrStale when it was not
// because the endpoint changed, and Conn is the current row; ErrNotFound
// when the row is gone.
type CheckOutcome struct {
	Conn Connection
	Err  error
}

// RecordConnectionCheck stores the result of checking c, a row as it was
// read (claimed or loaded) before the check: status active or error,
// last_error (cleared on a pass), instructions (replaced on a pass, kept on
// a failure), last_health_check_at and updated_at set to the database's
// current time, and the next check due interval later. It returns the
// stored row. The result is stored only if c's server URL, auth type and
// token are still those of the row; otherwise it returns the current row
// and ErrStale. ErrNotFound: the row is gone.
func (s *Store) RecordConnectionCheck(ctx context.Context, c Connection, r CheckResult, interval time.Duration) (Connection, error) {
	out, err := s.RecordConnectionChecks(ctx, []ConnectionCheck{{Conn: c, Result: r}}, interval)
	if err != nil {
		return Connection{}, err
	}
	return out[0].Conn, out[0].Err
}

// RecordConnectionChecks stores several results as RecordConnectionCheck
// does, in one statement, and returns an outcome per check in the same
// order. The error is for the whole batch (nothing was stored).
func (s *Store) RecordConnectionChecks(ctx context.Context, checks []ConnectionCheck, interval time.Duration) ([]CheckOutcome, error) {
	if interval <= 0 {
		return nil, fmt.Errorf("record connection checks: interval must be positive, got %s", interval)
	}
	out := make([]CheckOutcome, len(checks))
	// A row twice in one UPDATE ... FROM would be written once; its later
	// results go in statements of their own, in order.
	for todo := indexes(len(checks)); len(todo) > 0; {
		var now, later []int
		seen := make(map[uuid.UUID]bool, len(todo))
		for _, i := range todo {
			if id := checks[i].Conn.ID; seen[id] {
				later = append(later, i)
			} else {
				seen[id] = true
				now = append(now, i)
			}
		}
		if err := s.recordChecks(ctx, checks, now, interval, out); err != nil {
			return nil, err
		}
		todo = later
	}
	return out, nil
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// recordChecks stores checks[i] for each i in which, whose rows are
// distinct, and fills out[i].
func (s *Store) recordChecks(ctx context.Context, checks []ConnectionCheck, which []int, interval time.Duration, out []CheckOutcome) error {
	n := len(which)
	ids := make(pq.StringArray, n)
	tenants := make(pq.StringArray, n)
	urls := make(pq.StringArray, n)
	auths := make(pq.StringArray, n)
	tokens := make(pq.ByteaArray, n)
	statuses := make(pq.StringArray, n)
	oks := make(pq.BoolArray, n)
	lastErrors := make([]*string, n)
	instructions := make([]*string, n)
	for j, i := range which {
		c, r := checks[i].Conn, checks[i].Result
		ids[j], tenants[j] = c.ID.String(), c.TenantID.String()
		urls[j], auths[j] = c.ServerURL, c.AuthType
		// pq.ByteaArray cannot say NULL; an empty value stands for "no
		// token", which no sealed token can be.
		tokens[j] = c.TokenCiphertext
		oks[j] = r.OK
		if r.OK {
			statuses[j], instructions[j] = "active", r.Instructions
		} else {
			msg := r.Err
			if msg == "" {
				msg = "the health check failed without saying why"
			}
			statuses[j], lastErrors[j] = "error", &msg
		}
	}
	// One statement, so a batch costs one round trip. The time is taken
	// once and used for both columns, which must be equal; greatest keeps
	// updated_at from going backwards if a concurrent writer we waited for
	// stamped a later time than our statement's start.
	var stored []Connection
	err := namedSelect(ctx, s.db, &stored, `
		UPDATE mcp_connections AS m SET
			status = r.status,
			last_error = r.last_error,
			instructions = CASE WHEN r.ok THEN r.instructions ELSE m.instructions END,
			last_health_check_at = greatest(t.now, m.updated_at),
			updated_at = greatest(t.now, m.updated_at),
			next_check_at = greatest(t.now, m.updated_at) + CAST(:interval_ms AS bigint) * interval '1 millisecond'
		FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:urls AS text[]), CAST(:auths AS text[]),
				CAST(:tokens AS bytea[]), CAST(:statuses AS text[]), CAST(:last_errors AS text[]),
				CAST(:oks AS boolean[]), CAST(:instructions AS text[]))
			AS r(id, tenant_id, server_url, auth_type, token_ciphertext, status, last_error, ok, instructions),
			(SELECT date_trunc('milliseconds', clock_timestamp()) AS now) AS t
		WHERE m.id = ANY(CAST(:ids AS uuid[])) -- lets the planner look rows up by key
			AND m.id = r.id AND m.tenant_id = r.tenant_id
			AND m.server_url = r.server_url
			AND m.auth_type = r.auth_type
			AND coalesce(m.token_ciphertext, '') = r.token_ciphertext
		RETURNING `+aliasedColumns,
		map[string]any{
			"ids":          ids,
			"tenants":      tenants,
			"urls":         urls,
			"auths":        auths,
			"tokens":       tokens,
			"statuses":     statuses,
			"last_errors":  pq.Array(lastErrors),
			"oks":          oks,
			"instructions": pq.Array(instructions),
			"interval_ms":  interval.Milliseconds(),
		})
	if err != nil {
		return s.fail("record connection checks", err)
	}
	byID := make(map[uuid.UUID]Connection, len(stored))
	for _, c := range stored {
		byID[c.ID] = c.utc()
	}
	for _, i := range which {
		c := checks[i].Conn
		if row, ok := byID[c.ID]; ok {
			out[i] = CheckOutcome{Conn: row}
			continue
		}
		// Rare: the row is gone or a write changed its endpoint.
		current, err := s.GetConnection(ctx, c.TenantID, c.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			out[i] = CheckOutcome{Err: ErrNotFound}
		case err != nil:
			return err
		default:
			out[i] = CheckOutcome{Conn: current, Err: ErrStale}
		}
	}
	return nil
}

// aliasedColumns is connectionColumns for mcp_connections aliased as m, in
// statements where another relation's columns could clash with ours.
var aliasedColumns = qualified("m")

func qualified(alias string) string {
	cols := strings.Split(connectionColumns, ",")
	for i, col := range cols {
		cols[i] = alias + "." + strings.TrimSpace(col)
	}
	return strings.Join(cols, ", ")
}
