// Package store is the only place in the tree that speaks SQL: tenants, API
// keys, MCP connections, projects and MCP servers in PostgreSQL through sqlx
// and lib/pq, with the schema migrations embedded in the binary.
package store

import (
	"errors"
	"sync"

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
}
