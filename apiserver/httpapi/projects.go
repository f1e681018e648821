package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

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
	g.GET("", e.wrap("list projects", onList(listProjectsParams, h.store.ListProjects, answerProjects)))
	g.POST("", e.wrap("create project", h.create))
	g.GET("/:id", e.wrap("get project", onRecord(projectKind, h.store.GetProject, h.answer)))
	g.PATCH("/:id", e.wrap("update project", h.update))
	g.DELETE("/:id", e.wrap("delete project", onDelete(projectKind, h.delete, answerDeleted)))
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
func (h *projects) answer(c *gin.Context, p store.Project) { c.JSON(http.StatusOK, h.envelope(p)) }

func (h *projects) envelope(p store.Project) contract.ProjectEnvelope {
	return contract.ProjectEnvelope{Success: true, Project: toProject(p)}
}

// listProjectsParams reads the query of GET /api/projects.
func listProjectsParams(c *gin.Context) (p store.ListProjectsParams, err error) {
	p = store.ListProjectsParams{TenantID: tenantOf(c), Name: queried(c, "name")}
	p.Limit, p.After, err = parsePage(c, store.ProjectIDs)
	return p, err
}

func answerProjects(c *gin.Context, rows []store.Project, next *store.Cursor) {
	page := pageOf(rows, next, toProject)
	c.JSON(http.StatusOK, contract.ProjectListEnvelope{Success: true, Projects: page.Data, NextCursor: page.NextCursor})
}

func (h *projects) create(c *gin.Context) error {
	req, err := decoded(c, validateCreateProject)
	if err != nil {
		return err
	}
	p := store.Project{Key: store.Key[string]{ID: store.NewProjectID(), TenantID: tenantOf(c)}, Name: req.Name, Description: emptyToNil(req.Description)}
	if err := h.store.CreateProject(projectKind.audited(c, "create", p.ID), &p); err != nil {
		return projectKind.nameTaken(err, &req.Name)
	}
	answerCreated(c, projectsPath+"/"+p.ID, h.envelope(p))
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
	id, req, err := onRecordRequest(c, projectKind, validateUpdateProject)
	if err != nil {
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
	h.answer(c, p)
	return nil
}

// delete deletes a project that has no MCP servers.
func (h *projects) delete(ctx context.Context, tenantID uuid.UUID, id string) error {
	err := h.store.DeleteProject(ctx, tenantID, id)
	if notEmpty, ok := errors.AsType[*store.ProjectNotEmptyError](err); ok {
		servers := "MCP servers"
		if notEmpty.Servers == 1 {
			servers = "MCP server"
		}
		return conflict("project %s still has %d %s; delete them, or move them to another project with PATCH %s/{id} and a new projectId, then delete the project",
			id, notEmpty.Servers, servers, serversPath)
	}
	return err
}

// answerDeleted answers a deletion in the envelope family.
func answerDeleted(c *gin.Context) { c.JSON(http.StatusOK, contract.SuccessBody{Success: true}) }
