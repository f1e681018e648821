package httpapi_test

import (
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var projectIDShape = regexp.MustCompile(`^proj_[0-9A-Za-z]{16}$`)

func (a *api) createProject(name string) contract.Project {
	a.t.Helper()
	var env contract.ProjectEnvelope
	a.do("POST", "/api/projects", map[string]any{"name": name}).expect(a.t, http.StatusCreated, &env)
	return env.Project
}

func TestProjectLifecycle(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))

	before := time.Now().Add(-time.Second)
	r := a.do("POST", "/api/projects", map[string]any{"name": "Production", "description": "the live one"})
	var created contract.ProjectEnvelope
	r.expect(t, http.StatusCreated, &created)
	p := created.Project
	if !created.Success || !projectIDShape.MatchString(p.ID) || p.Name != "Production" || p.Description == nil ||
		*p.Description != "the live one" || p.CreatedAt.Before(before) || !p.UpdatedAt.Equal(p.CreatedAt.Time) {
		t.Fatalf("created = %s", r.body)
	}
	if got := r.header.Get("Location"); got != "/api/projects/"+p.ID {
		t.Errorf("Location = %q", got)
	}
	if !strings.HasPrefix(string(r.body), `{"success":true,"project":{`) {
		t.Errorf("body = %s, want the seed's envelope", r.body)
	}

	var got contract.ProjectEnvelope
	a.do("GET", "/api/projects/"+p.ID, nil).expect(t, http.StatusOK, &got)
	if !got.Success || !reflect.DeepEqual(got.Project, p) {
		t.Fatalf("GET = %+v, want %+v", got, p)
	}

	var list contract.ProjectListEnvelope
	r = a.do("GET", "/api/projects", nil).expect(t, http.StatusOK, &list)
	if !list.Success || len(list.Projects) != 1 || !reflect.DeepEqual(list.Projects[0], p) || list.NextCursor != nil ||
		!strings.Contains(string(r.body), `"nextCursor":null`) {
		t.Fatalf("list = %s", r.body)
	}

	var updated contract.ProjectEnvelope
	a.do("PATCH", "/api/projects/"+p.ID, map[string]any{"name": "Prod", "description": ""}).expect(t, http.StatusOK, &updated)
	if updated.Project.Name != "Prod" || updated.Project.Description != nil || updated.Project.CreatedAt != p.CreatedAt ||
		updated.Project.UpdatedAt.Before(p.UpdatedAt.Time) {
		t.Fatalf("PATCH = %+v", updated.Project)
	}
	a.do("PATCH", "/api/projects/"+p.ID, map[string]any{"description": "back"}).expect(t, http.StatusOK, &updated)
	if updated.Project.Name != "Prod" || *updated.Project.Description != "back" {
		t.Fatalf("PATCH description = %+v", updated.Project)
	}

	a.createProject("Staging")
	a.do("PATCH", "/api/projects/"+p.ID, map[string]any{"name": "Staging"}).expectEnvelopeError(t, http.StatusConflict, `a project named "Staging" already exists`)
	a.do("GET", "/api/projects?name=Staging", nil).expect(t, http.StatusOK, &list)
	if len(list.Projects) != 1 || list.Projects[0].Name != "Staging" {
		t.Fatalf("?name=Staging = %+v", list.Projects)
	}

	r = a.do("DELETE", "/api/projects/"+p.ID, nil).expect(t, http.StatusOK, nil)
	if string(r.body) != `{"success":true}` {
		t.Errorf("DELETE body = %s", r.body)
	}
	a.do("GET", "/api/projects/"+p.ID, nil).expectEnvelopeError(t, http.StatusNotFound, "project not found")
	a.do("PATCH", "/api/projects/"+p.ID, map[string]any{"name": "x"}).expectEnvelopeError(t, http.StatusNotFound, "project not found")
	a.do("DELETE", "/api/projects/"+p.ID, nil).expectEnvelopeError(t, http.StatusNotFound, "project not found")
}

