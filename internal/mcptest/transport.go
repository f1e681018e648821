package mcptest

import (
	"net/http"
	"sync/atomic"

	"github.com/mcpconn/terraform-provider-mcp/internal/reqid"
)

// Headers is an http.RoundTripper that sends every request on Base
// (http.DefaultTransport when nil) with the headers a caller of the API
// sets: its API key or agent token and, when it traces its calls, a
// request id. The request it is given is not changed.
type Headers struct {
	Base http.RoundTripper
	// Bearer, when set, goes as "Authorization: Bearer <Bearer>".
	Bearer string
	// RequestID, when it holds an id, goes as X-Request-Id.
	RequestID *atomic.Pointer[string]
}

// RoundTrip sends a copy of r with h's headers.
func (h Headers) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if h.Bearer != "" {
		r.Header.Set("Authorization", "Bearer "+h.Bearer)
	}
	if h.RequestID != nil {
		if id := h.RequestID.Load(); id != nil {
			r.Header.Set(reqid.Header, *id)
		}
	}
	base := h.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// BearerClient is an http.Client that authenticates with token.
func BearerClient(token string) *http.Client {
	return &http.Client{Transport: Headers{Bearer: token}}
}
