package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// ServerChecker probes MCP servers and stores the results (health.ServerChecker).
type ServerChecker interface {
	// CheckServer probes the server now and returns the stored result.
	CheckServer(ctx context.Context, tenantID uuid.UUID, id string) (store.Server, error)
	// CheckServerInBackground starts a probe of a new or changed server and returns at once.
	CheckServerInBackground(tenantID uuid.UUID, id string)
}

// stdioEnv is the operator's switch for stdio servers, named in messages.
const stdioEnv = "MCP_API_STDIO_COMMANDS"

// servers serves /api/mcp/servers.
type servers struct {
	store    *store.Store
	keyring  *secrets.Keyring
	log      *slog.Logger
	checker  ServerChecker // nil: no connect route, no background probes
	commands []string      // the stdio allowlist; empty disables stdio
}

func (h *servers) register(g *gin.RouterGroup) {
	g.GET("", h.list)
	g.POST("", h.create)
	g.GET("/:id", h.get)
	g.PATCH("/:id", h.update)
	g.DELETE("/:id", h.delete)
	g.POST("/:id/disconnect", h.disconnect)
	if h.checker != nil {
		g.POST("/:id/connect", h.connect)
	}
}

// toServer is the one place a stored row becomes the wire object; the
// sealed token stays behind.
func toServer(s store.Server) contract.Server {
	out := contract.Server{
		ID:              s.ID,
		ProjectID:       s.ProjectID,
		Name:            s.Name,
		Description:     s.Description,
		URL:             s.URL,
		TransportType:   contract.TransportType(s.TransportType),
		ConnectionType:  contract.ConnectionType(s.ConnectionType),
		Command:         s.Command,
		Status:          contract.ServerStatus(s.Status),
		LastError:       s.LastError,
		LastConnectedAt: contract.TimePtr(s.LastConnectedAt),
		CreatedAt:       contract.NewTime(s.CreatedAt),
		UpdatedAt:       contract.NewTime(s.UpdatedAt),
	}
	if s.TransportType == string(contract.TransportStdio) {
		// a stdio server always has a list, if an empty one; others have null
		out.Args = append([]string{}, s.Args...)
	}
	if s.Capabilities != nil {
		out.Capabilities = &contract.Capabilities{
			Tools:     s.Capabilities.Tools,
			Resources: s.Capabilities.Resources,
			Prompts:   s.Capabilities.Prompts,
		}
	}
	if s.ServerName != nil {
		impl := contract.Implementation{Name: *s.ServerName}
		if s.ServerVersion != nil {
			impl.Version = *s.ServerVersion
		}
		out.ServerImplementation = &impl
	}
	return out
}

func (h *servers) ok(c *gin.Context, status int, s store.Server) {
	c.JSON(status, contract.ServerEnvelope{Success: true, Server: toServer(s)})
}

func (h *servers) get(c *gin.Context) {
	id, err := serverFamily.pathID(c)
	if err != nil {
		serverFamily.fail(c, h.log, "get MCP server", err)
		return
	}
	s, err := h.store.GetServer(c.Request.Context(), tenantOf(c), id)
	if err != nil {
		serverFamily.fail(c, h.log, "get MCP server", err)
		return
	}
	h.ok(c, http.StatusOK, s)
}

