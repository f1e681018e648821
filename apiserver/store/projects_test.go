package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func newProject(t *testing.T, s *Store, tenantID uuid.UUID, name string) Project {
	t.Helper()
	p := Project{Key: Key[string]{TenantID: tenantID}, Name: name}
	if err := s.CreateProject(context.Background(), &p); err != nil {
		t.Fatalf("CreateProject(%s): %v", name, err)
	}
	return p
}

func TestNewIDs(t *testing.T) {
	shapes := map[string]*regexp.Regexp{
		NewServerID():  regexp.MustCompile(`^mcp_[0-9A-Za-z]{16}$`),
		NewProjectID(): regexp.MustCompile(`^proj_[0-9A-Za-z]{16}$`),
	}
	for id, re := range shapes {
		if !re.MatchString(id) {
			t.Errorf("id %q does not match %s", id, re)
		}
	}
	seen := map[string]bool{}
	chars := map[rune]bool{}
	for range 2000 {
		id := NewServerID()
		if seen[id] {
			t.Fatalf("NewServerID repeated %q", id)
		}
		seen[id] = true
		for _, r := range strings.TrimPrefix(id, "mcp_") {
			chars[r] = true
		}
	}
	// 32000 draws from 62 symbols: a generator using only part of the
	// alphabet (say, hex) would be far more guessable.
	if len(chars) != 62 {
		t.Fatalf("ids use %d distinct characters, want all 62 of base62", len(chars))
	}
}

func TestCursorTextIDs(t *testing.T) {
	enc := roundTrip(t, NewServerID(), ServerIDs)
	c := Cursor{CreatedAt: cursorAt}
	connCursor := Cursor{CreatedAt: c.CreatedAt, ID: uuid.New().String()}.Encode()
	projCursor := Cursor{CreatedAt: c.CreatedAt, ID: NewProjectID()}.Encode()
	badID := Cursor{CreatedAt: c.CreatedAt, ID: "mcp_a'b"}.Encode()
	long := Cursor{CreatedAt: c.CreatedAt, ID: "mcp_" + strings.Repeat("a", 200)}.Encode()
	for _, bad := range []string{"", "garbage!", enc[:8], connCursor, projCursor, badID, long, enc + "AAAA%"} {
		if _, err := DecodeCursor(bad, ServerIDs); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrInvalidCursor", bad, err)
		}
	}
	if _, err := DecodeCursor(projCursor, ProjectIDs); err != nil {
		t.Errorf("project cursor: %v", err)
	}
}

func TestProjectCRUD(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")

	before := time.Now().Add(-time.Second)
	p := Project{Key: Key[string]{TenantID: tenant}, Name: "Production", Description: new("the live one")}
	if err := s.CreateProject(ctx, &p); err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	if !strings.HasPrefix(p.ID, "proj_") || p.Name != "Production" || *p.Description != "the live one" ||
		p.CreatedAt.Before(before) || !p.CreatedAt.Equal(p.UpdatedAt) || !isMillis(p.CreatedAt) || p.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreateProject stored %+v", p)
	}
	got, err := s.GetProject(ctx, tenant, p.ID)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("GetProject = %+v, %v; want %+v", got, err, p)
	}

	updated, err := s.UpdateProject(ctx, tenant, p.ID, func(r *Project) error {
		r.Name = "Prod"
		r.Description = nil
		r.ID, r.TenantID, r.CreatedAt = "proj_other", uuid.New(), time.Time{} // immutable: ignored
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateProject: %v", err)
	}
	if updated.ID != p.ID || updated.TenantID != tenant || !updated.CreatedAt.Equal(p.CreatedAt) ||
		updated.Name != "Prod" || updated.Description != nil || updated.UpdatedAt.Before(p.UpdatedAt) {
		t.Fatalf("UpdateProject = %+v", updated)
	}

	// Names are unique per tenant, not across tenants.
	newProject(t, s, tenant, "Staging")
	if err := s.CreateProject(ctx, &Project{Key: Key[string]{TenantID: tenant}, Name: "Staging"}); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate name = %v, want ErrNameTaken", err)
	}
	if _, err := s.UpdateProject(ctx, tenant, p.ID, func(r *Project) error { r.Name = "Staging"; return nil }); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("rename onto a taken name = %v, want ErrNameTaken", err)
	}
	newProject(t, s, newTenant(t, s, "other"), "Staging")

	want := errors.New("refused")
	if _, err := s.UpdateProject(ctx, tenant, p.ID, func(r *Project) error { r.Name = "x"; return want }); err != want {
		t.Fatalf("UpdateProject with failing fn = %v, want fn's error", err)
	}
	if err := s.CreateProject(ctx, &Project{Key: Key[string]{TenantID: uuid.New()}, Name: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CreateProject for a missing tenant = %v, want ErrNotFound", err)
	}
	if err := s.CreateProject(ctx, &Project{Key: Key[string]{ID: "proj_bad-id", TenantID: tenant}, Name: "x"}); err == nil || !strings.Contains(err.Error(), "letters and digits") {
		t.Fatalf("CreateProject with a malformed id = %v", err)
	}

	projectCRUD(s).checkDeleted(t, tenant, p.ID)
}