func TestProjectRejectsBadInput(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))
	p := a.createProject("p")
	tests := []struct{ name, body, want string }{
		{"empty", ``, "request body is empty"},
		{"array", `[]`, "must be a JSON object"},
		{"unknown field", `{"name":"n","id":"proj_x"}`, `unknown field "id"`},
		{"null name", `{"name":null}`, `field "name" cannot be null`},
		{"name not a string", `{"name":1}`, `field "name" must be a string`},
		{"missing name", `{}`, "name must not be empty"},
		{"long name", `{"name":"` + strings.Repeat("a", 201) + `"}`, "name must be at most 200 characters"},
		{"control char", `{"name":"a\u0007"}`, "name must not contain control characters"},
		{"long description", `{"name":"n","description":"` + strings.Repeat("d", 2001) + `"}`, "description must be at most 2000 characters"},
		{"control char in description", `{"name":"n","description":"a\u0000b"}`, "description must not contain control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := a.as(a.key)
			b.t = t
			b.do("POST", "/api/projects", tc.body).expectEnvelopeError(t, http.StatusBadRequest, tc.want)
		})
	}
	a.do("PATCH", "/api/projects/"+p.ID, `{"name":""}`).expectEnvelopeError(t, http.StatusBadRequest, "name must not be empty")
	a.do("PATCH", "/api/projects/"+p.ID, `{"tenantId":"x"}`).expectEnvelopeError(t, http.StatusBadRequest, `unknown field "tenantId"`)
	a.do("POST", "/api/projects", map[string]any{"name": "multi", "description": "line one\nline two\ttab"}).expect(t, http.StatusCreated, nil)

	for _, id := range []string{"x", "proj_", "proj_a-b", "mcp_abc", "PROJ_abc", strings.Repeat("a", 100)} {
		want := `invalid project id`
		a.do("GET", "/api/projects/"+id, nil).expectEnvelopeError(t, http.StatusBadRequest, want)
		a.do("PATCH", "/api/projects/"+id, `{"name":"n"}`).expectEnvelopeError(t, http.StatusBadRequest, want)
		a.do("DELETE", "/api/projects/"+id, nil).expectEnvelopeError(t, http.StatusBadRequest, want)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=nope"} {
		a.do("GET", "/api/projects?"+q, nil).expectEnvelopeError(t, http.StatusBadRequest, strings.Split(q, "=")[0])
	}
}

func TestProjectDeleteWithServers(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))
	p := a.createProject("p")
	var ids []string
	for _, name := range []string{"one", "two"} {
		ids = append(ids, a.createServer(map[string]any{"projectId": p.ID, "name": name, "url": "https://a.example/" + name}).ID)
	}
	a.do("DELETE", "/api/projects/"+p.ID, nil).expectEnvelopeError(t, http.StatusConflict, "project "+p.ID+" still has 2 MCP servers")
	a.do("DELETE", "/api/mcp/servers/"+ids[0], nil).expect(t, http.StatusOK, nil)
	a.do("DELETE", "/api/projects/"+p.ID, nil).expectEnvelopeError(t, http.StatusConflict, "still has 1 MCP server;")
	// Moving the last one out also empties it.
	q := a.createProject("q")
	a.do("PATCH", "/api/mcp/servers/"+ids[1], map[string]any{"projectId": q.ID}).expect(t, http.StatusOK, nil)
	a.do("DELETE", "/api/projects/"+p.ID, nil).expect(t, http.StatusOK, nil)
}

func TestProjectTenantIsolation(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a, b := twoTenants(t, s)
	theirs := b.createProject("same name")
	mine := a.createProject("same name")

	path := "/api/projects/" + theirs.ID
	a.expectHidden(t, path, "project not found", (*response).expectEnvelopeError)
	if ids := listedIDs(a, "/api/projects", "projects"); !reflect.DeepEqual(ids, []string{mine.ID}) {
		t.Fatalf("tenant A lists %v", ids)
	}
	var still contract.ProjectEnvelope
	b.do("GET", path, nil).expect(t, http.StatusOK, &still)
	if !reflect.DeepEqual(still.Project, theirs) {
		t.Fatalf("the other tenant's project changed: %+v", still.Project)
	}
}

func TestProjectPagination(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))
	want := map[string]bool{}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		want[a.createProject(n).ID] = true
	}
	seen := pagedIDs(a, "/api/projects", "projects")
	if len(seen) != len(want) {
		t.Fatalf("saw %d projects over the pages, want %d", len(seen), len(want))
	}
}
