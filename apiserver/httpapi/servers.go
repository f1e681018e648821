package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/health"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// ServerChecker probes MCP servers and stores the results (health.ServerChecker).
type ServerChecker interface {
	// CheckServer probes the server now and returns the stored result.
	CheckServer(ctx context.Context, tenantID uuid.UUID, id string) (store.Server, error)
	// CheckServerInBackground starts a probe of a new or changed server and returns at once.
	CheckServerInBackground(ctx context.Context, tenantID uuid.UUID, id string)
}

// servers serves /api/mcp/servers.
type servers struct {
	store    *store.Store
	secrets  secrets.Store
	log      *slog.Logger
	checker  ServerChecker // nil: no connect route, no background probes
	commands []string      // the stdio allowlist; empty disables stdio
	// publicURL is the base of the servers' gateway URLs.
	publicURL publicURL
	// allowLoopbackHTTP lets an oauth2.tokenUrl be http on a loopback
	// host: the outbound policy allows private targets.
	allowLoopbackHTTP bool
}

func (h *servers) register(g *gin.RouterGroup) {
	e := errorHandler{family: envelopeFamily, log: h.log, notFound: serverKind.notFound()}
	g.GET("", e.wrap("list MCP servers", onList(listServersParams, h.store.ListServers, h.answerPage)))
	g.POST("", e.wrap("create MCP server", h.create))
	g.GET("/:id", e.wrap("get MCP server", onRecord(serverKind.kind, h.store.GetServer, h.answer)))
	g.PATCH("/:id", e.wrap("update MCP server", h.update))
	g.DELETE("/:id", e.wrap("delete MCP server", onDelete(serverKind.kind, h.delete, answerDeleted)))
	g.POST("/:id/disconnect", e.wrap("disconnect MCP server", h.disconnect))
	if h.checker != nil {
		g.POST("/:id/connect", e.wrap("connect MCP server", onRecord(serverKind.kind, h.checker.CheckServer, h.answer)))
	}
	history[string]{kind: serverKind, store: h.store, bodies: envelopeHistory}.register(g, e)
}

// toServer is the one place a stored row becomes the wire object; the
// sealed token stays behind.
func (h *servers) toServer(c *gin.Context, s store.Server) contract.Server {
	out := contract.Server{
		ID:                   s.ID,
		ProjectID:            s.ProjectID,
		Name:                 s.Name,
		Description:          s.Description,
		URL:                  s.URL,
		TransportType:        contract.TransportType(s.TransportType),
		ConnectionType:       contract.ConnectionType(s.ConnectionType),
		AuthType:             contract.AuthType(s.AuthType),
		Command:              s.Command,
		Status:               contract.ServerStatus(s.Status),
		Capabilities:         toCapabilities(s.Capabilities),
		ServerImplementation: toImplementation(s.ServerName, s.ServerVersion),
		LastError:            s.LastError,
		LastConnectedAt:      contract.TimePtr(s.LastConnectedAt),
		GatewayURL:           h.publicURL.serverGatewayURL(c, s.ID, s.ConnectionType),
		UpstreamAuth:         toUpstreamAuth(s.UpstreamAuth),
		CreatedAt:            contract.NewTime(s.CreatedAt),
		CheckState:           toCheckState(s.CheckState),
		UpdatedAt:            contract.NewTime(s.UpdatedAt),
	}
	if s.TransportType == string(contract.TransportStdio) {
		// a stdio server always has a list, if an empty one; others have null
		out.Args = append([]string{}, s.Args...)
	}
	return out
}

// storedArgs is a copy of args as the store keeps them: never nil, so a
// stdio server without arguments has an empty list.
func storedArgs(args []string) []string {
	return append([]string{}, args...)
}

// token is the server's bearer token.
func (h *servers) token(v *vault, s *store.Server) secretField {
	return secretField{vault: v, what: "bearer token", ciphertext: &s.TokenCiphertext, keyID: &s.TokenKeyID,
		fingerprint: &s.TokenFingerprint, aad: store.ServerTokenAAD(s.ID)}
}