func (h *servers) list(c *gin.Context) {
	p := store.ListServersParams{TenantID: tenantOf(c)}
	var err error
	if p.Limit, p.After, err = serverFamily.page(c); err != nil {
		serverFamily.fail(c, h.log, "list MCP servers", err)
		return
	}
	if v := c.Query("projectId"); v != "" {
		if !contract.ValidProjectID(v) {
			serverFamily.fail(c, h.log, "list MCP servers", badRequest("projectId must be a project id (%q followed by letters and digits), got %q", contract.ProjectIDPrefix, v))
			return
		}
		p.ProjectID = &v
	}
	if v := c.Query("status"); v != "" {
		if !contract.ServerStatus(v).Valid() {
			serverFamily.fail(c, h.log, "list MCP servers", badRequest("status must be one of %s, got %q", quoteAll(contract.ServerStatuses), v))
			return
		}
		p.Status = &v
	}
	if v := c.Query("name"); v != "" {
		p.Name = &v
	}
	rows, next, err := h.store.ListServers(c.Request.Context(), p)
	if err != nil {
		serverFamily.fail(c, h.log, "list MCP servers", err)
		return
	}
	out := contract.ServerListEnvelope{Success: true, Servers: make([]contract.Server, 0, len(rows)), NextCursor: nextCursor(next)}
	for _, row := range rows {
		out.Servers = append(out.Servers, toServer(row))
	}
	c.JSON(http.StatusOK, out)
}

func (h *servers) create(c *gin.Context) {
	var req contract.CreateServerRequest
	if err := decodeObject(c.Request, &req); err != nil {
		serverFamily.fail(c, h.log, "create MCP server", err)
		return
	}
	if err := h.validateCreate(&req); err != nil {
		serverFamily.fail(c, h.log, "create MCP server", err)
		return
	}
	s := store.Server{
		ID:             store.NewServerID(),
		TenantID:       tenantOf(c),
		ProjectID:      req.ProjectID,
		Name:           req.Name,
		Description:    emptyToNil(req.Description),
		URL:            req.URL,
		TransportType:  string(req.TransportType),
		ConnectionType: string(req.ConnectionType),
		Command:        req.Command,
	}
	if req.TransportType == contract.TransportStdio {
		s.Args = append([]string{}, req.Args...)
	}
	if req.BearerToken != nil {
		if err := h.seal(&s, *req.BearerToken); err != nil {
			serverFamily.fail(c, h.log, "create MCP server", err)
			return
		}
	}
	if err := h.store.CreateServer(c.Request.Context(), &s); err != nil {
		serverFamily.fail(c, h.log, "create MCP server", h.storeError(err, req.ProjectID, req.Name))
		return
	}
	if h.checker != nil {
		h.checker.CheckServerInBackground(s.TenantID, s.ID)
	}
	c.Header("Location", serversPath+"/"+s.ID)
	h.ok(c, http.StatusCreated, s)
}

// validateCreate fills in the defaults and checks the request: each field
// on its own, then the fields the transport needs and forbids.
func (h *servers) validateCreate(req *contract.CreateServerRequest) error {
	if req.TransportType == "" {
		req.TransportType = contract.TransportHTTP
	}
	if req.ConnectionType == "" {
		req.ConnectionType = contract.ConnectionDirect
	}
	if req.BearerToken != nil && *req.BearerToken == "" {
		return badRequest("bearerToken must not be empty; omit it for a server that needs none")
	}
	if req.ProjectID == "" {
		return badRequest("projectId is required: the id of one of your projects (%s...); create one with POST %s", contract.ProjectIDPrefix, projectsPath)
	}
	if !req.TransportType.Valid() {
		return badRequest("transportType must be one of %s, got %q", quoteAll(contract.TransportTypes), req.TransportType)
	}
	// The transport's own rules come before the command allowlist, so a
	// command sent with an http server is reported as that, not as stdio
	// being disabled.
	if err := h.transportRules(req); err != nil {
		return err
	}
	var args *[]string
	if req.Args != nil {
		args = &req.Args
	}
	return h.validateFields(&req.ProjectID, &req.Name, req.Description, req.URL, &req.TransportType, &req.ConnectionType, req.Command, args, req.BearerToken)
}

