package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// ConnectionChecker runs a health check of one connection now and returns
// the stored result. It backs POST /api/mcp-connections/{id}/health-check.
type ConnectionChecker interface {
	CheckConnection(ctx context.Context, tenantID, id uuid.UUID) (store.Connection, error)
}

// connections serves /api/mcp-connections.
type connections struct {
	store   *store.Store
	keyring *secrets.Keyring
	log     *slog.Logger
	checker ConnectionChecker // nil: no health-check route
}

func (h *connections) register(g *gin.RouterGroup) {
	e := errorHandler{family: plainFamily, log: h.log, notFound: connectionKind.notFound()}
	g.GET("", e.wrap("list connections", h.list))
	g.POST("", e.wrap("create connection", h.create))
	g.GET("/:id", e.wrap("get connection", onRecord(connectionKind.kind, h.store.GetConnection, answerConnection)))
	g.PATCH("/:id", e.wrap("update connection", h.update))
	g.DELETE("/:id", e.wrap("delete connection", h.delete))
	if h.checker != nil {
		g.POST("/:id/health-check", e.wrap("health check", onRecord(connectionKind.kind, h.checker.CheckConnection, answerConnection)))
	}
	history[uuid.UUID]{kind: connectionKind, store: h.store, bodies: plainHistory}.register(g, e)
}

// answerConnection answers one connection, as every route of one does.
func answerConnection(c *gin.Context, conn store.Connection) {
	c.JSON(http.StatusOK, toConnection(conn))
}

// toConnection is the one place a stored row becomes the wire object; the
// sealed token stays behind.
func toConnection(c store.Connection) contract.Connection {
	return contract.Connection{
		ID:                   c.ID.String(),
		TenantID:             c.TenantID.String(),
		Name:                 c.Name,
		ServerURL:            c.ServerURL,
		AuthType:             contract.AuthType(c.AuthType),
		Status:               contract.ConnectionStatus(c.Status),
		Instructions:         c.Instructions,
		LastError:            c.LastError,
		LastHealthCheckAt:    contract.TimePtr(c.LastHealthCheckAt),
		Capabilities:         toCapabilities(c.Capabilities),
		ServerImplementation: toImplementation(c.ServerName, c.ServerVersion),
		CheckState:           toCheckState(c.CheckState),
		CreatedAt:            contract.NewTime(c.CreatedAt),
		UpdatedAt:            contract.NewTime(c.UpdatedAt),
	}
}

// token is the connection's bearer token.
func (h *connections) token(conn *store.Connection) secretField {
	return secretField{keyring: h.keyring, what: "bearer token",
		ciphertext: &conn.TokenCiphertext, keyID: &conn.TokenKeyID, aad: store.ConnectionTokenAAD(conn.ID)}
}

func (h *connections) list(c *gin.Context) error {
	// parameters the API does not know are ignored
	p := store.ListConnectionsParams{TenantID: tenantOf(c)}
	if v := c.Query("name"); v != "" {
		p.Name = &v
	}
	if v := c.Query("status"); v != "" {
		if !contract.ConnectionStatus(v).Valid() {
			return badRequest("status must be one of %s, got %q", quoteAll(contract.ConnectionStatuses), v)
		}
		p.Status = &v
	}
	var err error
	if p.Limit, p.After, err = parsePage(c, store.ConnectionIDs); err != nil {
		return err
	}
	rows, next, err := h.store.ListConnections(c.Request.Context(), p)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, pageOf(rows, next, toConnection))
	return nil
}

func (h *connections) create(c *gin.Context) error {
	var req contract.CreateConnectionRequest
	if err := decodeObject(c.Request, &req); err != nil {
		return err
	}
	if err := validateCreateConnection(&req); err != nil {
		return err
	}
	conn := store.Connection{
		ID:        newUUID(),
		TenantID:  tenantOf(c),
		Name:      req.Name,
		ServerURL: req.ServerURL,
		AuthType:  string(req.AuthType),
	}
	if req.BearerToken != nil {
		if err := h.token(&conn).set(*req.BearerToken); err != nil {
			return err
		}
	}
	if err := h.store.CreateConnection(connectionKind.audited(c, "create", conn.ID.String()), &conn); err != nil {
		return connectionKind.nameTaken(err, &req.Name)
	}
	c.Header("Location", connectionsPath+"/"+conn.ID.String())
	c.JSON(http.StatusCreated, toConnection(conn))
	return nil
}