// upstream is the server's upstream authentication beyond its token.
func (h *servers) upstream(v *vault, s *store.Server) upstreamAuth {
	return upstreamAuth{vault: v, row: &s.UpstreamAuth, aad: store.ServerAuthAAD(s.ID)}
}

// vault is the secret store for one request's writes.
func (h *servers) vault(c *gin.Context) *vault {
	return newVault(c.Request.Context(), h.secrets, h.store, h.log)
}

// delete deletes the server and queues its secrets' cleanup.
func (h *servers) delete(ctx context.Context, tenantID uuid.UUID, id string) error {
	if err := h.store.DeleteServer(withExternal(ctx), tenantID, id); err != nil {
		return err
	}
	secrets.CrashPoint(secrets.CrashAfterRow)
	return nil
}

// answer answers one server with 200.
func (h *servers) answer(c *gin.Context, s store.Server) { c.JSON(http.StatusOK, h.envelope(c, s)) }

func (h *servers) envelope(c *gin.Context, s store.Server) contract.ServerEnvelope {
	return contract.ServerEnvelope{Success: true, Server: h.toServer(c, s)}
}

// listServersParams reads the query of GET /api/mcp/servers.
func listServersParams(c *gin.Context) (p store.ListServersParams, err error) {
	p = store.ListServersParams{TenantID: tenantOf(c), ProjectID: queried(c, "projectId"), Name: queried(c, "name")}
	if p.Limit, p.After, err = parsePage(c, store.ServerIDs); err != nil {
		return p, err
	}
	if p.ProjectID != nil {
		if err := checkProjectID(*p.ProjectID); err != nil {
			return p, err
		}
	}
	p.Status, err = queriedOneOf(c, "status", contract.ServerStatuses)
	return p, err
}

func (h *servers) answerPage(c *gin.Context, rows []store.Server, next *store.Cursor) {
	page := pageOf(rows, next, func(s store.Server) contract.Server { return h.toServer(c, s) })
	c.JSON(http.StatusOK, contract.ServerListEnvelope{Success: true, Servers: page.Data, NextCursor: page.NextCursor})
}

func (h *servers) create(c *gin.Context) error {
	req, err := decoded(c, h.validateCreate)
	if err != nil {
		return err
	}
	s := store.Server{
		Key:            store.Key[string]{ID: store.NewServerID(), TenantID: tenantOf(c)},
		ProjectID:      req.ProjectID,
		Name:           req.Name,
		Description:    emptyToNil(req.Description),
		URL:            req.URL,
		TransportType:  string(req.TransportType),
		ConnectionType: string(req.ConnectionType),
		AuthType:       string(req.AuthType),
		Command:        req.Command,
	}
	if req.TransportType == contract.TransportStdio {
		s.Args = storedArgs(req.Args)
	}
	v := h.vault(c)
	if req.BearerToken != nil {
		if err := h.token(v, &s).set(*req.BearerToken); err != nil {
			return v.done(err)
		}
	}
	if _, err := h.upstream(v, &s).apply(req.UpstreamAuthRequest, contract.AuthNone, req.AuthType); err != nil {
		return v.done(err)
	}
	if err := v.done(h.store.CreateServer(v.bind(serverKind.audited(c, "create", s.ID)), &s)); err != nil {
		return serverWriteError(err, req.ProjectID, req.Name)
	}
	secrets.CrashPoint(secrets.CrashAfterRow)
	if h.checker != nil {
		h.checker.CheckServerInBackground(c.Request.Context(), s.TenantID, s.ID)
	}
	answerCreated(c, serversPath+"/"+s.ID, h.envelope(c, s))
	return nil
}

