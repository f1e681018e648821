package client_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

func TestProjectLifecycle(t *testing.T) {
	srv := apitest.Start(t)
	c, ctx := connected(t, srv)

	p, err := c.CreateProject(ctx, contract.CreateProjectRequest{Name: "Payments", Description: new("Payment agents")})
	if err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	if !strings.HasPrefix(p.ID, contract.ProjectIDPrefix) || p.Name != "Payments" || p.Description == nil || *p.Description != "Payment agents" {
		t.Errorf("created = %+v", p)
	}
	got, err := c.GetProject(ctx, p.ID)
	if err != nil || got.Name != "Payments" || !got.CreatedAt.Equal(p.CreatedAt.Time) {
		t.Errorf("GetProject = %+v, %v", got, err)
	}

	// An empty description removes it.
	updated, err := c.UpdateProject(ctx, p.ID, contract.UpdateProjectRequest{Name: new("Billing"), Description: new("")})
	if err != nil || updated.Name != "Billing" || updated.Description != nil {
		t.Errorf("UpdateProject = %+v, %v", updated, err)
	}

	_, err = c.CreateProject(ctx, contract.CreateProjectRequest{Name: "Billing"})
	var apiErr *client.APIError
	if !errors.Is(err, client.ErrConflict) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, `"Billing"`) {
		t.Errorf("duplicate name: %v, want ErrConflict naming it", err)
	}
	if _, err := c.CreateProject(ctx, contract.CreateProjectRequest{Name: ""}); !errors.Is(err, client.ErrBadRequest) ||
		!errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, "name") {
		t.Errorf("empty name: %v, want ErrBadRequest naming name", err)
	}

	// A project with servers cannot go; the message says how many.
	s, err := c.CreateServer(ctx, contract.CreateServerRequest{ProjectID: p.ID, Name: "s", URL: new("https://mcp.example.com/mcp")})
	if err != nil {
		t.Fatal(err)
	}
	err = c.DeleteProject(ctx, p.ID)
	if !errors.Is(err, client.ErrConflict) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, "1 MCP server") {
		t.Errorf("delete with a server: %v, want ErrConflict counting the servers", err)
	}
	if err := c.DeleteServer(ctx, s.ID); err != nil {
		t.Fatal(err)
	}

	if err := c.DeleteProject(ctx, p.ID); err != nil {
		t.Fatalf("DeleteProject: %v", err)
	}
	_, err = c.GetProject(ctx, p.ID)
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Message != "project not found" {
		t.Errorf("GetProject after delete: %v, want ErrNotFound with the API's message", err)
	}
	if err := c.DeleteProject(ctx, p.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	for _, id := range []string{"", "..", "proj_", "mcp_abc", "proj_a b"} {
		if _, err := c.GetProject(ctx, id); !errors.Is(err, client.ErrBadRequest) || !strings.Contains(err.Error(), `"proj_"`) {
			t.Errorf("GetProject(%q): %v, want ErrBadRequest naming the id shape", id, err)
		}
	}
}

func TestListAllProjectsFollowsCursors(t *testing.T) {
	srv := apitest.Start(t)
	c, ctx := connected(t, srv)
	const n = 5
	for i := range n {
		newProject(t, c, fmt.Sprintf("project-%d", i))
	}
	page, err := c.ListProjects(ctx, client.ProjectListOptions{Limit: 2})
	if err != nil || len(page.Projects) != 2 || page.NextCursor == nil {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	all, err := c.ListAllProjects(ctx, client.ProjectListOptions{Limit: 2})
	if err != nil || len(all) != n {
		t.Fatalf("ListAllProjects = %d, %v; want %d", len(all), err, n)
	}
	seen := map[string]bool{}
	for _, p := range all {
		if seen[p.ID] {
			t.Errorf("project %s listed twice", p.ID)
		}
		seen[p.ID] = true
	}
	byName, err := c.ListAllProjects(ctx, client.ProjectListOptions{Name: "project-3"})
	if err != nil || len(byName) != 1 || byName[0].Name != "project-3" {
		t.Errorf("name filter: %+v, %v", byName, err)
	}

	// Another tenant sees none of them.
	_, key := srv.NewTenant(t, "other")
	theirs, err := apiClient(t, srv, key).ListAllProjects(ctx, client.ProjectListOptions{})
	if err != nil || len(theirs) != 0 {
		t.Errorf("other tenant's projects = %+v, %v", theirs, err)
	}
}
