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
	// allowLoopbackHTTP lets an oauth2.tokenUrl be http on a loopback
	// host: the outbound policy allows private targets.
	allowLoopbackHTTP bool
}

func (h *connections) register(g *gin.RouterGroup) {
	e := errorHandler{family: plainFamily, log: h.log, notFound: connectionKind.notFound()}
	g.GET("", e.wrap("list connections", onList(listConnectionsParams, h.store.ListConnections, answerPage(toConnection))))
	g.POST("", e.wrap("create connection", h.create))
	g.GET("/:id", e.wrap("get connection", onRecord(connectionKind.kind, h.store.GetConnection, answerConnection)))
	g.PATCH("/:id", e.wrap("update connection", h.update))
	g.DELETE("/:id", e.wrap("delete connection", onDelete(connectionKind.kind, h.store.DeleteConnection, noContent)))
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
		UpstreamAuth:         toUpstreamAuth(c.UpstreamAuth),
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

// upstream is the connection's upstream authentication beyond its token.
func (h *connections) upstream(conn *store.Connection) upstreamAuth {
	return upstreamAuth{keyring: h.keyring, row: &conn.UpstreamAuth, aad: store.ConnectionAuthAAD(conn.ID)}
}

// listConnectionsParams reads the query of GET /api/mcp-connections;
// parameters the API does not know are ignored.
func listConnectionsParams(c *gin.Context) (p store.ListConnectionsParams, err error) {
	p = store.ListConnectionsParams{TenantID: tenantOf(c), Name: queried(c, "name")}
	if p.Status, err = queriedOneOf(c, "status", contract.ConnectionStatuses); err != nil {
		return p, err
	}
	p.Limit, p.After, err = parsePage(c, store.ConnectionIDs)
	return p, err
}

func (h *connections) create(c *gin.Context) error {
	req, err := decoded(c, h.validateCreate)
	if err != nil {
		return err
	}
	conn := store.Connection{
		Key:       store.Key[uuid.UUID]{ID: newUUID(), TenantID: tenantOf(c)},
		Name:      req.Name,
		ServerURL: req.ServerURL,
		AuthType:  string(req.AuthType),
	}
	if req.BearerToken != nil {
		if err := h.token(&conn).set(*req.BearerToken); err != nil {
			return err
		}
	}
	if _, err := h.upstream(&conn).apply(req.UpstreamAuthRequest, contract.AuthNone, req.AuthType); err != nil {
		return err
	}
	if err := h.store.CreateConnection(connectionKind.audited(c, "create", conn.ID), &conn); err != nil {
		return connectionKind.nameTaken(err, &req.Name)
	}
	answerCreated(c, connectionsPath+"/"+conn.ID.String(), toConnection(conn))
	return nil
}

// validateCreate fills in the default authType and checks the request.
func (h *connections) validateCreate(req *contract.CreateConnectionRequest) error {
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
		forbidTokenWithOAuth2(req.AuthType, req.BearerToken),
		checkUpstreamAuth(req.UpstreamAuthRequest, req.AuthType, h.allowLoopbackHTTP),
		optional(req.ApprovedToolsHash, refuseApprovalOnCreate),
	)
}

// validateUpdate checks what can be checked without the stored row;
// applyUpdate checks the rest (Authorization among the headers against the
// auth type the record ends with, too).
func (h *connections) validateUpdate(req *contract.UpdateConnectionRequest) error {
	return firstError(
		optional(req.Name, checkName),
		optional(req.ServerURL, checkConnectionURL),
		optional(req.AuthType, checkAuthType),
		optional(req.BearerToken, checkToken),
		optional(req.AuthType, func(a contract.AuthType) error { return forbidTokenWithNone(a, req.BearerToken) }),
		optional(req.AuthType, func(a contract.AuthType) error { return forbidTokenWithOAuth2(a, req.BearerToken) }),
		checkUpstreamAuth(req.UpstreamAuthRequest, contract.AuthNone, h.allowLoopbackHTTP),
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

func forbidTokenWithOAuth2(a contract.AuthType, token *string) error {
	if a == contract.AuthOAuth2 && token != nil {
		return errTokenWithOAuth2
	}
	return nil
}

var errTokenWithOAuth2 = badRequest(`bearerToken must not be set when authType is "oauth2", which fetches its own access token; remove bearerToken`)

func (h *connections) update(c *gin.Context) error {
	id, req, err := onRecordRequest(c, connectionKind.kind, h.validateUpdate)
	if err != nil {
		return err
	}
	// The decision runs on the locked row, so concurrent PATCHes of one
	// connection apply one after the other rather than on stale reads.
	conn, err := h.store.UpdateConnection(connectionKind.audited(c, "update", id), tenantOf(c), id, func(cur *store.Connection) error {
		if err := h.applyUpdate(cur, req); err != nil {
			return err
		}
		approve(req.ApprovedToolsHash, &cur.CheckState)
		return nil
	})
	if err != nil {
		return connectionKind.nameTaken(connectionKind.unknownHash(err, id, req.ApprovedToolsHash), req.Name)
	}
	answerConnection(c, conn)
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
	case contract.AuthNone, contract.AuthOAuth2:
		if req.BearerToken != nil {
			return badRequest(`bearerToken must not be set while authType is %q; also set authType to "bearer"`, to)
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
	authChanged, err := h.upstream(cur).apply(req.UpstreamAuthRequest, from, to)
	if err != nil {
		return err
	}
	if authChanged {
		endpointChanged = true
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
