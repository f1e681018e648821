package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

const (
	msgBodyTooLarge  = "request body exceeds 1 MiB"
	msgUnavailable   = "database unavailable, retry later"
	retryAfterSecond = 5

	statusClientClosed = 499
)

// apiError is a failure the client caused or can act on; its message is
// safe to return as is. Handlers return one for conditions whose message
// depends on the request (a bad field, a name clash); everything else is
// mapped by family.fail.
type apiError struct {
	status int
	msg    string
	// retryAfter, when positive, is sent as Retry-After (seconds).
	retryAfter int
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &apiError{status: http.StatusConflict, msg: fmt.Sprintf(format, args...)}
}

// handler is a route's handler: it writes the success response itself and
// returns its failure, which an errorHandler answers.
type handler func(c *gin.Context) error

// errorHandler adapts the handlers of one record kind to Gin: a returned
// error is answered in the body of the routes' family.
type errorHandler struct {
	family family
	log    *slog.Logger
	// notFound answers store.ErrNotFound, such as "MCP server not found".
	notFound string
}

// wrap returns h as a Gin handler; op names the operation in logs.
func (e errorHandler) wrap(op string, h handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			e.family.fail(c, e.log, e.notFound, op, err)
		}
	}
}

// fail answers err with the status it calls for, in f's body. This is the
// one mapping of errors to statuses.
func (f family) fail(c *gin.Context, log *slog.Logger, notFound, op string, err error) {
	var ae *apiError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		if ae.retryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(ae.retryAfter))
		}
		f.abort(c, ae.status, ae.msg)
	case errors.As(err, &tooLarge):
		f.abort(c, http.StatusRequestEntityTooLarge, msgBodyTooLarge)
	case errors.Is(err, store.ErrNotFound):
		f.abort(c, http.StatusNotFound, notFound)
	case errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil:
		// The client went away; nobody reads the answer, and it is no
		// server fault worth an error log. 499 is the customary log code.
		c.AbortWithStatus(statusClientClosed)
	case errors.Is(err, store.ErrUnavailable):
		logger(c, log).Warn(op+": database unavailable", "error", err.Error())
		f.unavailable(c)
	default:
		f.internalError(c, log, op, err)
	}
}

func (f family) unavailable(c *gin.Context) {
	c.Header("Retry-After", strconv.Itoa(retryAfterSecond))
	f.abort(c, http.StatusServiceUnavailable, msgUnavailable)
}

func (f family) internalError(c *gin.Context, log *slog.Logger, op string, err error) {
	logger(c, log).Error(op+" failed", "error", err.Error())
	f.abort(c, http.StatusInternalServerError, "internal error")
}