// validateCreate fills in the defaults and checks the request. The fields
// the transport needs and forbids come before the fields' own checks, and
// those before the command allowlist, so a command sent with an http server
// is reported as that, not as stdio being disabled.
func (h *servers) validateCreate(req *contract.CreateServerRequest) error {
	if req.TransportType == "" {
		req.TransportType = contract.TransportHTTP
	}
	if req.ConnectionType == "" {
		req.ConnectionType = contract.ConnectionDirect
	}
	if req.AuthType == "" {
		req.AuthType = contract.AuthNone
		if req.BearerToken != nil {
			req.AuthType = contract.AuthBearer
		}
	}
	return firstError(
		optional(req.BearerToken, requireNonEmptyToken),
		requireProjectID(req.ProjectID),
		checkTransport(req.TransportType),
		h.transportRules(req),
		checkProjectID(req.ProjectID),
		checkName(req.Name),
		optional(req.Description, checkDescription),
		checkConnectionType(req.ConnectionType),
		optional(req.URL, checkServerURL),
		optional(req.Command, h.checkCommand),
		checkArgs(req.Args),
		optional(req.BearerToken, checkServerToken),
		checkAuthType(req.AuthType),
		requireTokenForBearer(req.AuthType, req.BearerToken),
		forbidTokenWithNone(req.AuthType, req.BearerToken),
		forbidTokenWithOAuth2(req.AuthType, req.BearerToken),
		checkUpstreamAuth(req.UpstreamAuthRequest, req.AuthType, h.allowLoopbackHTTP),
		optional(req.ApprovedToolsHash, refuseApprovalOnCreate),
	)
}

// validateUpdate checks what can be checked without the stored row;
// applyUpdate checks the rest. A transport the record already has stays
// allowed when stdio is later disabled: only a change to stdio or a new
// command is checked against it.
func (h *servers) validateUpdate(req *contract.UpdateServerRequest) error {
	return firstError(
		optional(req.ProjectID, checkProjectID),
		optional(req.Name, checkName),
		optional(req.Description, checkDescription),
		optional(req.ConnectionType, checkConnectionType),
		optional(req.URL, checkServerURL),
		optional(req.Command, h.checkCommand),
		optional(req.Args, checkArgs),
		optional(req.BearerToken, checkServerToken),
		optional(req.TransportType, checkTransport),
		optional(req.AuthType, checkAuthType),
		optional(req.AuthType, func(a contract.AuthType) error { return forbidTokenWithNone(a, nonEmptyToken(req.BearerToken)) }),
		optional(req.AuthType, func(a contract.AuthType) error { return forbidTokenWithOAuth2(a, nonEmptyToken(req.BearerToken)) }),
		checkUpstreamAuth(req.UpstreamAuthRequest, contract.AuthNone, h.allowLoopbackHTTP),
		optional(req.ApprovedToolsHash, checkApprovedHash),
	)
}

// nonEmptyToken is a PATCH's bearerToken when it sets one; "" removes it.
func nonEmptyToken(token *string) *string {
	if token == nil || *token == "" {
		return nil
	}
	return token
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
		case req.AuthType != contract.AuthNone:
			return errAuthWithStdio
		case req.Headers != nil || req.OAuth2 != nil || req.TLS != nil:
			return forbidAuthWith(req.UpstreamAuthRequest, stdioNoCredentials)
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
	// stdioNoCredentials ends the refusal of a credential on a stdio server.
	stdioNoCredentials = `when transportType is "stdio"; credentials are only sent to http and sse servers`
	errAuthWithStdio   = badRequest(`authType must be "none" when transportType is "stdio"; credentials are only sent to http and sse servers`)
	errStdioDisabled   = badRequest(`transportType "stdio" is disabled on this API server: the operator enables it by listing the allowed programs, comma-separated, in %s`, health.StdioCommandsEnv)
)

func commandWithoutStdio(field string, t contract.TransportType) error {
	return badRequest(`%s must not be set when transportType is %q; command and args are only for transportType "stdio"`, field, t)
}

func requireNonEmptyToken(token string) error {
	if token == "" {
		return badRequest("bearerToken must not be empty; omit it for a server that needs none")
	}
	return nil
}

func requireProjectID(id string) error {
	if id == "" {
		return badRequest("projectId is required: the id of one of your projects (%s...); create one with POST %s", contract.ProjectIDPrefix, projectsPath)
	}
	return nil
}

func checkProjectID(id string) error {
	if !contract.ValidProjectID(id) {
		return badRequest("projectId must be a project id (%q followed by letters and digits), got %q", contract.ProjectIDPrefix, id)
	}
	return nil
}

func checkTransport(t contract.TransportType) error {
	if !t.Valid() {
		return badRequest("transportType must be one of %s, got %q", quoteAll(contract.TransportTypes), t)
	}
	return nil
}