// transportRules checks the fields a create request's transport needs and forbids.
func (h *servers) transportRules(req *contract.CreateServerRequest) error {
	switch req.TransportType {
	case contract.TransportStdio:
		switch {
		case len(h.commands) == 0:
			return errStdioDisabled
		case req.URL != nil:
			return errURLWithStdio
		case req.BearerToken != nil:
			return errTokenWithStdio
		case req.Command == nil:
			return badRequest(`command is required when transportType is "stdio": the program to run, such as %q`, h.exampleCommand())
		}
	default:
		switch {
		case req.URL == nil:
			return badRequest("url is required when transportType is %q: the MCP endpoint, such as https://mcp.example.com/mcp", req.TransportType)
		case req.Command != nil:
			return commandWithoutStdio("command", req.TransportType)
		case req.Args != nil:
			return commandWithoutStdio("args", req.TransportType)
		}
	}
	return nil
}

var (
	errURLWithStdio   = badRequest(`url must not be set when transportType is "stdio"; a stdio server is started from command and args`)
	errTokenWithStdio = badRequest(`bearerToken must not be set when transportType is "stdio"; it is only sent to http and sse servers`)
)

func commandWithoutStdio(field string, t contract.TransportType) error {
	return badRequest(`%s must not be set when transportType is %q; command and args are only for transportType "stdio"`, field, t)
}

// validateFields checks each field that is present (non-nil) on its own.
// An empty bearerToken passes: in a PATCH it removes the token.
func (h *servers) validateFields(projectID, name, description, url *string, transport *contract.TransportType,
	connection *contract.ConnectionType, command *string, args *[]string, token *string) error {
	if projectID != nil && !contract.ValidProjectID(*projectID) {
		return badRequest("projectId must be a project id (%q followed by letters and digits), got %q", contract.ProjectIDPrefix, *projectID)
	}
	if name != nil {
		if err := contract.ValidateName(*name); err != nil {
			return badRequest("name %v", err)
		}
	}
	if err := validateDescription(description); err != nil {
		return err
	}
	if transport != nil {
		if !transport.Valid() {
			return badRequest("transportType must be one of %s, got %q", quoteAll(contract.TransportTypes), *transport)
		}
		if *transport == contract.TransportStdio && len(h.commands) == 0 {
			return errStdioDisabled
		}
	}
	if connection != nil && !connection.Valid() {
		return badRequest("connectionType must be one of %s, got %q", quoteAll(contract.ConnectionTypes), *connection)
	}
	if url != nil {
		if err := contract.ValidateServerURL(*url); err != nil {
			return badRequest("url %v", strings.Replace(err.Error(), "use authType bearer and bearerToken", "use bearerToken", 1))
		}
	}
	if command != nil {
		if err := h.allowedCommand(*command); err != nil {
			return err
		}
	}
	if args != nil {
		if err := contract.ValidateArgs(*args); err != nil {
			return badRequest("args %v", err)
		}
	}
	if token != nil && *token != "" {
		if err := contract.ValidateToken(*token); err != nil {
			return badRequest("bearerToken %v", err)
		}
	}
	return nil
}

var errStdioDisabled = badRequest(`transportType "stdio" is disabled on this API server: the operator enables it by listing the allowed programs, comma-separated, in %s`, stdioEnv)

// allowedCommand checks a stdio command: a bare program name (never a path
// or a shell line) on the operator's allowlist.
func (h *servers) allowedCommand(cmd string) error {
	if err := contract.ValidateCommand(cmd); err != nil {
		return badRequest("command %v", err)
	}
	if len(h.commands) == 0 {
		return errStdioDisabled
	}
	if !slices.Contains(h.commands, cmd) {
		return badRequest("command %q is not allowed on this API server; allowed programs (%s): %s", cmd, stdioEnv, strings.Join(h.commands, ", "))
	}
	return nil
}

func (h *servers) exampleCommand() string {
	if len(h.commands) > 0 {
		return h.commands[0]
	}
	return "npx"
}

