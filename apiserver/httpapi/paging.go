package httpapi

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// parsePage reads ?limit= and ?cursor=, which every list takes; decode turns
// a cursor string back into a position in the kind's list. An empty
// parameter counts as absent.
func parsePage[C any](c *gin.Context, decode func(string) (C, error)) (limit int, after *C, err error) {
	limit = contract.DefaultPageLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > contract.MaxPageLimit {
			return 0, nil, badRequest("limit must be an integer from 1 to %d, got %q", contract.MaxPageLimit, v)
		}
		limit = n
	}
	if v := c.Query("cursor"); v != "" {
		cur, err := decode(v)
		if err != nil {
			return 0, nil, badRequest("invalid cursor: pass the nextCursor of a previous response unchanged, or omit cursor for the first page")
		}
		after = &cur
	}
	return limit, after, nil
}

// nextCursor is the nextCursor of a page: nil on the last one.
func nextCursor[C interface{ Encode() string }](cur *C) *string {
	if cur == nil {
		return nil
	}
	s := (*cur).Encode()
	return &s
}

// The cursor decoders of the lists, one per kind: they differ only in the
// store's cursor type and the kind's id prefix.
var (
	connectionCursor = store.DecodeCursor
	serverCursor     = func(s string) (store.KeyCursor, error) { return store.DecodeKeyCursor(s, contract.ServerIDPrefix) }
	projectCursor    = func(s string) (store.KeyCursor, error) { return store.DecodeKeyCursor(s, contract.ProjectIDPrefix) }
)
