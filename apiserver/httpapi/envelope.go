package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// Route families whose every body, errors included, is wrapped in the
// {"success": ...} envelope of the seed mcp-server-get.
const (
	serversPath  = "/api/mcp/servers"
	projectsPath = "/api/projects"
)

// enveloped reports whether path belongs to an enveloped family. It goes by
// the path rather than by the matched route, so that errors raised before
// routing (401, 413, unknown routes, 405, panics) get the family's body too.
func enveloped(path string) bool {
	for _, prefix := range []string{"/api/mcp", projectsPath} {
		if path == prefix || strings.HasPrefix(path, prefix+"/") {
			return true
		}
	}
	return false
}

// family names a record kind of an enveloped route family, for its
// messages and id checks.
type family struct {
	kind     string // "MCP server", "project"
	idPrefix string
	ids      store.IDFormat // what DecodeCursor accepts
}

var (
	serverFamily  = family{kind: "MCP server", idPrefix: contract.ServerIDPrefix, ids: store.ServerIDs}
	projectFamily = family{kind: "project", idPrefix: contract.ProjectIDPrefix, ids: store.ProjectIDs}
)

// pathID reads the :id path parameter, which must have the family's id shape.
func (f family) pathID(c *gin.Context) (string, error) {
	raw := c.Param("id")
	if !f.validID(raw) {
		if len(raw) > 64 {
			raw = raw[:64] + "..."
		}
		return "", badRequest("invalid %s id %q: must be %q followed by letters and digits", f.kind, raw, f.idPrefix)
	}
	return raw, nil
}

func (f family) validID(id string) bool {
	if f.idPrefix == contract.ServerIDPrefix {
		return contract.ValidServerID(id)
	}
	return contract.ValidProjectID(id)
}

// fail is the package's fail with the family's not-found message.
func (f family) fail(c *gin.Context, log *slog.Logger, op string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		err = &apiError{status: http.StatusNotFound, msg: f.kind + " not found"}
	}
	fail(c, log, op, err)
}

// page reads ?limit= and ?cursor= as the connections list does.
func (f family) page(c *gin.Context) (limit int, after *store.Cursor, err error) {
	limit = contract.DefaultPageLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > contract.MaxPageLimit {
			return 0, nil, badRequest("limit must be an integer from 1 to %d, got %q", contract.MaxPageLimit, v)
		}
		limit = n
	}
	if v := c.Query("cursor"); v != "" {
		cur, err := store.DecodeCursor(v, f.ids)
		if err != nil {
			return 0, nil, badRequest("invalid cursor: pass the nextCursor of a previous response unchanged, or omit cursor for the first page")
		}
		after = &cur
	}
	return limit, after, nil
}

func nextCursor(cur *store.Cursor) *string {
	if cur == nil {
		return nil
	}
	s := cur.Encode()
	return &s
}

// emptyToNil stores an empty description as none, which is how a client
// removes one (null is not accepted in a body).
func emptyToNil(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}

func validateDescription(s *string) error {
	if s == nil {
		return nil
	}
	if err := contract.ValidateDescription(*s); err != nil {
		return badRequest("description %v", err)
	}
	return nil
}
