package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/catalog"
)

// CheckResult is what one check of a record found. Every kind stores the
// findings its table has and ignores the others; the findings are ignored
// when the check failed, which keeps the last known ones.
type CheckResult struct {
	// OK reports that the check passed.
	OK bool
	// Err says why the check failed; it is ignored when OK is set.
	Err string

	// Instructions is what the server returned from the handshake (nil for
	// none). Connections store it.
	Instructions *string
	// Capabilities, ServerName and ServerVersion are what the handshake
	// returned.
	Capabilities  Capabilities
	ServerName    string
	ServerVersion string

	// ErrorKind classifies a failure (a contract.ErrorKind); a failure
	// without one is stored as protocol.
	ErrorKind string
	// ProtocolVersion is the version the handshake negotiated.
	ProtocolVersion string
	// Duration is how long the check took.
	Duration time.Duration
	// Catalog is what a passing check listed; nil stores an empty one.
	Catalog *catalog.Catalog
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
	return scanJSON(src, "capabilities", c)
}

// scanJSON decodes a JSON column's value, as the driver hands it over
// (bytes or text), into v; what names the column's content in errors.
func scanJSON(src any, what string, v any) error {
	var b []byte
	switch s := src.(type) {
	case []byte:
		b = s
	case string:
		b = []byte(s)
	default:
		return fmt.Errorf("%s: cannot scan %T", what, src)
	}
	return json.Unmarshal(b, v)
}

// Health is what the checks of a connection or an MCP server keep up to
// date on its row, and when the next one is due.
type Health struct {
	// Status is the kind's status: what the last check found, or a state a
	// person set.
	Status    string  `db:"status"`
	LastError *string `db:"last_error"` // nil after a passing check
	// Instructions, Capabilities, ServerName and ServerVersion are what the
	// last passing check's handshake returned; nil before it. Agents'
	// instructions are composed from Instructions.
	Instructions  *string       `db:"instructions"`
	Capabilities  *Capabilities `db:"capabilities"`
	ServerName    *string       `db:"server_name"`
	ServerVersion *string       `db:"server_version"`
	// NextCheckAt is when the health scheduler is due to check the row.
	NextCheckAt time.Time `db:"next_check_at"`
	CheckState

	// DueNow, set by an Update* fn, makes the row due for a check at the
	// database's current time (NextCheckAt is then ignored). It is a
	// parameter of the update, not a column.
	DueNow bool `db:"due_now"`
}

// healthColumns are Health's columns, in both checked kinds' tables.
const healthColumns = `status, last_error, instructions, capabilities, server_name, server_version, next_check_at, ` +
	checkStateColumns

// utc is h with its times in UTC.
func (h Health) utc() Health {
	h.NextCheckAt = h.NextCheckAt.UTC()
	h.CheckState = checkStateUTC(h.CheckState)
	return h
}

// Check is one check result to store: the record as it was read (claimed
// or loaded) before the check, and what the check found.
type Check[R any] struct {
	Record R
	Result CheckResult
	// Manual marks a check the tenant asked for, which stores an MCP
	// server's result even when it was disconnected meanwhile. Connections
	// have no such state and ignore it.
	Manual bool
}

// CheckOutcome is what storing one Check did. Err is nil when the result
// was stored and Record is the stored row; ErrChanged when it was not, and
// Record is the current row; ErrNotFound when the row is gone.
type CheckOutcome[R any] struct {
	Record R
	Err    error
}

// recordChecks stores checks in as few statements as it can: write stores
// the checks of which, whose rows are distinct, and returns the rows it
// stored; a row twice in one UPDATE ... FROM would be written once, so its
// later results go in statements of their own, in order. A check whose row
// was not stored is resolved with get. key is a row's primary key. A later
// check of a row is rebased on what the earlier one stored: it was read
// before that write, and its catalog is compared with the stored one.
func recordChecks[R any, K comparable](ctx context.Context, checks []Check[R], key func(R) K,
	write func(ctx context.Context, checks []Check[R], which []int) ([]R, error), get func(context.Context, R) (R, error),
	rebase func(checked, stored R) R) ([]CheckOutcome[R], error) {
	checks = slices.Clone(checks)
	out := make([]CheckOutcome[R], len(checks))
	for todo := indexes(len(checks)); len(todo) > 0; {
		var now, later []int
		seen := make(map[K]bool, len(todo))
		for _, i := range todo {
			if k := key(checks[i].Record); seen[k] {
				later = append(later, i)
			} else {
				seen[k] = true
				now = append(now, i)
			}
		}
		stored, err := write(ctx, checks, now)
		if err != nil {
			return nil, err
		}
		byKey := make(map[K]R, len(stored))
		for _, r := range stored {
			byKey[key(r)] = r
		}
		for _, i := range now {
			if r, ok := byKey[key(checks[i].Record)]; ok {
				out[i] = CheckOutcome[R]{Record: r}
				continue
			}
			// Rare: the row is gone or a write changed what was checked.
			current, err := get(ctx, checks[i].Record)
			switch {
			case errors.Is(err, ErrNotFound):
				out[i] = CheckOutcome[R]{Err: ErrNotFound}
			case err != nil:
				return nil, err
			default:
				out[i] = CheckOutcome[R]{Record: current, Err: ErrChanged}
			}
		}
		for _, i := range later {
			if r, ok := byKey[key(checks[i].Record)]; ok {
				checks[i].Record = rebase(checks[i].Record, r)
			}
		}
		todo = later
	}
	return out, nil
}

