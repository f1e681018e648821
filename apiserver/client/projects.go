package client

import (
	"context"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

const projectsPath = "/api/projects"

// ProjectListOptions filters and pages GET /api/projects: by exact name.
type ProjectListOptions = NameListOptions

// projectCall performs cl and unwraps the {"success":true,"project":{...}} envelope.
func (c *Client) projectCall(ctx context.Context, cl call) (*contract.Project, error) {
	out, err := fetchEnvelope(ctx, c, cl, func(e *contract.ProjectEnvelope) bool { return e.Success && e.Project.ID != "" })
	if err != nil {
		return nil, err
	}
	return &out.Project, nil
}

// GetProject returns the project with the given id; ErrNotFound if the
// caller's tenant has none.
func (c *Client) GetProject(ctx context.Context, id string) (*contract.Project, error) {
	return c.projectCall(ctx, projects.on(id, get("", nil)))
}

// ListProjects returns one page of projects.
func (c *Client) ListProjects(ctx context.Context, opts ProjectListOptions) (*contract.ProjectListEnvelope, error) {
	return fetchEnvelope(ctx, c, get(projectsPath, opts.query()), func(e *contract.ProjectListEnvelope) bool { return e.Success })
}

// ListAllProjects follows NextCursor from opts.Cursor (or the start) to the
// last page and returns every matching project. Pages are of opts.Limit, or
// of contract.MaxPageLimit when it is zero.
func (c *Client) ListAllProjects(ctx context.Context, opts ProjectListOptions) ([]contract.Project, error) {
	return listEvery(ctx, projectsPath, opts, c.ListProjects,
		func(p *contract.ProjectListEnvelope) ([]contract.Project, *string) { return p.Projects, p.NextCursor })
}

// CreateProject creates a project. Like every create it is retried only
// when the API certainly did not act on it.
func (c *Client) CreateProject(ctx context.Context, req contract.CreateProjectRequest) (*contract.Project, error) {
	return c.projectCall(ctx, post(projectsPath, req))
}

// UpdateProject changes the non-nil fields of req and returns the result.
func (c *Client) UpdateProject(ctx context.Context, id string, req contract.UpdateProjectRequest) (*contract.Project, error) {
	return c.projectCall(ctx, projects.on(id, patch(req)))
}

// DeleteProject deletes the project; ErrNotFound if it does not exist, and
// ErrConflict while it still has MCP servers (the message says how many).
func (c *Client) DeleteProject(ctx context.Context, id string) error {
	return c.do(ctx, projects.on(id, del()), nil)
}
