package store

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
)

// crud is one kind of record's store methods, for the checks every kind's
// tests share. name is the kind in the methods' names: "Connection" for
// GetConnection, UpdateConnection and so on.
type crud[ID any, R any] struct {
	name   string
	get    func(ctx context.Context, tenantID uuid.UUID, id ID) (R, error)
	update func(ctx context.Context, tenantID uuid.UUID, id ID, fn func(*R) error) (R, error)
	del    func(ctx context.Context, tenantID uuid.UUID, id ID) error
	// list is the first page of the tenant's records.
	list func(ctx context.Context, tenantID uuid.UUID) ([]R, *Cursor, error)
}

func connectionCRUD(s *Store) crud[uuid.UUID, Connection] {
	return crud[uuid.UUID, Connection]{name: "Connection", get: s.GetConnection, update: s.UpdateConnection, del: s.DeleteConnection,
		list: func(ctx context.Context, tenantID uuid.UUID) ([]Connection, *Cursor, error) {
			return s.ListConnections(ctx, ListConnectionsParams{TenantID: tenantID, Limit: 100})
		}}
}

func projectCRUD(s *Store) crud[string, Project] {
	return crud[string, Project]{name: "Project", get: s.GetProject, update: s.UpdateProject, del: s.DeleteProject,
		list: func(ctx context.Context, tenantID uuid.UUID) ([]Project, *Cursor, error) {
			return s.ListProjects(ctx, ListProjectsParams{TenantID: tenantID, Limit: 10})
		}}
}

func serverCRUD(s *Store) crud[string, Server] {
	return crud[string, Server]{name: "Server", get: s.GetServer, update: s.UpdateServer, del: s.DeleteServer,
		list: func(ctx context.Context, tenantID uuid.UUID) ([]Server, *Cursor, error) {
			return s.ListServers(ctx, ListServersParams{TenantID: tenantID, Limit: 10})
		}}
}

// checkDeleted deletes the tenant's record id and asserts it is gone:
// reading, deleting and updating it again are ErrNotFound.
func (k crud[ID, R]) checkDeleted(t *testing.T, tenantID uuid.UUID, id ID) {
	t.Helper()
	ctx := context.Background()
	if err := k.del(ctx, tenantID, id); err != nil {
		t.Fatalf("Delete%s: %v", k.name, err)
	}
	if _, err := k.get(ctx, tenantID, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get%s after delete = %v, want ErrNotFound", k.name, err)
	}
	if err := k.del(ctx, tenantID, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete%s twice = %v, want ErrNotFound", k.name, err)
	}
	if _, err := k.update(ctx, tenantID, id, func(*R) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Update%s after delete = %v, want ErrNotFound", k.name, err)
	}
}

// checkHidden asserts that the tenant other sees nothing of the record id of
// another tenant: reading, updating (without showing the row to fn) and
// deleting it are ErrNotFound, and other's list is empty.
func (k crud[ID, R]) checkHidden(t *testing.T, other uuid.UUID, id ID) {
	t.Helper()
	ctx := context.Background()
	if _, err := k.get(ctx, other, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get%s by another tenant = %v, want ErrNotFound", k.name, err)
	}
	called := false
	if _, err := k.update(ctx, other, id, func(*R) error { called = true; return nil }); !errors.Is(err, ErrNotFound) || called {
		t.Fatalf("Update%s by another tenant = %v (fn called: %v), want ErrNotFound", k.name, err, called)
	}
	if err := k.del(ctx, other, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete%s by another tenant = %v, want ErrNotFound", k.name, err)
	}
	rows, next, err := k.list(ctx, other)
	if err != nil || len(rows) != 0 || next != nil {
		t.Fatalf("List%ss of the other tenant = %v, %v, %v; want nothing", k.name, rows, next, err)
	}
}