func TestProjectTenantIsolation(t *testing.T) {
	s := newStore(t)
	a, b := newTenant(t, s, "a"), newTenant(t, s, "b")
	p := newProject(t, s, a, "mine")

	projectCRUD(s).checkHidden(t, b, p.ID)
}

func TestDeleteProjectWithServers(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	p := newProject(t, s, tenant, "p")
	var servers []Server
	for i := range 3 {
		servers = append(servers, newHTTPServer(t, s, tenant, p.ID, fmt.Sprintf("s%d", i)))
	}
	err := s.DeleteProject(ctx, tenant, p.ID)
	var notEmpty *ProjectNotEmptyError
	if !errors.As(err, &notEmpty) || notEmpty.Servers != 3 {
		t.Fatalf("DeleteProject with 3 servers = %v, want *ProjectNotEmptyError{3}", err)
	}
	for _, srv := range servers {
		if err := s.DeleteServer(ctx, tenant, srv.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteProject(ctx, tenant, p.ID); err != nil {
		t.Fatalf("DeleteProject once empty: %v", err)
	}
}

func TestDeleteTenantCascades(t *testing.T) {
	s := newStore(t)
	tenant := newTenant(t, s, "gone")
	p := newProject(t, s, tenant, "p")
	newHTTPServer(t, s, tenant, p.ID, "s")
	// The servers' project key is NO ACTION rather than RESTRICT precisely
	// so that this works.
	if _, err := s.db.Exec(`DELETE FROM tenants WHERE id = $1`, tenant); err != nil {
		t.Fatalf("deleting a tenant with projects and servers: %v", err)
	}
	var left int
	if err := s.db.Get(&left, `SELECT (SELECT count(*) FROM projects) + (SELECT count(*) FROM mcp_servers)`); err != nil || left != 0 {
		t.Fatalf("%d rows left after the tenant went (%v)", left, err)
	}
}

func TestListProjects(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	var want []string
	for i := range 5 {
		want = append(want, newProject(t, s, tenant, fmt.Sprintf("p%d", i)).ID)
	}
	newProject(t, s, newTenant(t, s, "other"), "p0")

	got := pagedIDs(t, func(after *Cursor) ([]Project, *Cursor, error) {
		return s.ListProjects(ctx, ListProjectsParams{TenantID: tenant, Limit: 2, After: after})
	}, func(r Project) string { return r.ID })
	if !sameSet(got, want) || len(got) != len(want) {
		t.Fatalf("paged ids = %v, want %v once each", got, want)
	}
	rows, _, err := s.ListProjects(ctx, ListProjectsParams{TenantID: tenant, Name: new("p3"), Limit: 10})
	if err != nil || len(rows) != 1 || rows[0].Name != "p3" {
		t.Fatalf("name filter = %+v, %v", rows, err)
	}
	if _, _, err := s.ListProjects(ctx, ListProjectsParams{TenantID: tenant, Limit: 101}); err == nil {
		t.Fatal("ListProjects accepted limit 101")
	}
}

// pagedIDs follows list's cursors from the first page to the last, at most
// four pages, and returns the id of every row of every page in order.
func pagedIDs[T any](t *testing.T, list func(after *Cursor) ([]T, *Cursor, error), id func(T) string) []string {
	t.Helper()
	var got []string
	var after *Cursor
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		rows, next, err := list(after)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			got = append(got, id(r))
		}
		if next == nil {
			return got
		}
		after = next
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// A forged cursor whose time PostgreSQL cannot take is refused as invalid,
// as for connections, rather than reaching the query and failing there.
func TestCursorTextIDsRefuseTimesOutOfRange(t *testing.T) {
	s := newStore(t)
	tenant := newTenant(t, s, "acme")
	for _, at := range []time.Time{time.UnixMicro(math.MaxInt64), time.UnixMicro(math.MinInt64), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		enc := Cursor{CreatedAt: at, ID: NewServerID()}.Encode()
		c, err := DecodeCursor(enc, ServerIDs)
		if err == nil {
			if _, _, err := s.ListServers(context.Background(), ListServersParams{TenantID: tenant, Limit: 1, After: &c}); err != nil {
				t.Errorf("cursor at %v was accepted and the list then failed: %v", at, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("DecodeCursor(at %v) = %v, want ErrInvalidCursor", at, err)
		}
	}
}
