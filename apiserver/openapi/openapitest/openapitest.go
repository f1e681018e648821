// Package openapitest checks HTTP exchanges with the API against its
// OpenAPI document (package openapi), with kin-openapi's openapi3filter: the
// request against the operation's parameters, security and body, the answer
// against the statuses, headers and bodies documented for it. The API's
// shared test server (apitest) runs every exchange of the test suites
// through it, so a handler that drifts from the document fails a test.
//
// It is a test helper: nothing in the product imports it, so the validator
// stays out of the binary.
package openapitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/openapi"
)

// statusClientClosed is what the API logs when the client went away before
// the answer; nobody receives that answer, so there is nothing to check.
const statusClientClosed = 499

// uuidFormat is format "uuid": the canonical text form, any version (the
// API issues version 7 and accepts any). kin-openapi leaves the format
// unchecked unless it is defined.
var uuidFormat = openapi3.NewRegexpFormatValidator(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// schemaOptions apply to every schema check, of requests and answers alike.
var schemaOptions = []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("uuid", uuidFormat)}

// Validator checks exchanges against the document. It is safe for
// concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

// New loads the embedded document, validates it as OpenAPI and indexes its
// routes.
func New() (*Validator, error) {
	raw, err := openapi.JSON()
	if err != nil {
		return nil, err
	}
	return Load(raw)
}

// Load is New for another document, such as a deliberately wrong one in a test.
func Load(document []byte) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(document)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi: the document is not valid: %w", err)
	}
	// The document's server is "/", relative to wherever the API runs:
	// routes are matched on the path alone, whatever the host.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: routes: %w", err)
	}
	return &Validator{doc: doc, router: router}, nil
}

// Covers reports whether the document describes the path's family: /api
// and the operational endpoints. The gateway's /mcp endpoints speak MCP,
// which OpenAPI does not describe.
func (v *Validator) Covers(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/") || v.doc.Paths.Value(path) != nil
}

// Exchange is one request and the answer it got.
type Exchange struct {
	// Request is the request as sent (or received); its body is ignored
	// in favour of RequestBody.
	Request     *http.Request
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
}

// Check returns why ex is not what the document describes, or nil: an
// answer from an undocumented route or with an undocumented status, a body
// that does not match its schema, a missing required header, or a success
// answer to a request the document says is invalid (the API accepted what
// its description refuses).
func (v *Validator) Check(ctx context.Context, ex Exchange) error {
	if ex.Status == statusClientClosed {
		return nil
	}
	req := ex.Request.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(ex.RequestBody))
	route, params, err := v.router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		if ex.Status != http.StatusMethodNotAllowed {
			return fmt.Errorf("the document has no operation %s %s, yet it was answered %d, not 405", req.Method, req.URL.Path, ex.Status)
		}
		return nil
	case err != nil:
		if ex.Status != http.StatusNotFound {
			return fmt.Errorf("the document has no path %s, yet it was answered %d, not 404 (document the route)", req.URL.Path, ex.Status)
		}
		return nil
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			MultiError:         true,
			AuthenticationFunc: bearerPresent,
			// defaults are the server's business; the request is checked as sent
			SkipSettingDefaults:     true,
			SchemaValidationOptions: schemaOptions,
		},
	}
	if reqErr := openapi3filter.ValidateRequest(ctx, in); reqErr != nil && ex.Status < 400 {
		return fmt.Errorf("%s %s was answered %d, but the document refuses the request: %w", req.Method, req.URL.Path, ex.Status, reqErr)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 ex.Status,
		Header:                 ex.Header,
		Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true,
			SchemaValidationOptions: schemaOptions},
	}
	out.SetBodyBytes(ex.Body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("%s %s answered %d, not as documented: %w", req.Method, route.Path, ex.Status, err)
	}
	// openapi3filter checks bodies only where the document has one: a body
	// where it has none (a 204 with content) is drift too.
	if resp := route.Operation.Responses.Status(ex.Status); resp != nil && resp.Value != nil &&
		len(resp.Value.Content) == 0 && len(bytes.TrimSpace(ex.Body)) > 0 {
		return fmt.Errorf("%s %s answered %d with a body, but the document describes none: %.200s", req.Method, route.Path, ex.Status, ex.Body)
	}
	return nil
}

// bearerPresent passes the API-key scheme when the request carries a
// bearer credential: whether it is a valid key is the server's to say (a
// 401), so only its absence makes the request one the document refuses.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(cred) == "" {
		return errors.New(`no "Authorization: Bearer <api key>" header`)
	}
	return nil
}