func checkConnectionType(t contract.ConnectionType) error {
	if !t.Valid() {
		return badRequest("connectionType must be one of %s, got %q", quoteAll(contract.ConnectionTypes), t)
	}
	return nil
}

func checkServerURL(url string) error {
	if err := contract.ValidateServerURL(url); err != nil {
		return badRequest("url %v", strings.Replace(err.Error(), "use authType bearer and bearerToken", "use bearerToken", 1))
	}
	return nil
}

func checkArgs(args []string) error {
	if err := contract.ValidateArgs(args); err != nil {
		return badRequest("args %v", err)
	}
	return nil
}

// checkServerToken lets an empty token pass: in a PATCH it removes the token.
func checkServerToken(token string) error {
	if token == "" {
		return nil
	}
	return checkToken(token)
}

// checkCommand checks a stdio command: a bare program name (never a path
// or a shell line) on the operator's allowlist.
func (h *servers) checkCommand(cmd string) error {
	if err := contract.ValidateCommand(cmd); err != nil {
		return badRequest("command %v", err)
	}
	if len(h.commands) == 0 {
		return errStdioDisabled
	}
	if !slices.Contains(h.commands, cmd) {
		return badRequest("command %q is not allowed on this API server; allowed programs (%s): %s", cmd, health.StdioCommandsEnv, strings.Join(h.commands, ", "))
	}
	return nil
}

func (h *servers) exampleCommand() string {
	if len(h.commands) > 0 {
		return h.commands[0]
	}
	return "npx"
}

// serverWriteError turns the store's refusals of a write into messages that
// name the field.
func serverWriteError(err error, projectID, name string) error {
	switch {
	case errors.Is(err, store.ErrProjectNotFound):
		return badRequest("projectId %q is not one of your projects: use the id of a project from GET %s, or create one with POST %s", projectID, projectsPath, projectsPath)
	case errors.Is(err, store.ErrNameTaken):
		return conflict("%s named %q already exists in project %s", serverKind.aName, name, projectID)
	}
	return err
}

func (h *servers) update(c *gin.Context) error {
	id, req, err := onRecordRequest(c, serverKind.kind, h.validateUpdate)
	if err != nil {
		return err
	}
	var reprobe bool
	var final store.Server
	tenantID := tenantOf(c)
	v := h.vault(c)
	if err := v.reserve(carriesSecrets(req.UpstreamAuthRequest, req.BearerToken, req.AuthType)); err != nil {
		return v.done(err)
	}
	s, err := h.store.UpdateServer(v.bind(serverKind.audited(c, "update", id)), tenantID, id, func(cur *store.Server) error {
		var err error
		reprobe, err = h.applyUpdate(v, cur, req)
		final = *cur
		if err != nil {
			return err
		}
		approve(req.ApprovedToolsHash, &cur.CheckState)
		return nil
	})
	err = v.done(err)
	if assigned, ok := errors.AsType[*store.ServerAssignedError](err); ok {
		return conflict(`MCP server %s is assigned to %d agents, which reach it through the gateway: remove it from their assignments (PATCH %s/{id}) before setting connectionType "direct"`,
			id, assigned.Agents, agentsPath)
	}
	if err != nil {
		return serverWriteError(serverKind.unknownHash(err, id, req.ApprovedToolsHash), final.ProjectID, final.Name)
	}
	secrets.CrashPoint(secrets.CrashAfterRow)
	if reprobe && h.checker != nil {
		h.checker.CheckServerInBackground(c.Request.Context(), s.TenantID, s.ID)
	}
	h.answer(c, s)
	return nil
}

