package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// projects serves /api/projects.
type projects struct {
	store *store.Store
	log   *slog.Logger
}

func (h *projects) register(g *gin.RouterGroup) {
	e := errorHandler{family: envelopeFamily, log: h.log, notFound: projectKind.notFound()}
	g.GET("", e.wrap("list projects", h.list))
	g.POST("", e.wrap("create project", h.create))
	g.GET("/:id", e.wrap("get project", onRecord(projectKind, h.store.GetProject, h.answer)))
	g.PATCH("/:id", e.wrap("update project", h.update))
	g.DELETE("/:id", e.wrap("delete project", h.delete))
}

// toProject is the one place a stored row becomes the wire object.
func toProject(p store.Project) contract.Project {
	return contract.Project{
		ID:          p.ID,
		Name:        p.Name,
		Description: p.Description,
		CreatedAt:   contract.NewTime(p.CreatedAt),
		UpdatedAt:   contract.NewTime(p.UpdatedAt),
	}
}

// answer answers one project with 200.
func (h *projects) answer(c *gin.Context, p store.Project) { h.ok(c, http.StatusOK, p) }

func (h *projects) ok(c *gin.Context, status int, p store.Project) {
	c.JSON(status, contract.ProjectEnvelope{Success: true, Project: toProject(p)})
}

func (h *projects) list(c *gin.Context) error {
	p := store.ListProjectsParams{TenantID: tenantOf(c)}
	var err error
	if p.Limit, p.After, err = parsePage(c, store.ProjectIDs); err != nil {
		return err
	}
	if v := c.Query("name"); v != "" {
		p.Name = &v
	}
	rows, next, err := h.store.ListProjects(c.Request.Context(), p)
	if err != nil {
		return err
	}
	out := contract.ProjectListEnvelope{Success: true, Projects: make([]contract.Project, 0, len(rows)), NextCursor: nextCursor(next)}
	for _, row := range rows {
		out.Projects = append(out.Projects, toProject(row))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

func (h *projects) create(c *gin.Context) error {
	var req contract.CreateProjectRequest
	if err := decodeObject(c.Request, &req); err != nil {
		return err
	}
	if err := validateCreateProject(&req); err != nil {
		return err
	}
	p := store.Project{ID: store.NewProjectID(), TenantID: tenantOf(c), Name: req.Name, Description: emptyToNil(req.Description)}
	if err := h.store.CreateProject(projectKind.audited(c, "create", p.ID), &p); err != nil {
		return projectKind.nameTaken(err, &req.Name)
	}
	c.Header("Location", projectsPath+"/"+p.ID)
	h.ok(c, http.StatusCreated, p)
	return nil
}

func validateCreateProject(req *contract.CreateProjectRequest) error {
	return firstError(
		checkName(req.Name),
		optional(req.Description, checkDescription),
	)
}

func validateUpdateProject(req *contract.UpdateProjectRequest) error {
	return firstError(
		optional(req.Name, checkName),
		optional(req.Description, checkDescription),
	)
}

func (h *projects) update(c *gin.Context) error {
	id, err := projectKind.pathID(c)
	if err != nil {
		return err
	}
	var req contract.UpdateProjectRequest
	if err := decodeObject(c.Request, &req); err != nil {
		return err
	}
	if err := validateUpdateProject(&req); err != nil {
		return err
	}
	p, err := h.store.UpdateProject(projectKind.audited(c, "update", id), tenantOf(c), id, func(p *store.Project) error {
		if req.Name != nil {
			p.Name = *req.Name
		}
		if req.Description != nil {
			p.Description = emptyToNil(req.Description)
		}
		return nil
	})
	if err != nil {
		return projectKind.nameTaken(err, req.Name)
	}
	h.ok(c, http.StatusOK, p)
	return nil
}

func (h *projects) delete(c *gin.Context) error {
	id, err := projectKind.pathID(c)
	if err != nil {
		return err
	}
	err = h.store.DeleteProject(projectKind.audited(c, "delete", id), tenantOf(c), id)
	if notEmpty, ok := errors.AsType[*store.ProjectNotEmptyError](err); ok {
		servers := "MCP servers"
		if notEmpty.Servers == 1 {
			servers = "MCP server"
		}
		return conflict("project %s still has %d %s; delete them, or move them to another project with PATCH %s/{id} and a new projectId, then delete the project",
			id, notEmpty.Servers, servers, serversPath)
	}
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, contract.SuccessBody{Success: true})
	return nil
}
