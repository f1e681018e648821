package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq/pqerror"
)

// Project is a row of projects.
type Project struct {
	Key[string]
	Name        string  `db:"name"`
	Description *string `db:"description"`
	Timestamps
}

// ListProjectsParams selects a page of a tenant's projects.
type ListProjectsParams struct {
	TenantID uuid.UUID
	Name     *string // exact match
	Limit    int     // 1..100
	After    *Cursor
}

// ProjectNotEmptyError is the refusal to delete a project that still has
// MCP servers.
type ProjectNotEmptyError struct {
	// Servers is how many MCP servers the project has.
	Servers int
}

func (e *ProjectNotEmptyError) Error() string {
	return fmt.Sprintf("project still has %d MCP servers", e.Servers)
}

const projectColumns = `id, tenant_id, name, description, ` + timestampColumns

// projects are the rows of projects.
var projects = kind[Project, Project]{table: "projects", noun: "project", columns: projectColumns, idType: "text",
	set:     assign("name", "description") + `, updated_at = ` + updatedAtSQL,
	cursor:  func(p Project) Cursor { return Cursor{CreatedAt: p.CreatedAt, ID: p.ID} },
	refused: (*Store).projectError}

// CreateProject inserts p. The caller sets TenantID, Name and Description,
// and may set ID (NewProjectID is used when it is empty); the store fills
// the stored values back into p. ErrNameTaken: the tenant already has a
// project with that name; ErrNotFound: the tenant does not exist.
func (s *Store) CreateProject(ctx context.Context, p *Project) error {
	if p.ID == "" {
		p.ID = NewProjectID()
	}
	return projects.create(ctx, s, p, `
		INSERT INTO projects (id, tenant_id, name, description, created_at, updated_at)
		VALUES (:id, :tenant_id, :name, :description,
			date_trunc('milliseconds', now()), date_trunc('milliseconds', now()))`, *p)
}

// GetProject returns the tenant's project id, or ErrNotFound (also when it
// belongs to another tenant).
func (s *Store) GetProject(ctx context.Context, tenantID uuid.UUID, id string) (Project, error) {
	return projects.get(ctx, s, tenantID, id)
}

// ListProjects returns a page of the tenant's projects in creation order,
// and the cursor of the next page when there is one.
func (s *Store) ListProjects(ctx context.Context, p ListProjectsParams) ([]Project, *Cursor, error) {
	return projects.list(ctx, s, p.TenantID, map[string]*string{"name": p.Name}, p.Limit, p.After)
}

// UpdateProject changes the tenant's project id under a row lock: fn sees
// the current row and changes Name and Description; nothing is written when
// it returns an error, which is returned as is. UpdatedAt becomes the
// database's current time. ErrNotFound: no such project for the tenant;
// ErrNameTaken: the new name is used by another of its projects.
func (s *Store) UpdateProject(ctx context.Context, tenantID uuid.UUID, id string, fn func(*Project) error) (Project, error) {
	return projects.update(ctx, s, tenantID, id, fn, func(_ *sqlx.Tx, current, row Project) (any, error) {
		row.ID, row.TenantID = current.ID, current.TenantID
		return row, nil
	})
}

// DeleteProject deletes the tenant's project id. A project that still has
// MCP servers is not deleted: the error is a *ProjectNotEmptyError with
// their number. ErrNotFound: no such project for the tenant.
func (s *Store) DeleteProject(ctx context.Context, tenantID uuid.UUID, id string) error {
	return s.inTx(ctx, "delete project", func(tx *sqlx.Tx) error {
		// The lock keeps a server from being added between the count and
		// the delete (an insert takes a key-share lock on the project).
		var found []string
		err := namedSelect(ctx, tx, &found, `SELECT id FROM projects
			WHERE tenant_id = :tenant_id AND id = :id
			FOR UPDATE`,
			map[string]any{"tenant_id": tenantID, "id": id})
		if err != nil {
			return s.fail("delete project", err)
		}
		if len(found) == 0 {
			return ErrNotFound
		}
		var servers int
		if err := namedGet(ctx, tx, &servers, `SELECT count(*) FROM mcp_servers
			WHERE tenant_id = :tenant_id AND project_id = :id`,
			map[string]any{"tenant_id": tenantID, "id": id}); err != nil {
			return s.fail("delete project", err)
		}
		if servers > 0 {
			return &ProjectNotEmptyError{Servers: servers}
		}
		if _, err := namedExec(ctx, tx, `DELETE FROM projects WHERE tenant_id = :tenant_id AND id = :id`,
			map[string]any{"tenant_id": tenantID, "id": id}); err != nil {
			if constraint(err, pqerror.ForeignKeyViolation) != "" {
				// Unreachable while the lock above holds; the count is unknown here.
				return &ProjectNotEmptyError{Servers: 1}
			}
			return s.fail("delete project", err)
		}
		return s.audit(ctx, tx, "delete project")
	})
}

// projectError turns constraint violations into errors that say what is
// wrong with p.
func (s *Store) projectError(op string, p *Project, err error) error {
	return s.refusal(op, constraints{noun: "project", id: p.ID, tenantID: p.TenantID,
		nameKey: "projects_tenant_id_name_key", idKeys: []string{"projects_pkey", "projects_tenant_id_id_key"},
		checks: map[string]string{
			"projects_id_check":   fmt.Sprintf("id %q is not %s followed by 1 to 64 letters and digits", p.ID, projectIDPrefix),
			"projects_name_check": "the name must not be empty",
		}}, err)
}

func (p Project) utc() Project {
	p.Timestamps = p.Timestamps.utc()
	return p
}
