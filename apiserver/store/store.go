// Package store is the only place in the tree that speaks SQL: tenants, API
// keys, MCP connections, projects and MCP servers in PostgreSQL through sqlx
// and lib/pq, with the schema migrations embedded in the binary.
package store

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
)

// Errors callers branch on with errors.Is.
var (
	// ErrNotFound means no row matched (including rows of another tenant).
	ErrNotFound = errors.New("not found")
	// ErrNameTaken means the name is already used by another record of the tenant.
	ErrNameTaken = errors.New("name already in use")
	// ErrUnavailable means the database could not be reached; retrying later may succeed.
	ErrUnavailable = errors.New("database unavailable")
	// ErrChanged means a check result was not stored because the record
	// changed while it was being checked: its endpoint, command or
	// credentials are no longer those the check used (or, for a scheduled
	// check of an MCP server, it was disconnected meanwhile), so the result
	// describes something the record no longer names.
	ErrChanged = errors.New("record changed while it was being checked")
)

// Store is a handle on the database. It is safe for concurrent use.
type Store struct {
	db *sqlx.DB
	// stmts holds the prepared statements of the hot queries by their text;
	// see Store.prepared.
	stmtsMu sync.RWMutex
	stmts   map[string]*sqlx.Stmt
	// checkHistory is how many checks per record are kept; 0 means
	// DefaultCheckHistory.
	checkHistory atomic.Int64
}

// SetCheckHistory sets how many checks per record the history keeps
// (MCP_API_CHECK_HISTORY); n < 1 means DefaultCheckHistory.
func (s *Store) SetCheckHistory(n int) { s.checkHistory.Store(int64(n)) }

func (s *Store) keepChecks() int {
	if n := s.checkHistory.Load(); n > 0 {
		return int(n)
	}
	return DefaultCheckHistory
}
