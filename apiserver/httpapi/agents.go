package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// agentsPath is the collection of agents, whose bodies are plain.
const agentsPath = "/api/agents"

// Bounds on an agent's assignments, so one request cannot make the
// gateway aggregate without end.
const (
	maxAssignments    = 100
	maxAllowedTools   = 1000
	toolNameMaxLength = 128
)

// agents serves /api/agents and the agents' tokens.
type agents struct {
	store     *store.Store
	log       *slog.Logger
	publicURL publicURL
}

func (h *agents) register(g *gin.RouterGroup) {
	e := errorHandler{family: plainFamily, log: h.log, notFound: agentKind.notFound()}
	g.GET("", e.wrap("list agents", onList(listAgentsParams, h.store.ListAgents, h.answerPage)))
	g.POST("", e.wrap("create agent", h.create))
	g.GET("/:id", e.wrap("get agent", onRecord(agentKind, h.store.GetAgent, h.answer)))
	g.PATCH("/:id", e.wrap("update agent", h.update))
	g.DELETE("/:id", e.wrap("delete agent", onDelete(agentKind, h.store.DeleteAgent, noContent)))
	(&agentTokens{store: h.store}).register(g, e, errorHandler{family: plainFamily, log: h.log, notFound: agentTokenKind.notFound()})
}

// answer answers one agent with 200.
func (h *agents) answer(c *gin.Context, a store.Agent) { c.JSON(http.StatusOK, h.toAgent(c, a)) }

// toAgent is the one place a stored row becomes the wire object.
func (h *agents) toAgent(c *gin.Context, a store.Agent) contract.Agent {
	out := contract.Agent{
		ID:           a.ID.String(),
		TenantID:     a.TenantID.String(),
		Name:         a.Name,
		Description:  a.Description,
		Assignments:  make([]contract.Assignment, 0, len(a.Assignments)),
		Instructions: a.Instructions(),
		GatewayURL:   h.publicURL.of(c) + "/mcp/agents/" + a.ID.String(),
		CreatedAt:    contract.NewTime(a.CreatedAt),
		UpdatedAt:    contract.NewTime(a.UpdatedAt),
	}
	for _, as := range a.Assignments {
		w := contract.Assignment{ServerID: as.ServerID, Prefix: as.Prefix, AllowedTools: as.AllowedTools}
		if as.ConnectionID != nil {
			w.ConnectionID = new(as.ConnectionID.String())
		}
		out.Assignments = append(out.Assignments, w)
	}
	return out
}

// listAgentsParams reads the query of GET /api/agents.
func listAgentsParams(c *gin.Context) (p store.ListAgentsParams, err error) {
	p = store.ListAgentsParams{TenantID: tenantOf(c), Name: queried(c, "name")}
	p.Limit, p.After, err = parsePage(c, store.AgentIDs)
	return p, err
}

func (h *agents) answerPage(c *gin.Context, rows []store.Agent, next *store.Cursor) {
	c.JSON(http.StatusOK, pageOf(rows, next, func(a store.Agent) contract.Agent { return h.toAgent(c, a) }))
}

func (h *agents) create(c *gin.Context) error {
	var list []store.Assignment
	req, err := decoded(c, func(req *contract.CreateAgentRequest) error {
		var err error
		if list, err = storedAssignments(req.Assignments); err != nil {
			return err
		}
		return firstError(checkName(req.Name), optional(req.Description, checkDescription))
	})
	if err != nil {
		return err
	}
	a := store.Agent{Name: req.Name, Description: emptyToNil(req.Description), Assignments: list}
	a.ID, a.TenantID = newUUID(), tenantOf(c)
	if err := h.store.CreateAgent(agentKind.audited(c, "create", a.ID), &a); err != nil {
		return agentWriteError(err, &req.Name)
	}
	answerCreated(c, agentsPath+"/"+a.ID.String(), h.toAgent(c, a))
	return nil
}