// validateCreateConnection fills in the default authType and checks the request.
func validateCreateConnection(req *contract.CreateConnectionRequest) error {
	if req.AuthType == "" {
		req.AuthType = contract.AuthNone
	}
	return firstError(
		checkName(req.Name),
		checkConnectionURL(req.ServerURL),
		checkAuthType(req.AuthType),
		optional(req.BearerToken, checkToken),
		requireTokenForBearer(req.AuthType, req.BearerToken),
		forbidTokenWithNone(req.AuthType, req.BearerToken),
		optional(req.ApprovedToolsHash, refuseApprovalOnCreate),
	)
}

// validateUpdateConnection checks what can be checked without the stored
// row; applyUpdate checks the rest.
func validateUpdateConnection(req *contract.UpdateConnectionRequest) error {
	return firstError(
		optional(req.Name, checkName),
		optional(req.ServerURL, checkConnectionURL),
		optional(req.AuthType, checkAuthType),
		optional(req.BearerToken, checkToken),
		optional(req.AuthType, func(a contract.AuthType) error { return forbidTokenWithNone(a, req.BearerToken) }),
		optional(req.ApprovedToolsHash, checkApprovedHash),
	)
}

func checkConnectionURL(serverURL string) error {
	if err := contract.ValidateServerURL(serverURL); err != nil {
		return badRequest("serverUrl %v", err)
	}
	return nil
}

func checkAuthType(a contract.AuthType) error {
	if !a.Valid() {
		return badRequest("authType must be one of %s, got %q", quoteAll(contract.AuthTypes), a)
	}
	return nil
}

func requireTokenForBearer(a contract.AuthType, token *string) error {
	if a == contract.AuthBearer && token == nil {
		return badRequest(`bearerToken is required when authType is "bearer"`)
	}
	return nil
}

func forbidTokenWithNone(a contract.AuthType, token *string) error {
	if a == contract.AuthNone && token != nil {
		return errTokenWithNone
	}
	return nil
}

var errTokenWithNone = badRequest(`bearerToken must not be set when authType is "none"; set authType to "bearer" or remove bearerToken`)

func (h *connections) update(c *gin.Context) error {
	id, err := connectionKind.pathID(c)
	if err != nil {
		return err
	}
	var req contract.UpdateConnectionRequest
	if err := decodeObject(c.Request, &req); err != nil {
		return err
	}
	if err := validateUpdateConnection(&req); err != nil {
		return err
	}
	// The decision runs on the locked row, so concurrent PATCHes of one
	// connection apply one after the other rather than on stale reads.
	conn, err := h.store.UpdateConnection(connectionKind.audited(c, "update", id.String()), tenantOf(c), id, func(cur *store.Connection) error {
		if err := h.applyUpdate(cur, &req); err != nil {
			return err
		}
		approve(req.ApprovedToolsHash, &cur.CheckState)
		return nil
	})
	if err != nil {
		return connectionKind.nameTaken(connectionKind.unknownHash(err, id, req.ApprovedToolsHash), req.Name)
	}
	c.JSON(http.StatusOK, toConnection(conn))
	return nil
}

// applyUpdate applies a validated PATCH to the current row. Changing where
// or how the API reaches the MCP server voids what the last check learnt.
func (h *connections) applyUpdate(cur *store.Connection, req *contract.UpdateConnectionRequest) error {
	endpointChanged := false
	if req.Name != nil {
		cur.Name = *req.Name
	}
	if req.ServerURL != nil && *req.ServerURL != cur.ServerURL {
		cur.ServerURL = *req.ServerURL
		endpointChanged = true
	}
	from := contract.AuthType(cur.AuthType)
	to := from
	if req.AuthType != nil {
		to = *req.AuthType
	}
	token := h.token(cur)
	switch to {
	case contract.AuthNone:
		if req.BearerToken != nil {
			return badRequest(`bearerToken must not be set while authType is "none"; also set authType to "bearer"`)
		}
		token.clear()
	case contract.AuthBearer:
		if req.BearerToken == nil {
			if from != contract.AuthBearer {
				return badRequest(`bearerToken is required when changing authType to "bearer"`)
			}
			break // keep the stored token
		}
		if !token.is(*req.BearerToken) {
			if err := token.set(*req.BearerToken); err != nil {
				return err
			}
			endpointChanged = true
		}
	}
	if to != from {
		cur.AuthType = string(to)
		endpointChanged = true
	}
	if endpointChanged {
		cur.Status = string(contract.ConnectionUnknown)
		cur.LastHealthCheckAt = nil
		cur.LastError = nil
		cur.Instructions = nil
		cur.Capabilities = nil
		cur.ServerName, cur.ServerVersion = nil, nil
		forgetEndpoint(&cur.CheckState)
		// due now, as a new connection is: nothing is known about the new endpoint
		cur.DueNow = true
	}
	return nil
}

func (h *connections) delete(c *gin.Context) error {
	id, err := connectionKind.pathID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteConnection(connectionKind.audited(c, "delete", id.String()), tenantOf(c), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
