package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// The queries by id that every kind of record (connections, MCP servers,
// projects) shares. table and columns are always this package's constants,
// never caller input.

// getByID scans the tenant's row id of table into dest, through q (the
// database, or a transaction), taking a row lock when forUpdate is set.
// ErrNotFound: no such row for the tenant (also when it is another
// tenant's).
func (s *Store) getByID(ctx context.Context, q sqlx.ExtContext, op string, dest any, table, columns string, tenantID, id any, forUpdate bool) error {
	query := `SELECT ` + columns + ` FROM ` + table + `
		WHERE tenant_id = :tenant_id AND id = :id`
	if forUpdate {
		query += `
		FOR UPDATE`
	}
	err := namedGet(ctx, q, dest, query, map[string]any{"tenant_id": tenantID, "id": id})
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return s.fail(op, err)
	}
	return nil
}

// scanned is how a row of a kind is scanned: utc makes the record T of it,
// with every time in UTC (lib/pq returns the session's time zone, and the
// API speaks UTC).
type scanned[T any] interface{ utc() T }

// kind is what the create, get, list and update of one kind of record
// share: R is how its row is scanned, T the record. Every field is this
// package's constant, never caller input.
type kind[R scanned[T], T any] struct {
	table   string
	noun    string // the record in operation names, such as "MCP server"
	columns string // what every query returns, in the order of the table
	idType  string // SQL type of the id column, for the keyset comparison
	// set is the SET list of an update; its parameters are the row's
	// columns.
	set string
	// cursor is the page cursor that follows a row.
	cursor func(T) Cursor
	// refused turns a write's constraint violations into errors that say
	// what is wrong with rec.
	refused func(s *Store, op string, rec *T, err error) error
	// refs are the secrets a record points at, for the kinds that keep
	// some (nil for the others): a write queues the cleanup of those it
	// drops and adopts those it Put (SecretWrites).
	refs func(T) []SecretRef
}

// create runs insert, an INSERT ... RETURNING k.columns, with arg and the
// audit event ctx carries, and fills the stored row back into rec.
func (k kind[R, T]) create(ctx context.Context, s *Store, rec *T, insert string, arg any) error {
	op := "create " + k.noun
	var row R
	err := s.write(ctx, op, func(q sqlx.ExtContext) error {
		if err := namedGet(ctx, q, &row, insert+`
		RETURNING `+k.columns, arg); err != nil {
			return err
		}
		if k.refs == nil {
			return nil
		}
		return applySecretWrites(ctx, s, q, op, nil, k.refs(row.utc()))
	})
	if errors.Is(err, ErrSecretLost) {
		return err
	}
	if err != nil {
		return k.refused(s, op, rec, err)
	}
	*rec = row.utc()
	return nil
}

// get returns the tenant's record id, or ErrNotFound (also when it belongs
// to another tenant).
func (k kind[R, T]) get(ctx context.Context, s *Store, tenantID, id any) (T, error) {
	var row R
	if err := s.getByID(ctx, s.db, "get "+k.noun, &row, k.table, k.columns, tenantID, id, false); err != nil {
		var zero T
		return zero, err
	}
	return row.utc(), nil
}

// list returns a page of the tenant's records in creation order, matching
// filters (column to value; nil values match all), and the cursor of the
// next page when there is one.
func (k kind[R, T]) list(ctx context.Context, s *Store, tenantID any, filters map[string]*string, limit int, after *Cursor) ([]T, *Cursor, error) {
	q := pageQuery{op: "list " + k.noun + "s", table: k.table, columns: k.columns, idType: k.idType,
		filters: filters, limit: limit, after: after}
	return selectPage[R](ctx, s, tenantID, q, k.cursor)
}

// update changes the tenant's record id under a row lock: it reads the
// row, lets fn change a copy of it, and stores every column of k.set with
// the argument prepare returns for the record as read and as fn left it
// (prepare also checks what the kind allows). Errors of fn and prepare
// come back as they are, and nothing is written then. The audit event ctx
// carries goes in the same transaction. The stored row is returned.
func (k kind[R, T]) update(ctx context.Context, s *Store, tenantID, id any, fn func(*T) error,
	prepare func(tx *sqlx.Tx, current, row T) (any, error)) (T, error) {
	op := "update " + k.noun
	var stored R
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var read R
		if err := s.getByID(ctx, tx, op, &read, k.table, k.columns, tenantID, id, true); err != nil {
			return err
		}
		current := read.utc()
		row := current
		if err := fn(&row); err != nil {
			return err
		}
		arg, err := prepare(tx, current, row)
		if err != nil {
			return err
		}
		err = namedGet(ctx, tx, &stored, `
			UPDATE `+k.table+` SET `+k.set+`
			WHERE tenant_id = :tenant_id AND id = :id
			RETURNING `+k.columns, arg)
		if err != nil {
			return k.refused(s, op, &row, err)
		}
		if k.refs != nil {
			if err := applySecretWrites(ctx, s, tx, op, k.refs(current), k.refs(stored.utc())); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, op)
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return stored.utc(), nil
}

// assign is the SET list that stores each of columns from the parameter of
// its name.
func assign(columns ...string) string {
	set := make([]string, len(columns))
	for i, c := range columns {
		set[i] = c + " = :" + c
	}
	return strings.Join(set, ",\n\t\t\t\t")
}

// Key names a tenant's row: its id (a UUID or a prefixed text id, by kind)
// and the tenant that owns it. Every kind of record starts with one.
type Key[ID any] struct {
	ID       ID        `db:"id"`
	TenantID uuid.UUID `db:"tenant_id"`
}

// Timestamps are when a row was created and last changed, at millisecond
// precision; the database sets both.
type Timestamps struct {
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// timestampColumns are Timestamps' columns.
const timestampColumns = `created_at, updated_at`

// utc is t in UTC.
func (t Timestamps) utc() Timestamps {
	return Timestamps{CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

// utcAll is rows as records.
func utcAll[R scanned[T], T any](rows []R) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = r.utc()
	}
	return out
}