func (h *agents) update(c *gin.Context) error {
	var list []store.Assignment
	id, req, err := onRecordRequest(c, agentKind, func(req *contract.UpdateAgentRequest) error {
		if err := firstError(optional(req.Name, checkName), optional(req.Description, checkDescription)); err != nil {
			return err
		}
		var err error
		if req.Assignments != nil {
			list, err = storedAssignments(*req.Assignments)
		}
		return err
	})
	if err != nil {
		return err
	}
	a, err := h.store.UpdateAgent(agentKind.audited(c, "update", id), tenantOf(c), id,
		func(cur *store.Agent) error {
			if req.Name != nil {
				cur.Name = *req.Name
			}
			if req.Description != nil {
				cur.Description = emptyToNil(req.Description)
			}
			if req.Assignments != nil {
				cur.Assignments = list
			}
			return nil
		})
	if err != nil {
		return agentWriteError(err, req.Name)
	}
	h.answer(c, a)
	return nil
}

// storedAssignments checks a request's assignments and returns them as
// the store takes them; what needs the stored records (that they exist,
// are the tenant's, are proxied, and the default prefixes) the store checks.
func storedAssignments(list []contract.Assignment) ([]store.Assignment, error) {
	if len(list) > maxAssignments {
		return nil, badRequest("assignments must have at most %d items, got %d", maxAssignments, len(list))
	}
	out := make([]store.Assignment, 0, len(list))
	for i, as := range list {
		field := func(name string) string { return fmt.Sprintf("assignments[%d].%s", i, name) }
		var row store.Assignment
		switch {
		case (as.ConnectionID == nil) == (as.ServerID == nil):
			return nil, badRequest("assignments[%d]: set exactly one of connectionId and serverId", i)
		case as.ConnectionID != nil:
			id, ok := parseUUID(*as.ConnectionID)
			if !ok {
				return nil, badRequest("%s must be an MCP connection id (a UUID), got %q", field("connectionId"), clipped(*as.ConnectionID))
			}
			row.ConnectionID = &id
		default:
			if !contract.ValidServerID(*as.ServerID) {
				return nil, badRequest("%s must be an MCP server id (%s), got %q", field("serverId"), prefixedShape(contract.ServerIDPrefix), clipped(*as.ServerID))
			}
			row.ServerID = new(*as.ServerID)
		}
		if as.Prefix != "" {
			if err := contract.ValidatePrefix(as.Prefix); err != nil {
				return nil, badRequest("%s %v", field("prefix"), err)
			}
			row.Prefix = as.Prefix
		}
		if as.AllowedTools != nil {
			if err := checkAllowedTools(field("allowedTools"), as.AllowedTools); err != nil {
				return nil, err
			}
			row.AllowedTools = slices.Clone(as.AllowedTools)
		}
		out = append(out, row)
	}
	return out, nil
}

// checkAllowedTools checks a list of upstream tool names.
func checkAllowedTools(field string, tools []string) error {
	if len(tools) > maxAllowedTools {
		return badRequest("%s must have at most %d items, got %d", field, maxAllowedTools, len(tools))
	}
	seen := make(map[string]bool, len(tools))
	for j, tool := range tools {
		if tool == "" || len(tool) > toolNameMaxLength || !cleanText(tool) {
			return badRequest("%s[%d] must be a tool name of 1 to %d bytes of valid UTF-8, got %q", field, j, toolNameMaxLength, clipped(tool))
		}
		if seen[tool] {
			return badRequest("%s[%d]: tool %q is listed twice", field, j, tool)
		}
		seen[tool] = true
	}
	return nil
}

// agentWriteError turns the store's refusals of an agent write into
// messages that name the field; name is the name the request sent, if any.
// A record of another tenant is reported exactly as one that does not
// exist, so the answer reveals nothing about other tenants.
func agentWriteError(err error, name *string) error {
	var ae *store.AssignmentError
	if !errors.As(err, &ae) {
		return agentKind.nameTaken(err, name)
	}
	field := fmt.Sprintf("assignments[%d].%s", ae.Index, ae.Field)
	switch ae.Problem {
	case store.AssignmentNotFound:
		if ae.Field == "connectionId" {
			return badRequest("%s: %s is not one of your MCP connections (GET %s lists them)", field, ae.Value, connectionsPath)
		}
		return badRequest("%s: %s is not one of your MCP servers (GET %s lists them)", field, ae.Value, serversPath)
	case store.AssignmentNotProxy:
		return badRequest(`%s: %s is not a proxy server of yours: only servers with connectionType "proxy" can be assigned; set it with PATCH %s/%s`,
			field, ae.Value, serversPath, ae.Value)
	default:
		return conflict("%s %q is already used by an earlier assignment of this agent: prefixes must be unique within an agent; set another prefix", field, ae.Value)
	}
}