// storeError turns the store's refusals of a write into messages that name
// the field.
func (h *servers) storeError(err error, projectID, name string) error {
	switch {
	case errors.Is(err, store.ErrProjectNotFound):
		return badRequest("projectId %q is not one of your projects: use the id of a project from GET %s, or create one with POST %s", projectID, projectsPath, projectsPath)
	case errors.Is(err, store.ErrNameTaken):
		return &apiError{status: http.StatusConflict, msg: fmt.Sprintf("an MCP server named %q already exists in project %s", name, projectID)}
	}
	return err
}

func (h *servers) update(c *gin.Context) {
	id, err := serverFamily.pathID(c)
	if err != nil {
		serverFamily.fail(c, h.log, "update MCP server", err)
		return
	}
	var req contract.UpdateServerRequest
	if err := decodeObject(c.Request, &req); err != nil {
		serverFamily.fail(c, h.log, "update MCP server", err)
		return
	}
	// A transport the record already has stays allowed when stdio is later
	// disabled: only a change to stdio or a new command is checked against it.
	if err := h.validateFields(req.ProjectID, req.Name, req.Description, req.URL, nil, req.ConnectionType, req.Command, req.Args, req.BearerToken); err != nil {
		serverFamily.fail(c, h.log, "update MCP server", err)
		return
	}
	if req.TransportType != nil && !req.TransportType.Valid() {
		serverFamily.fail(c, h.log, "update MCP server", badRequest("transportType must be one of %s, got %q", quoteAll(contract.TransportTypes), *req.TransportType))
		return
	}
	var reprobe bool
	var final store.Server
	s, err := h.store.UpdateServer(c.Request.Context(), tenantOf(c), id, func(cur *store.Server) error {
		var err error
		reprobe, err = h.applyUpdate(cur, &req)
		final = *cur
		return err
	})
	if err != nil {
		serverFamily.fail(c, h.log, "update MCP server", h.storeError(err, final.ProjectID, final.Name))
		return
	}
	if reprobe && h.checker != nil {
		h.checker.CheckServerInBackground(s.TenantID, s.ID)
	}
	h.ok(c, http.StatusOK, s)
}

// applyUpdate applies a validated PATCH to the current row and reports
// whether the server must be probed again. Changing how the API reaches the
// server voids what the last probe learnt; a disconnected server stays
// disconnected (until the next connect), any other goes back to connecting.
func (h *servers) applyUpdate(cur *store.Server, req *contract.UpdateServerRequest) (reprobe bool, err error) {
	if req.ProjectID != nil {
		cur.ProjectID = *req.ProjectID
	}
	if req.Name != nil {
		cur.Name = *req.Name
	}
	if req.Description != nil {
		cur.Description = emptyToNil(req.Description)
	}
	if req.ConnectionType != nil {
		cur.ConnectionType = string(*req.ConnectionType)
	}

	from := contract.TransportType(cur.TransportType)
	to := from
	if req.TransportType != nil {
		to = *req.TransportType
	}
	changed := to != from
	if to == contract.TransportStdio {
		switch {
		case from != contract.TransportStdio && len(h.commands) == 0:
			return false, errStdioDisabled
		case req.URL != nil:
			return false, errURLWithStdio
		case req.BearerToken != nil && *req.BearerToken != "":
			return false, errTokenWithStdio
		case from != contract.TransportStdio && req.Command == nil:
			return false, badRequest(`command is required when changing transportType to "stdio": the program to run, such as %q`, h.exampleCommand())
		}
		if from != contract.TransportStdio {
			cur.URL = nil
			cur.TokenCiphertext, cur.TokenKeyID = nil, nil
			cur.Args = []string{}
		}
		if req.Command != nil && (cur.Command == nil || *cur.Command != *req.Command) {
			cur.Command = req.Command
			changed = true
		}
		if req.Args != nil && !slices.Equal(cur.Args, *req.Args) {
			cur.Args = append([]string{}, *req.Args...)
			changed = true
		}
	} else {
		switch {
		case req.Command != nil:
			return false, commandWithoutStdio("command", to)
		case req.Args != nil:
			return false, commandWithoutStdio("args", to)
		case from == contract.TransportStdio && req.URL == nil:
			return false, badRequest("url is required when changing transportType to %q: the MCP endpoint, such as https://mcp.example.com/mcp", to)
		}
		cur.Command, cur.Args = nil, nil
		if req.URL != nil && (cur.URL == nil || *cur.URL != *req.URL) {
			cur.URL = req.URL
			changed = true
		}
		if req.BearerToken != nil {
			switch {
			case *req.BearerToken == "":
				if cur.TokenCiphertext != nil {
					cur.TokenCiphertext, cur.TokenKeyID = nil, nil
					changed = true
				}
			case !h.sameToken(cur, *req.BearerToken):
				if err := h.seal(cur, *req.BearerToken); err != nil {
					return false, err
				}
				changed = true
			}
		}
	}
	cur.TransportType = string(to)

	if !changed {
		return false, nil
	}
	cur.Capabilities = nil
	cur.ServerName, cur.ServerVersion = nil, nil
	cur.LastError = nil
	cur.LastConnectedAt = nil
	if cur.Status == string(contract.ServerDisconnected) {
		return false, nil
	}
	cur.Status = string(contract.ServerConnecting)
	cur.DueNow = true
	return true, nil
}

