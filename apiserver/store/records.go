package store

import (
	"context"
	"database/sql"
	"errors"

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

// deleteByID deletes the tenant's row id of table, with the audit event
// ctx carries, or returns ErrNotFound.
func (s *Store) deleteByID(ctx context.Context, op, table string, tenantID, id any) error {
	return s.write(ctx, op, func(q sqlx.ExtContext) error {
		return deleteRow(ctx, s, q, op, `DELETE FROM `+table+` WHERE tenant_id = :tenant_id AND id = :id`,
			map[string]any{"tenant_id": tenantID, "id": id})
	})
}
