package httpapi

import (
	"errors"
	"fmt"
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
	g.GET("", h.list)
	g.POST("", h.create)
	g.GET("/:id", h.get)
	g.PATCH("/:id", h.update)
	g.DELETE("/:id", h.delete)
}

func toProject(p store.Project) contract.Project {
	return contract.Project{
		ID:          p.ID,
		Name:        p.Name,
		Description: p.Description,
		CreatedAt:   contract.NewTime(p.CreatedAt),
		UpdatedAt:   contract.NewTime(p.UpdatedAt),
	}
}

func (h *projects) get(c *gin.Context) {
	id, err := projectFamily.pathID(c)
	if err != nil {
		projectFamily.fail(c, h.log, "get project", err)
		return
	}
	p, err := h.store.GetProject(c.Request.Context(), tenantOf(c), id)
	if err != nil {
		projectFamily.fail(c, h.log, "get project", err)
		return
	}
	c.JSON(http.StatusOK, contract.ProjectEnvelope{Success: true, Project: toProject(p)})
}

func (h *projects) list(c *gin.Context) {
	p := store.ListProjectsParams{TenantID: tenantOf(c)}
	var err error
	if p.Limit, p.After, err = projectFamily.page(c); err != nil {
		projectFamily.fail(c, h.log, "list projects", err)
		return
	}
	if v := c.Query("name"); v != "" {
		p.Name = &v
	}
	rows, next, err := h.store.ListProjects(c.Request.Context(), p)
	if err != nil {
		projectFamily.fail(c, h.log, "list projects", err)
		return
	}
	out := contract.ProjectListEnvelope{Success: true, Projects: make([]contract.Project, 0, len(rows)), NextCursor: nextCursor(next)}
	for _, row := range rows {
		out.Projects = append(out.Projects, toProject(row))
	}
	c.JSON(http.StatusOK, out)
}

func (h *projects) create(c *gin.Context) {
	var req contract.CreateProjectRequest
	if err := decodeObject(c.Request, &req); err != nil {
		projectFamily.fail(c, h.log, "create project", err)
		return
	}
	if err := validateProject(&req.Name, req.Description); err != nil {
		projectFamily.fail(c, h.log, "create project", err)
		return
	}
	p := store.Project{ID: store.NewProjectID(), TenantID: tenantOf(c), Name: req.Name, Description: emptyToNil(req.Description)}
	if err := h.store.CreateProject(c.Request.Context(), &p); err != nil {
		if errors.Is(err, store.ErrNameTaken) {
			err = projectNameTaken(req.Name)
		}
		projectFamily.fail(c, h.log, "create project", err)
		return
	}
	c.Header("Location", projectsPath+"/"+p.ID)
	c.JSON(http.StatusCreated, contract.ProjectEnvelope{Success: true, Project: toProject(p)})
}

func validateProject(name, description *string) error {
	if name != nil {
		if err := contract.ValidateName(*name); err != nil {
			return badRequest("name %v", err)
		}
	}
	return validateDescription(description)
}

func (h *projects) update(c *gin.Context) {
	id, err := projectFamily.pathID(c)
	if err != nil {
		projectFamily.fail(c, h.log, "update project", err)
		return
	}
	var req contract.UpdateProjectRequest
	if err := decodeObject(c.Request, &req); err != nil {
		projectFamily.fail(c, h.log, "update project", err)
		return
	}
	if err := validateProject(req.Name, req.Description); err != nil {
		projectFamily.fail(c, h.log, "update project", err)
		return
	}
	p, err := h.store.UpdateProject(c.Request.Context(), tenantOf(c), id, func(p *store.Project) error {
		if req.Name != nil {
			p.Name = *req.Name
		}
		if req.Description != nil {
			p.Description = emptyToNil(req.Description)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, store.ErrNameTaken) && req.Name != nil {
			err = projectNameTaken(*req.Name)
		}
		projectFamily.fail(c, h.log, "update project", err)
		return
	}
	c.JSON(http.StatusOK, contract.ProjectEnvelope{Success: true, Project: toProject(p)})
}

func (h *projects) delete(c *gin.Context) {
	id, err := projectFamily.pathID(c)
	if err != nil {
		projectFamily.fail(c, h.log, "delete project", err)
		return
	}
	err = h.store.DeleteProject(c.Request.Context(), tenantOf(c), id)
	if notEmpty, ok := errors.AsType[*store.ProjectNotEmptyError](err); ok {
		servers := "MCP servers"
		if notEmpty.Servers == 1 {
			servers = "MCP server"
		}
		err = &apiError{status: http.StatusConflict, msg: fmt.Sprintf(
			"project %s still has %d %s; delete them, or move them to another project with PATCH %s/{id} and a new projectId, then delete the project",
			id, notEmpty.Servers, servers, serversPath)}
	}
	if err != nil {
		projectFamily.fail(c, h.log, "delete project", err)
		return
	}
	c.JSON(http.StatusOK, contract.SuccessBody{Success: true})
}

func projectNameTaken(name string) error {
	return &apiError{status: http.StatusConflict, msg: fmt.Sprintf("a project named %q already exists", name)}
}
