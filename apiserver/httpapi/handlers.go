package httpapi

import (
	"context"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// The handler pieces every kind of record shares: each kind's handlers
// supply what differs (the store's function, the wire form, the checks of a
// request) and these do the rest, in the same order for every kind.

// onRecord is the handler of a route that reads or checks the record the
// path's :id names and answers it: act gets the caller's tenant and the
// id, answer writes what act returned.
func onRecord[ID, R any](k kind[ID], act func(context.Context, uuid.UUID, ID) (R, error), answer func(*gin.Context, R)) func(*gin.Context) error {
	return func(c *gin.Context) error {
		id, err := k.pathID(c)
		if err != nil {
			return err
		}
		r, err := act(c.Request.Context(), tenantOf(c), id)
		if err != nil {
			return err
		}
		answer(c, r)
		return nil
	}
}

// onDelete is the handler of the DELETE of the record the path's :id
// names: del deletes it in a context that audits the deletion, answer
// writes the family's answer to a deletion.
func onDelete[ID any](k kind[ID], del func(context.Context, uuid.UUID, ID) error, answer func(*gin.Context)) func(*gin.Context) error {
	return func(c *gin.Context) error {
		id, err := k.pathID(c)
		if err != nil {
			return err
		}
		if err := del(k.audited(c, "delete", id), tenantOf(c), id); err != nil {
			return err
		}
		answer(c)
		return nil
	}
}

// noContent answers a deletion in the plain family.
func noContent(c *gin.Context) { c.Status(http.StatusNoContent) }

// onList is the handler of a list route: params reads the query (the page
// and the kind's filters, each kind in the order its errors are reported)
// into the store's parameters, list lists, answer writes the page.
func onList[P, R any](params func(*gin.Context) (P, error), list func(context.Context, P) ([]R, *store.Cursor, error), answer func(*gin.Context, []R, *store.Cursor)) func(*gin.Context) error {
	return func(c *gin.Context) error {
		p, err := params(c)
		if err != nil {
			return err
		}
		rows, next, err := list(c.Request.Context(), p)
		if err != nil {
			return err
		}
		answer(c, rows, next)
		return nil
	}
}

// answerPage answers a page of the plain family, its rows as toWire
// converts them.
func answerPage[R, T any](toWire func(R) T) func(*gin.Context, []R, *store.Cursor) {
	return func(c *gin.Context, rows []R, next *store.Cursor) {
		c.JSON(http.StatusOK, pageOf(rows, next, toWire))
	}
}

// queried is the query parameter name, or nil when it is absent or empty:
// an exact-match filter of a list.
func queried(c *gin.Context, name string) *string {
	if v := c.Query(name); v != "" {
		return &v
	}
	return nil
}

// queriedOneOf is the query parameter name when it is one of values, nil
// when it is absent or empty, and a 400 otherwise.
func queriedOneOf[T ~string](c *gin.Context, name string, values []T) (*string, error) {
	v := queried(c, name)
	if v != nil && !slices.Contains(values, T(*v)) {
		return nil, badRequest("%s must be one of %s, got %q", name, quoteAll(values), *v)
	}
	return v, nil
}

// decoded is the body of a create or update request, decoded into a new R
// and checked by validate.
func decoded[R any](c *gin.Context, validate func(*R) error) (*R, error) {
	req := new(R)
	if err := decodeObject(c.Request, req); err != nil {
		return nil, err
	}
	if err := validate(req); err != nil {
		return nil, err
	}
	return req, nil
}

// onRecordRequest reads a request about the record the path's :id names:
// the id, then the body as decoded reads it.
func onRecordRequest[ID, R any](c *gin.Context, k kind[ID], validate func(*R) error) (ID, *R, error) {
	id, err := k.pathID(c)
	if err != nil {
		return id, nil, err
	}
	req, err := decoded(c, validate)
	return id, req, err
}

// answerCreated answers a create with 201, body and the new record's
// location.
func answerCreated(c *gin.Context, location string, body any) {
	c.Header("Location", location)
	c.JSON(http.StatusCreated, body)
}