// applyUpdate applies a validated PATCH to the current row and reports
// whether the server must be probed again. Changing how the API reaches the
// server voids what the last probe learnt; a disconnected server stays
// disconnected (until the next connect), any other goes back to connecting.
func (h *servers) applyUpdate(v *vault, cur *store.Server, req *contract.UpdateServerRequest) (reprobe bool, err error) {
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
	token := h.token(v, cur)
	if to == contract.TransportStdio {
		switch {
		case from != contract.TransportStdio && len(h.commands) == 0:
			return false, errStdioDisabled
		case req.URL != nil:
			return false, errURLWithStdio
		case req.BearerToken != nil && *req.BearerToken != "":
			return false, errTokenWithStdio
		case req.AuthType != nil && *req.AuthType != contract.AuthNone:
			return false, errAuthWithStdio
		case req.Headers != nil || req.OAuth2 != nil || req.TLS != nil:
			return false, forbidAuthWith(req.UpstreamAuthRequest, stdioNoCredentials)
		case from != contract.TransportStdio && req.Command == nil:
			return false, badRequest(`command is required when changing transportType to "stdio": the program to run, such as %q`, h.exampleCommand())
		}
		if from != contract.TransportStdio {
			cur.URL = nil
			token.clear()
			h.upstream(v, cur).clear()
			cur.AuthType = string(contract.AuthNone)
			cur.Args = storedArgs(nil)
		}
		if req.Command != nil && (cur.Command == nil || *cur.Command != *req.Command) {
			cur.Command = req.Command
			changed = true
		}
		if req.Args != nil && !slices.Equal(cur.Args, *req.Args) {
			cur.Args = storedArgs(*req.Args)
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
		authChanged, err := h.applyAuth(v, cur, req)
		if err != nil {
			return false, err
		}
		changed = changed || authChanged
	}
	cur.TransportType = string(to)

	if !changed {
		return false, nil
	}
	cur.Capabilities = nil
	cur.ServerName, cur.ServerVersion = nil, nil
	cur.LastError = nil
	cur.LastConnectedAt = nil
	cur.Instructions = nil
	forgetEndpoint(&cur.CheckState)
	if cur.Status == string(contract.ServerDisconnected) {
		return false, nil
	}
	cur.Status = string(contract.ServerConnecting)
	cur.DueNow = true
	return true, nil
}

// applyAuth applies a validated PATCH's authType, bearerToken and upstream
// authentication to an http or sse server and reports whether that changed
// what the API sends it. Without an authType, a bearerToken makes a server
// that has none "bearer", and removing it ("") makes a bearer server "none".
func (h *servers) applyAuth(v *vault, cur *store.Server, req *contract.UpdateServerRequest) (changed bool, err error) {
	from := contract.AuthType(cur.AuthType)
	to := from
	switch {
	case req.AuthType != nil:
		to = *req.AuthType
	case req.BearerToken != nil && *req.BearerToken != "" && from == contract.AuthNone:
		to = contract.AuthBearer
	case req.BearerToken != nil && *req.BearerToken == "" && from == contract.AuthBearer:
		to = contract.AuthNone
	}
	token := h.token(v, cur)
	switch to {
	case contract.AuthBearer:
		switch {
		case req.BearerToken != nil && *req.BearerToken == "":
			return false, badRequest(`bearerToken must not be empty when authType is "bearer"; to remove the token, set authType to "none"`)
		case req.BearerToken == nil && from != contract.AuthBearer:
			return false, badRequest(`bearerToken is required when changing authType to "bearer"`)
		case req.BearerToken != nil && !token.is(*req.BearerToken):
			if err := token.set(*req.BearerToken); err != nil {
				return false, err
			}
			changed = true
		}
	default:
		if req.BearerToken != nil && *req.BearerToken != "" {
			return false, badRequest(`bearerToken must not be set while authType is %q; also set authType to "bearer"`, to)
		}
		token.clear()
	}
	authChanged, err := h.upstream(v, cur).apply(req.UpstreamAuthRequest, from, to)
	if err != nil {
		return false, err
	}
	cur.AuthType = string(to)
	return changed || authChanged || to != from, nil
}

// disconnect marks the server disconnected, which the scheduler leaves
// alone until the next connect. What the last probe learnt stays visible.
func (h *servers) disconnect(c *gin.Context) error {
	id, err := serverKind.pathID(c)
	if err != nil {
		return err
	}
	s, err := h.store.UpdateServer(serverKind.audited(c, "disconnect", id), tenantOf(c), id, func(cur *store.Server) error {
		cur.Status = string(contract.ServerDisconnected)
		cur.LastError = nil
		cur.LastErrorKind = nil
		return nil
	})
	if err != nil {
		return err
	}
	h.answer(c, s)
	return nil
}