// sameToken reports whether token is the one already stored, so a client
// that resends an unchanged token (as declarative tools do) does not reset
// the server's state.
func (h *servers) sameToken(cur *store.Server, token string) bool {
	if cur.TokenCiphertext == nil || cur.TokenKeyID == nil {
		return false
	}
	stored, err := h.keyring.Open(cur.TokenCiphertext, *cur.TokenKeyID, store.ServerTokenAAD(cur.ID))
	if err != nil {
		return false // a token the current keys cannot open is replaced, not compared
	}
	return subtle.ConstantTimeCompare(stored, []byte(token)) == 1
}

func (h *servers) seal(s *store.Server, token string) error {
	ct, keyID, err := h.keyring.Seal([]byte(token), store.ServerTokenAAD(s.ID))
	if err != nil {
		return fmt.Errorf("seal bearer token: %w", err)
	}
	s.TokenCiphertext, s.TokenKeyID = ct, &keyID
	return nil
}

func (h *servers) delete(c *gin.Context) {
	id, err := serverFamily.pathID(c)
	if err != nil {
		serverFamily.fail(c, h.log, "delete MCP server", err)
		return
	}
	if err := h.store.DeleteServer(c.Request.Context(), tenantOf(c), id); err != nil {
		serverFamily.fail(c, h.log, "delete MCP server", err)
		return
	}
	c.JSON(http.StatusOK, contract.SuccessBody{Success: true})
}

func (h *servers) connect(c *gin.Context) {
	id, err := serverFamily.pathID(c)
	if err != nil {
		serverFamily.fail(c, h.log, "connect MCP server", err)
		return
	}
	s, err := h.checker.CheckServer(c.Request.Context(), tenantOf(c), id)
	if err != nil {
		serverFamily.fail(c, h.log, "connect MCP server", err)
		return
	}
	h.ok(c, http.StatusOK, s)
}

// disconnect marks the server disconnected, which the scheduler leaves
// alone until the next connect. What the last probe learnt stays visible.
func (h *servers) disconnect(c *gin.Context) {
	id, err := serverFamily.pathID(c)
	if err != nil {
		serverFamily.fail(c, h.log, "disconnect MCP server", err)
		return
	}
	s, err := h.store.UpdateServer(c.Request.Context(), tenantOf(c), id, func(cur *store.Server) error {
		cur.Status = string(contract.ServerDisconnected)
		cur.LastError = nil
		return nil
	})
	if err != nil {
		serverFamily.fail(c, h.log, "disconnect MCP server", err)
		return
	}
	h.ok(c, http.StatusOK, s)
}
