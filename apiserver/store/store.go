// Package store is the only place in the tree that speaks SQL: tenants, API
// keys and MCP connections in PostgreSQL through sqlx and lib/pq, with the
// schema migrations embedded in the binary.
package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"
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
)

// Store is a handle on the database. It is safe for concurrent use.
type Store struct {
	db *sqlx.DB
	// stmts holds the prepared statements of the hot queries by their text;
	// see Store.prepared.
	stmtsMu sync.RWMutex
	stmts   map[string]*sqlx.Stmt
}

// Tenant owns API keys and records.
type Tenant struct {
	ID        uuid.UUID `db:"id"`
	Name      string    `db:"name"`
	CreatedAt time.Time `db:"created_at"`
}

// Connection is a row of mcp_connections. TokenCiphertext and TokenKeyID hold
// the sealed bearer token (nil when there is none); the store never sees it in
// the clear.
type Connection struct {
	ID                uuid.UUID  `db:"id"`
	TenantID          uuid.UUID  `db:"tenant_id"`
	Name              string     `db:"name"`
	ServerURL         string     `db:"server_url"`
	AuthType          string     `db:"auth_type"`
	TokenCiphertext   []byte     `db:"token_ciphertext"`
	TokenKeyID        *string    `db:"token_key_id"`
	Status            string     `db:"status"`
	Instructions      *string    `db:"instructions"`
	LastError         *string    `db:"last_error"`
	LastHealthCheckAt *time.Time `db:"last_health_check_at"`
	NextCheckAt       time.Time  `db:"next_check_at"` // when the health scheduler is due to check it
	CreatedAt         time.Time  `db:"created_at"`
	UpdatedAt         time.Time  `db:"updated_at"`
}

// Cursor is a position in a list ordered by (created_at, id).
type Cursor struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// ListConnectionsParams selects a page of a tenant's connections.
type ListConnectionsParams struct {
	TenantID uuid.UUID
	Name     *string // exact match
	Status   *string
	Limit    int     // 1..100
	After    *Cursor // nil for the first page
}

// The method set below is the contract the HTTP layer builds on.
var _ interface {
	Close() error
	Ping(context.Context) error
	Migrate(context.Context) error
	CreateTenant(context.Context, string) (Tenant, error)
	CreateAPIKey(context.Context, uuid.UUID, []byte) error
	TenantForKey(context.Context, []byte) (uuid.UUID, error)
	EnsureTenantWithKey(context.Context, string, []byte) (uuid.UUID, bool, error)
	CreateConnection(context.Context, *Connection) error
	GetConnection(context.Context, uuid.UUID, uuid.UUID) (Connection, error)
	ListConnections(context.Context, ListConnectionsParams) ([]Connection, *Cursor, error)
	UpdateConnection(context.Context, uuid.UUID, uuid.UUID, func(*Connection) error) (Connection, error)
	DeleteConnection(context.Context, uuid.UUID, uuid.UUID) error
	ReencryptTokens(context.Context, func(id uuid.UUID, ciphertext []byte, keyID string) ([]byte, string, error)) (int, error)
} = (*Store)(nil)
