package store

import (
	"strings"
	"time"
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
	// returned. MCP servers store them.
	Capabilities  Capabilities
	ServerName    string
	ServerVersion string
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

// nextCheckAtSQL is the next_check_at of an update: the :next_check_at
// parameter (from nextCheckAt), or the database's current time when it is
// NULL.
const nextCheckAtSQL = `COALESCE(date_trunc('milliseconds', CAST(:next_check_at AS timestamptz)),
					date_trunc('milliseconds', clock_timestamp()))`

// nextCheckAt is the :next_check_at of an update whose fn set dueNow and
// next on a row whose next check was current: nil (the database clock)
// when due now, else next, or current when next is zero.
func nextCheckAt(dueNow bool, next, current time.Time) any {
	switch {
	case dueNow:
		return nil
	case next.IsZero():
		return current
	default:
		return next
	}
}

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
