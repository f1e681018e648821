package httpapi

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// parsePage reads ?limit= and ?cursor=, which every list takes; ids is the
// form of the listed kind's ids, which a cursor must carry. An empty
// parameter counts as absent.
func parsePage(c *gin.Context, ids store.IDFormat) (limit int, after *store.Cursor, err error) {
	limit = contract.DefaultPageLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > contract.MaxPageLimit {
			return 0, nil, badRequest("limit must be an integer from 1 to %d, got %q", contract.MaxPageLimit, v)
		}
		limit = n
	}
	if v := c.Query("cursor"); v != "" {
		cur, err := store.DecodeCursor(v, ids)
		if err != nil {
			return 0, nil, badRequest("invalid cursor: pass the nextCursor of a previous response unchanged, or omit cursor for the first page")
		}
		after = &cur
	}
	return limit, after, nil
}

// nextCursor is the nextCursor of a page: nil on the last one.
func nextCursor(cur *store.Cursor) *string {
	if cur == nil {
		return nil
	}
	s := cur.Encode()
	return &s
}

// pageOf is the page of a list in the connections family: rows as toWire
// converts them (an empty list, never null) and the cursor after them.
func pageOf[R, T any](rows []R, next *store.Cursor, toWire func(R) T) contract.Page[T] {
	out := contract.Page[T]{Data: make([]T, 0, len(rows)), NextCursor: nextCursor(next)}
	for _, row := range rows {
		out.Data = append(out.Data, toWire(row))
	}
	return out
}
