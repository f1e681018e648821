package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq/pqerror"
)

// Tenant owns API keys and records.
type Tenant struct {
	ID        uuid.UUID `db:"id"`
	Name      string    `db:"name"`
	CreatedAt time.Time `db:"created_at"`
}

// CreateTenant creates a tenant with a new random id.
func (s *Store) CreateTenant(ctx context.Context, name string) (Tenant, error) {
	if strings.TrimSpace(name) == "" {
		return Tenant{}, errors.New("tenant name must not be empty")
	}
	var t Tenant
	err := namedGet(ctx, s.db, &t, `
		INSERT INTO tenants (id, name)
		VALUES (:id, :name)
		RETURNING id, name, created_at`,
		map[string]any{"id": uuid.New(), "name": name})
	if err != nil {
		return Tenant{}, s.fail("create tenant", err)
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return t, nil
}

// CreateAPIKey stores the hash of a new API key for tenantID. It returns
// ErrNotFound when the tenant does not exist.
func (s *Store) CreateAPIKey(ctx context.Context, tenantID uuid.UUID, keyHash []byte) error {
	if err := insertAPIKey(ctx, s.db, tenantID, keyHash); err != nil {
		return s.keyError(tenantID, err)
	}
	return nil
}

func insertAPIKey(ctx context.Context, q sqlx.ExtContext, tenantID uuid.UUID, keyHash []byte) error {
	if len(keyHash) == 0 {
		return errors.New("API key hash must not be empty")
	}
	_, err := namedExec(ctx, q, `
		INSERT INTO api_keys (id, tenant_id, key_hash)
		VALUES (:id, :tenant_id, :key_hash)`,
		map[string]any{"id": uuid.New(), "tenant_id": tenantID, "key_hash": keyHash})
	return err
}

func (s *Store) keyError(tenantID uuid.UUID, err error) error {
	switch {
	case constraint(err, pqerror.ForeignKeyViolation) != "":
		return fmt.Errorf("tenant %s: %w", tenantID, ErrNotFound)
	case constraint(err, pqerror.UniqueViolation) == "api_keys_key_hash_key":
		return errors.New("create API key: an API key with this hash already exists; generate a new key")
	}
	return s.fail("create API key", err)
}

// APIKey is who an API key authenticates: the key's id and its tenant.
type APIKey struct {
	ID       uuid.UUID `db:"id"`
	TenantID uuid.UUID `db:"tenant_id"`
}

// TenantForKey returns the tenant owning the unrevoked API key with this
// hash, or ErrNotFound.
func (s *Store) TenantForKey(ctx context.Context, keyHash []byte) (uuid.UUID, error) {
	key, err := s.APIKeyForHash(ctx, keyHash)
	return key.TenantID, err
}

// APIKeyForHash returns the unrevoked API key with this hash (its id, which
// audit events name, and its tenant), or ErrNotFound.
func (s *Store) APIKeyForHash(ctx context.Context, keyHash []byte) (APIKey, error) {
	var key APIKey
	// prepared: every API request whose key is not cached runs it
	err := s.preparedGet(ctx, &key, `SELECT id, tenant_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, keyHash)
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, ErrNotFound
	}
	if err != nil {
		return APIKey{}, s.fail("look up API key", err)
	}
	return key, nil
}

// errLostRace rolls back a tenant whose key another caller inserted first.
var errLostRace = errors.New("another caller created the API key first")

// EnsureTenantWithKey makes sure some tenant owns the API key with this hash:
// it returns the owner if there is one (created=false, even when the key is
// revoked, so a revoked bootstrap key is never silently revived), and
// otherwise creates tenant name with the key (created=true). Replicas calling
// it at once agree on one tenant.
func (s *Store) EnsureTenantWithKey(ctx context.Context, name string, keyHash []byte) (uuid.UUID, bool, error) {
	if strings.TrimSpace(name) == "" {
		return uuid.Nil, false, errors.New("tenant name must not be empty")
	}
	if len(keyHash) == 0 {
		return uuid.Nil, false, errors.New("API key hash must not be empty")
	}
	// Two rounds: a replica that loses the race on the key's unique index
	// rolls its tenant back and reads the winner's on the second round.
	for range 2 {
		var owner uuid.UUID
		err := namedGet(ctx, s.db, &owner, `SELECT tenant_id FROM api_keys WHERE key_hash = :key_hash`,
			map[string]any{"key_hash": keyHash})
		if err == nil {
			return owner, false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return uuid.Nil, false, s.fail("look up API key", err)
		}

		tenantID := uuid.New()
		err = s.inTx(ctx, "create tenant with API key", func(tx *sqlx.Tx) error {
			if _, err := namedExec(ctx, tx, `INSERT INTO tenants (id, name) VALUES (:id, :name)`,
				map[string]any{"id": tenantID, "name": name}); err != nil {
				return s.fail("create tenant", err)
			}
			// ON CONFLICT waits for a concurrent insert of the same hash to
			// commit or roll back, then does nothing if it committed.
			res, err := namedExec(ctx, tx, `
				INSERT INTO api_keys (id, tenant_id, key_hash)
				VALUES (:id, :tenant_id, :key_hash)
				ON CONFLICT (key_hash) DO NOTHING`,
				map[string]any{"id": uuid.New(), "tenant_id": tenantID, "key_hash": keyHash})
			if err != nil {
				return s.fail("create API key", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return s.fail("create API key", err)
			} else if n == 0 {
				return errLostRace
			}
			return nil
		})
		if err == nil {
			return tenantID, true, nil
		}
		if !errors.Is(err, errLostRace) {
			return uuid.Nil, false, err
		}
	}
	return uuid.Nil, false, errors.New("bootstrap API key: could not create or find its tenant; retry")
}