// checkedKind is how the results of checking one kind of record
// (connections, MCP servers) are stored: R is how its row is scanned, T the
// record. Every field is this package's constant.
type checkedKind[R scanned[T], T any] struct {
	records RecordKind
	noun    string // the record in operation names, such as "MCP server"
	passed  string // the status a passing check stores
	silent  string // the last error of a failure that says nothing
	// query is the kind's checkWriteSQL.
	query string
	// row is what the shared part of the write reads of a record.
	row func(T) checkedRow
	// inputs is the argument of query for checks: w, which has the
	// parameters of the shared part, with those of the kind's own part of
	// checks, in their order.
	inputs func(checks []Check[T], w checkWrite) (any, error)
	// get reads the current row of a record whose check was not stored.
	get func(ctx context.Context, s *Store, rec T) (T, error)
	// rebase is checked with the check state stored meanwhile.
	rebase func(checked, stored T) T
}

// record stores checks as the kind's Record*Checks documents: in as few
// statements as it can, with the next check due interval later.
func (k checkedKind[R, T]) record(ctx context.Context, s *Store, checks []Check[T], interval time.Duration) ([]CheckOutcome[T], error) {
	op := "record " + k.noun + " checks"
	if interval <= 0 {
		return nil, fmt.Errorf("%s: interval must be positive, got %s", op, interval)
	}
	return recordChecks(ctx, checks, func(rec T) string { return k.row(rec).id },
		func(ctx context.Context, checks []Check[T], which []int) ([]T, error) {
			chosen := make([]Check[T], len(which))
			rows := make([]checkedRow, len(which))
			results := make([]CheckResult, len(which))
			for j, i := range which {
				chosen[j], rows[j], results[j] = checks[i], k.row(checks[i].Record), checks[i].Result
			}
			w, err := s.newCheckWrite(ctx, k.records, rows, results, k.passed, k.silent, interval)
			if err != nil {
				return nil, err
			}
			arg, err := k.inputs(chosen, w)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			var stored []R
			if err := namedSelect(ctx, s.db, &stored, k.query, arg); err != nil {
				return nil, s.fail(op, err)
			}
			return utcAll(stored), nil
		},
		func(ctx context.Context, rec T) (T, error) { return k.get(ctx, s, rec) },
		k.rebase)
}

// recordOne stores one check with a kind's batch function.
func recordOne[R any](ctx context.Context, batch func(context.Context, []Check[R], time.Duration) ([]CheckOutcome[R], error),
	check Check[R], interval time.Duration) (R, error) {
	out, err := batch(ctx, []Check[R]{check}, interval)
	if err != nil {
		var zero R
		return zero, err
	}
	return out[0].Record, out[0].Err
}

// status is the status and last_error a result stores: passed on a pass,
// "error" and r.Err (or fallback when it says nothing) on a failure.
func (r CheckResult) status(passed, fallback string) (string, *string) {
	if r.OK {
		return passed, nil
	}
	msg := r.Err
	if msg == "" {
		msg = fallback
	}
	return "error", &msg
}

// updatedAtSQL is the updated_at of every write: the database's current
// time at millisecond precision, never before the row's last one.
// clock_timestamp, not now(): now() is when the transaction began, which may
// be before a concurrent writer we waited for committed.
const updatedAtSQL = `greatest(date_trunc('milliseconds', clock_timestamp()), updated_at)`

// checkedSetSQL ends the SET list of a checked kind's update: what a
// person may change of its check state, and the next check, due at the
// database's current time when the :due_now parameter (a row's DueNow) is
// set.
const checkedSetSQL = `,
				protocol_version = :protocol_version,
				last_error_kind = :last_error_kind,
				approved_tools_hash = :approved_tools_hash,
				next_check_at = CASE WHEN :due_now THEN date_trunc('milliseconds', clock_timestamp())
					ELSE date_trunc('milliseconds', CAST(:next_check_at AS timestamptz)) END,
				updated_at = ` + updatedAtSQL

// nextCheckAt is the next check an update stores when its fn set next on a
// row whose next check was current: current when next is zero.
func nextCheckAt(next, current time.Time) time.Time {
	if next.IsZero() {
		return current
	}
	return next
}

// claimable checks the arguments of a claim of up to limit rows for lease.
func claimable(op string, limit int, lease time.Duration) error {
	if limit < 1 {
		return fmt.Errorf("%s: limit must be at least 1, got %d", op, limit)
	}
	if lease <= 0 {
		return fmt.Errorf("%s: lease must be positive, got %s", op, lease)
	}
	return nil
}

// leaseSQL is the next_check_at of a claimed row: the :lease_ms parameter
// from the database's current time.
const leaseSQL = `date_trunc('milliseconds', now()) + CAST(:lease_ms AS bigint) * interval '1 millisecond'`

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// qualified is columns, a list of a table's columns, each prefixed with
// alias.
func qualified(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, col := range cols {
		cols[i] = alias + "." + strings.TrimSpace(col)
	}
	return strings.Join(cols, ", ")
}
