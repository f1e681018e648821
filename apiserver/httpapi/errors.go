package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

const (
	msgBodyTooLarge  = "request body exceeds 1 MiB"
	msgUnavailable   = "database unavailable, retry later"
	msgNotFound      = "MCP connection not found"
	retryAfterSecond = 5

	statusClientClosed = 499
)

// apiError is a failure the client caused or can act on; its message is
// safe to return as is.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func abortError(c *gin.Context, status int, msg string) {
	if enveloped(c.Request.URL.Path) {
		c.AbortWithStatusJSON(status, contract.EnvelopeError{Success: false, Error: msg})
		return
	}
	c.AbortWithStatusJSON(status, contract.ErrorBody{Error: msg})
}

func unavailable(c *gin.Context) {
	c.Header("Retry-After", strconv.Itoa(retryAfterSecond))
	abortError(c, http.StatusServiceUnavailable, msgUnavailable)
}

func internalError(c *gin.Context, log *slog.Logger, op string, err error) {
	logger(c, log).Error(op+" failed", "error", err.Error())
	abortError(c, http.StatusInternalServerError, "internal error")
}

// fail answers with the status err calls for. Conditions with a message
// specific to the call site (a name clash) are turned into an *apiError by
// the caller first.
func fail(c *gin.Context, log *slog.Logger, op string, err error) {
	var ae *apiError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		abortError(c, ae.status, ae.msg)
	case errors.As(err, &tooLarge):
		abortError(c, http.StatusRequestEntityTooLarge, msgBodyTooLarge)
	case errors.Is(err, store.ErrNotFound):
		abortError(c, http.StatusNotFound, msgNotFound)
	case errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil:
		// The client went away; nobody reads the answer, and it is no
		// server fault worth an error log. 499 is the customary log code.
		c.AbortWithStatus(statusClientClosed)
	case errors.Is(err, store.ErrUnavailable):
		logger(c, log).Warn(op+": database unavailable", "error", err.Error())
		unavailable(c)
	default:
		internalError(c, log, op, err)
	}
}
