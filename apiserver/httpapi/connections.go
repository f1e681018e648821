package httpapi

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// connections serves /api/mcp-connections.
type connections struct {
	store   *store.Store
	keyring *secrets.Keyring
	log     *slog.Logger
	checker Checker // nil: no health-check route
}

func (h *connections) register(g *gin.RouterGroup) {
	g.GET("", h.list)
	g.POST("", h.create)
	g.GET("/:id", h.get)
	g.PATCH("/:id", h.update)
	g.DELETE("/:id", h.delete)
	if h.checker != nil {
		g.POST("/:id/health-check", h.healthCheck)
	}
}

// toContract is the one place a stored row becomes the wire object; the
// sealed token stays behind.
func toContract(c store.Connection) contract.Connection {
	return contract.Connection{
		ID:                c.ID.String(),
		TenantID:          c.TenantID.String(),
		Name:              c.Name,
		ServerURL:         c.ServerURL,
		AuthType:          contract.AuthType(c.AuthType),
		Status:            contract.ConnectionStatus(c.Status),
		Instructions:      c.Instructions,
		LastError:         c.LastError,
		LastHealthCheckAt: contract.TimePtr(c.LastHealthCheckAt),
		CreatedAt:         contract.NewTime(c.CreatedAt),
		UpdatedAt:         contract.NewTime(c.UpdatedAt),
	}
}

func (h *connections) get(c *gin.Context) {
	id, err := connectionID(c)
	if err != nil {
		fail(c, h.log, "get connection", err)
		return
	}
	conn, err := h.store.GetConnection(c.Request.Context(), tenantOf(c), id)
	if err != nil {
		fail(c, h.log, "get connection", err)
		return
	}
	c.JSON(http.StatusOK, toContract(conn))
}

func (h *connections) list(c *gin.Context) {
	p, err := listParams(c, tenantOf(c))
	if err != nil {
		fail(c, h.log, "list connections", err)
		return
	}
	rows, next, err := h.store.ListConnections(c.Request.Context(), p)
	if err != nil {
		fail(c, h.log, "list connections", err)
		return
	}
	out := contract.ConnectionList{Data: make([]contract.Connection, 0, len(rows))}
	for _, row := range rows {
		out.Data = append(out.Data, toContract(row))
	}
	if next != nil {
		s := next.Encode()
		out.NextCursor = &s
	}
	c.JSON(http.StatusOK, out)
}

// listParams reads the list filters. An empty parameter counts as absent;
// parameters the API does not know are ignored.
func listParams(c *gin.Context, tenant uuid.UUID) (store.ListConnectionsParams, error) {
	p := store.ListConnectionsParams{TenantID: tenant, Limit: contract.DefaultPageLimit}
	if v := c.Query("name"); v != "" {
		p.Name = &v
	}
	if v := c.Query("status"); v != "" {
		if !contract.ConnectionStatus(v).Valid() {
			return p, badRequest("status must be one of %s, got %q", quoteAll(contract.ConnectionStatuses), v)
		}
		p.Status = &v
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > contract.MaxPageLimit {
			return p, badRequest("limit must be an integer from 1 to %d, got %q", contract.MaxPageLimit, v)
		}
		p.Limit = n
	}
	if v := c.Query("cursor"); v != "" {
		cur, err := store.DecodeCursor(v, store.ConnectionIDs)
		if err != nil {
			return p, badRequest("invalid cursor: pass the nextCursor of a previous response unchanged, or omit cursor for the first page")
		}
		p.After = &cur
	}
	return p, nil
}

func (h *connections) create(c *gin.Context) {
	var req contract.CreateConnectionRequest
	if err := decodeObject(c.Request, &req); err != nil {
		fail(c, h.log, "create connection", err)
		return
	}
	if err := validateCreate(&req); err != nil {
		fail(c, h.log, "create connection", err)
		return
	}
	conn := store.Connection{
		ID:        newConnectionID(),
		TenantID:  tenantOf(c),
		Name:      req.Name,
		ServerURL: req.ServerURL,
		AuthType:  string(req.AuthType),
	}
	if req.BearerToken != nil {
		if err := h.seal(&conn, *req.BearerToken); err != nil {
			fail(c, h.log, "create connection", err)
			return
		}
	}
	if err := h.store.CreateConnection(c.Request.Context(), &conn); err != nil {
		if errors.Is(err, store.ErrNameTaken) {
			err = nameTaken(req.Name)
		}
		fail(c, h.log, "create connection", err)
		return
	}
	c.Header("Location", "/api/mcp-connections/"+conn.ID.String())
	c.JSON(http.StatusCreated, toContract(conn))
}

func validateCreate(req *contract.CreateConnectionRequest) error {
	if req.AuthType == "" {
		req.AuthType = contract.AuthNone
	}
	if err := validateFields(&req.Name, &req.ServerURL, &req.AuthType, req.BearerToken); err != nil {
		return err
	}
	switch {
	case req.AuthType == contract.AuthBearer && req.BearerToken == nil:
		return badRequest(`bearerToken is required when authType is "bearer"`)
	case req.AuthType == contract.AuthNone && req.BearerToken != nil:
		return errTokenWithNone
	}
	return nil
}

var errTokenWithNone = badRequest(`bearerToken must not be set when authType is "none"; set authType to "bearer" or remove bearerToken`)

