package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

const projectsPath = "/api/projects"

// ProjectListOptions filters and pages GET /api/projects. Zero values mean
// "no filter" and "the API's default page size".
type ProjectListOptions struct {
	// Name restricts the list to the project with exactly this name.
	Name string
	// Limit is the page size, 1 to contract.MaxPageLimit.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

func (o ProjectListOptions) query() url.Values {
	q := url.Values{}
	if o.Name != "" {
		q.Set("name", o.Name)
	}
	return pageQuery(q, o.Limit, o.Cursor)
}

func projectPath(id string) (string, error) {
	if !contract.ValidProjectID(id) {
		return "", fmt.Errorf("%w: the project id must be %q followed by letters and digits, got %q",
			ErrBadRequest, contract.ProjectIDPrefix, id)
	}
	return projectsPath + "/" + id, nil
}

// projectCall performs cl and unwraps the {"success":true,"project":{...}} envelope.
func (c *Client) projectCall(ctx context.Context, cl call) (*contract.Project, error) {
	var out contract.ProjectEnvelope
	if err := c.envelopeCall(ctx, cl, &out, func() bool { return out.Success && out.Project.ID != "" }); err != nil {
		return nil, err
	}
	return &out.Project, nil
}

// GetProject returns the project with the given id; ErrNotFound if the
// caller's tenant has none.
func (c *Client) GetProject(ctx context.Context, id string) (*contract.Project, error) {
	p, err := projectPath(id)
	if err != nil {
		return nil, err
	}
	return c.projectCall(ctx, call{method: http.MethodGet, path: p, idempotent: true})
}

// ListProjects returns one page of projects.
func (c *Client) ListProjects(ctx context.Context, opts ProjectListOptions) (*contract.ProjectListEnvelope, error) {
	var out contract.ProjectListEnvelope
	cl := call{method: http.MethodGet, path: projectsPath, query: opts.query(), idempotent: true}
	if err := c.envelopeCall(ctx, cl, &out, func() bool { return out.Success }); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAllProjects follows NextCursor from opts.Cursor (or the start) to the
// last page and returns every matching project. Pages are of opts.Limit, or
// of contract.MaxPageLimit when it is zero.
func (c *Client) ListAllProjects(ctx context.Context, opts ProjectListOptions) ([]contract.Project, error) {
	opts.Limit = allPagesLimit(opts.Limit)
	return listAll(projectsPath, opts.Cursor, func(cursor string) ([]contract.Project, *string, error) {
		opts.Cursor = cursor
		page, err := c.ListProjects(ctx, opts)
		if err != nil {
			return nil, nil, err
		}
		return page.Projects, page.NextCursor, nil
	})
}

// CreateProject creates a project. Like every create it is retried only
// when the API certainly did not act on it.
func (c *Client) CreateProject(ctx context.Context, req contract.CreateProjectRequest) (*contract.Project, error) {
	return c.projectCall(ctx, call{method: http.MethodPost, path: projectsPath, body: req})
}

// UpdateProject changes the non-nil fields of req and returns the result.
func (c *Client) UpdateProject(ctx context.Context, id string, req contract.UpdateProjectRequest) (*contract.Project, error) {
	p, err := projectPath(id)
	if err != nil {
		return nil, err
	}
	return c.projectCall(ctx, call{method: http.MethodPatch, path: p, body: req, idempotent: true})
}

// DeleteProject deletes the project; ErrNotFound if it does not exist, and
// ErrConflict while it still has MCP servers (the message says how many).
func (c *Client) DeleteProject(ctx context.Context, id string) error {
	p, err := projectPath(id)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: p, idempotent: true}, nil)
}
