package httpapi

import (
	"strconv"
	"strings"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// A request's validation is one function per request type, written as the
// list of its fields' checks in the order they are reported: firstError of
// the checks, with optional for the fields a request may leave out.

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// optional runs check on *v when the field is present.
func optional[T any](v *T, check func(T) error) error {
	if v == nil {
		return nil
	}
	return check(*v)
}

// The checks below are the fields every kind shares.

func checkName(name string) error {
	if err := contract.ValidateName(name); err != nil {
		return badRequest("name %v", err)
	}
	return nil
}

func checkDescription(s string) error {
	if err := contract.ValidateDescription(s); err != nil {
		return badRequest("description %v", err)
	}
	return nil
}

func checkToken(token string) error {
	if err := contract.ValidateToken(token); err != nil {
		return badRequest("bearerToken %v", err)
	}
	return nil
}

// emptyToNil stores an empty description as none, which is how a client
// removes one (null is not accepted in a body).
func emptyToNil(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}

func quoteAll[T ~string](values []T) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strconv.Quote(string(v))
	}
	return strings.Join(quoted, ", ")
}

// clipped is s cut to 64 bytes, for quoting a value a client sent in a
// message without echoing a megabyte back.
func clipped(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