// validateFields checks each field that is present (non-nil) on its own.
func validateFields(name, serverURL *string, authType *contract.AuthType, token *string) error {
	if name != nil {
		if err := contract.ValidateName(*name); err != nil {
			return badRequest("name %v", err)
		}
	}
	if serverURL != nil {
		if err := contract.ValidateServerURL(*serverURL); err != nil {
			return badRequest("serverUrl %v", err)
		}
	}
	if authType != nil && !authType.Valid() {
		return badRequest("authType must be one of %s, got %q", quoteAll(contract.AuthTypes), *authType)
	}
	if token != nil {
		if err := contract.ValidateToken(*token); err != nil {
			return badRequest("bearerToken %v", err)
		}
	}
	return nil
}

func (h *connections) update(c *gin.Context) {
	id, err := connectionID(c)
	if err != nil {
		fail(c, h.log, "update connection", err)
		return
	}
	var req contract.UpdateConnectionRequest
	if err := decodeObject(c.Request, &req); err != nil {
		fail(c, h.log, "update connection", err)
		return
	}
	if err := validateFields(req.Name, req.ServerURL, req.AuthType, req.BearerToken); err != nil {
		fail(c, h.log, "update connection", err)
		return
	}
	if req.AuthType != nil && *req.AuthType == contract.AuthNone && req.BearerToken != nil {
		fail(c, h.log, "update connection", errTokenWithNone)
		return
	}
	// The decision runs on the locked row, so concurrent PATCHes of one
	// connection apply one after the other rather than on stale reads.
	conn, err := h.store.UpdateConnection(c.Request.Context(), tenantOf(c), id, func(cur *store.Connection) error {
		return h.applyUpdate(cur, &req)
	})
	if err != nil {
		if errors.Is(err, store.ErrNameTaken) && req.Name != nil {
			err = nameTaken(*req.Name)
		}
		fail(c, h.log, "update connection", err)
		return
	}
	c.JSON(http.StatusOK, toContract(conn))
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
	switch to {
	case contract.AuthNone:
		if req.BearerToken != nil {
			return badRequest(`bearerToken must not be set while authType is "none"; also set authType to "bearer"`)
		}
		cur.TokenCiphertext, cur.TokenKeyID = nil, nil
	case contract.AuthBearer:
		if req.BearerToken == nil {
			if from != contract.AuthBearer {
				return badRequest(`bearerToken is required when changing authType to "bearer"`)
			}
			break // keep the stored token
		}
		if !h.sameToken(cur, *req.BearerToken) {
			if err := h.seal(cur, *req.BearerToken); err != nil {
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
		// due now, as a new connection is: nothing is known about the new endpoint
		cur.NextCheckAt = time.Now()
	}
	return nil
}

// sameToken reports whether token is the one already stored, so a client
// that resends an unchanged token (as declarative tools do) does not reset
// the connection's health.
func (h *connections) sameToken(cur *store.Connection, token string) bool {
	if cur.TokenCiphertext == nil || cur.TokenKeyID == nil {
		return false
	}
	stored, err := h.keyring.Open(cur.TokenCiphertext, *cur.TokenKeyID, store.ConnectionTokenAAD(cur.ID))
	if err != nil {
		// a token the current keys cannot open is replaced, not compared
		return false
	}
	return subtle.ConstantTimeCompare(stored, []byte(token)) == 1
}

func (h *connections) seal(conn *store.Connection, token string) error {
	ct, keyID, err := h.keyring.Seal([]byte(token), store.ConnectionTokenAAD(conn.ID))
	if err != nil {
		return fmt.Errorf("seal bearer token: %w", err)
	}
	conn.TokenCiphertext, conn.TokenKeyID = ct, &keyID
	return nil
}

func (h *connections) delete(c *gin.Context) {
	id, err := connectionID(c)
	if err != nil {
		fail(c, h.log, "delete connection", err)
		return
	}
	if err := h.store.DeleteConnection(c.Request.Context(), tenantOf(c), id); err != nil {
		fail(c, h.log, "delete connection", err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *connections) healthCheck(c *gin.Context) {
	id, err := connectionID(c)
	if err != nil {
		fail(c, h.log, "health check", err)
		return
	}
	conn, err := h.checker.CheckConnection(c.Request.Context(), tenantOf(c), id)
	if err != nil {
		fail(c, h.log, "health check", err)
		return
	}
	c.JSON(http.StatusOK, toContract(conn))
}

// connectionID parses the :id path parameter, accepting only the canonical
// 36-character form so one connection has one URL.
func connectionID(c *gin.Context) (uuid.UUID, error) {
	raw := c.Param("id")
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		if len(raw) > 64 {
			raw = raw[:64] + "..."
		}
		return uuid.Nil, badRequest("invalid MCP connection id %q: must be a UUID", raw)
	}
	return id, nil
}

func nameTaken(name string) error {
	return &apiError{status: http.StatusConflict, msg: fmt.Sprintf("an MCP connection named %q already exists", name)}
}

func quoteAll[T ~string](values []T) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strconv.Quote(string(v))
	}
	return strings.Join(quoted, ", ")
}

// newConnectionID returns a time-ordered (version 7) UUID, so rows created in
// the same millisecond still list in creation order and a row inserted while a
// client pages cannot land before that client's cursor.
func newConnectionID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}
