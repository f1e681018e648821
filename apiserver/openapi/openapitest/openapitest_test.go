package openapitest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/openapi/openapitest"
)

// connection is a connection as the API answers it; each case changes a copy.
func connection() map[string]any {
	return map[string]any{
		"id": "0c1a2b3c-5678-9abc-def0-1234567890ab", "tenantId": "a0b1c2d3-4567-89ab-cdef-0123456789ab",
		"name": "Order Management System", "serverUrl": "https://mcp.example.com/oms", "authType": "bearer",
		"status": "active", "instructions": nil, "lastError": nil, "lastHealthCheckAt": "2026-03-25T12:00:00.000Z",
		"capabilities":         map[string]any{"tools": true, "resources": false, "prompts": false},
		"serverImplementation": map[string]any{"name": "Example MCP", "version": "1.0.0"},
		"protocolVersion":      "2025-06-18", "lastErrorKind": nil, "toolCount": 1, "toolsHash": nil,
		"toolsChangedAt": nil, "approvedToolsHash": nil, "toolsDrift": false,
		"headerNames": []string{}, "oauth2": nil, "tls": nil,
		"createdAt": "2026-01-10T14:00:00.000Z", "updatedAt": "2026-03-25T12:00:00.000Z",
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	m[k] = v
	return m
}

func without(m map[string]any, k string) map[string]any {
	delete(m, k)
	return m
}

type exchange struct {
	method, path, key string
	reqBody           string
	status            int
	header            http.Header
	body              any // marshalled as JSON unless a string
}

func (e exchange) build(t *testing.T) openapitest.Exchange {
	t.Helper()
	r := httptest.NewRequest(e.method, e.path, strings.NewReader(e.reqBody))
	if e.key != "" {
		r.Header.Set("Authorization", "Bearer "+e.key)
	}
	if e.reqBody != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	h := http.Header{}
	for k, v := range e.header {
		h[k] = v
	}
	var body []byte
	switch b := e.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	if len(body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	return openapitest.Exchange{Request: r, RequestBody: []byte(e.reqBody), Status: e.status, Header: h, Body: body}
}

const connPath = "/api/mcp-connections/0c1a2b3c-5678-9abc-def0-1234567890ab"

var location = http.Header{"Location": {connPath}}

// TestCheckAccepts shows answers the document describes pass, so that the
// refusals below are about what each case changes.
func TestCheckAccepts(t *testing.T) {
	v, err := openapitest.New()
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]exchange{
		"get":                {method: "GET", path: connPath, key: "k", status: 200, body: connection()},
		"upstream auth":      {method: "GET", path: connPath, key: "k", status: 200, body: with(with(with(connection(), "headerNames", []string{"X-Tenant"}), "oauth2", nil), "tls", map[string]any{"caBundle": nil, "clientCertificate": nil, "clientKeySet": false})},
		"not found":          {method: "GET", path: connPath, key: "k", status: 404, body: map[string]any{"error": "MCP connection not found"}},
		"created":            {method: "POST", path: "/api/mcp-connections", key: "k", reqBody: `{"name":"a","serverUrl":"https://x.example"}`, status: 201, header: location, body: connection()},
		"refused request":    {method: "POST", path: "/api/mcp-connections", key: "k", reqBody: `{"name":"a","serverUrl":"https://x.example","color":"red"}`, status: 400, body: map[string]any{"error": `unknown field "color"`}},
		"deleted":            {method: "DELETE", path: connPath, key: "k", status: 204},
		"no key":             {method: "GET", path: connPath, status: 401, header: http.Header{"Www-Authenticate": {`Bearer realm="mcp-api"`}}, body: map[string]any{"error": "missing API key"}},
		"unknown /api route": {method: "GET", path: "/api/nothing", key: "k", status: 404, body: map[string]any{"error": "no route for GET /api/nothing"}},
		"wrong method":       {method: "PUT", path: connPath, key: "k", status: 405, body: map[string]any{"error": "method PUT is not allowed"}},
		"gateway":            {method: "POST", path: "/mcp/servers/mcp_abc", key: "k", status: 200, body: "event: message"},
		"server envelope":    {method: "GET", path: "/api/mcp/servers/mcp_abc", key: "k", status: 404, body: map[string]any{"success": false, "error": "MCP server not found"}},
	} {
		t.Run(name, func(t *testing.T) {
			if !v.Covers(e.path) {
				return
			}
			if err := v.Check(context.Background(), e.build(t)); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

// TestCheckRefusesDrift is the reason the validator exists: each answer
// here is one a drifting handler could give, and each must be caught.
func TestCheckRefusesDrift(t *testing.T) {
	v, err := openapitest.New()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		e    exchange
		want string
	}{
		"missing field":            {exchange{method: "GET", path: connPath, key: "k", status: 200, body: without(connection(), "status")}, "status"},
		"renamed field":            {exchange{method: "GET", path: connPath, key: "k", status: 200, body: with(without(connection(), "serverUrl"), "server_url", "https://x")}, "server"},
		"undocumented field":       {exchange{method: "GET", path: connPath, key: "k", status: 200, body: with(connection(), "extra", 1)}, "extra"},
		"secret in the answer":     {exchange{method: "GET", path: connPath, key: "k", status: 200, body: with(connection(), "bearerToken", "s3cret")}, "bearerToken"},
		"value outside its enum":   {exchange{method: "GET", path: connPath, key: "k", status: 200, body: with(connection(), "status", "healthy")}, "status"},
		"id not a UUID":            {exchange{method: "GET", path: connPath, key: "k", status: 200, body: with(connection(), "id", "mc1a2b3c")}, "id"},
		"time not RFC 3339":        {exchange{method: "GET", path: connPath, key: "k", status: 200, body: with(connection(), "createdAt", "yesterday")}, "createdAt"},
		"wrong type":               {exchange{method: "GET", path: connPath, key: "k", status: 200, body: with(connection(), "toolCount", "3")}, "toolCount"},
		"null where never null":    {exchange{method: "GET", path: connPath, key: "k", status: 200, body: with(connection(), "name", nil)}, "name"},
		"undocumented status":      {exchange{method: "GET", path: connPath, key: "k", status: 418, body: map[string]any{"error": "teapot"}}, "status is not supported"},
		"wrong error body":         {exchange{method: "GET", path: connPath, key: "k", status: 404, body: map[string]any{"success": false, "error": "MCP connection not found"}}, "success"},
		"envelope missing":         {exchange{method: "GET", path: "/api/mcp/servers/mcp_abc", key: "k", status: 404, body: map[string]any{"error": "MCP server not found"}}, "success"},
		"body on a 204":            {exchange{method: "DELETE", path: connPath, key: "k", status: 204, body: map[string]any{"ok": true}}, "describes none"},
		"not JSON":                 {exchange{method: "GET", path: connPath, key: "k", status: 200, header: http.Header{"Content-Type": {"text/plain"}}, body: "ok"}, "Content-Type"},
		"created without Location": {exchange{method: "POST", path: "/api/mcp-connections", key: "k", reqBody: `{"name":"a","serverUrl":"https://x.example"}`, status: 201, body: connection()}, "Location"},
		"429 without Retry-After":  {exchange{method: "GET", path: connPath, key: "k", status: 429, body: map[string]any{"error": "rate limit exceeded"}}, "Retry-After"},
		"401 without challenge":    {exchange{method: "GET", path: connPath, status: 401, body: map[string]any{"error": "missing API key"}}, "WWW-Authenticate"},
		"accepted unknown field":   {exchange{method: "POST", path: "/api/mcp-connections", key: "k", reqBody: `{"name":"a","serverUrl":"https://x.example","color":"red"}`, status: 201, header: location, body: connection()}, "refuses the request"},
		"accepted without a key":   {exchange{method: "GET", path: connPath, status: 200, body: connection()}, "refuses the request"},
		"accepted a malformed id":  {exchange{method: "GET", path: "/api/mcp-connections/not-a-uuid", key: "k", status: 200, body: connection()}, "refuses the request"},
		"undocumented /api route":  {exchange{method: "GET", path: "/api/widgets", key: "k", status: 200, body: map[string]any{"data": []any{}}}, "document the route"},
		"undocumented method":      {exchange{method: "PUT", path: connPath, key: "k", status: 200, body: connection()}, "not 405"},
	} {
		t.Run(name, func(t *testing.T) {
			err := v.Check(context.Background(), tc.e.build(t))
			if err == nil {
				t.Fatal("Check passed a drifted answer")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check: %v\nwant it to mention %q", err, tc.want)
			}
		})
	}
}

// TestLoadRefusesInvalidDocument: a document that is not valid OpenAPI is
// an error at load, never a validator that passes everything.
func TestLoadRefusesInvalidDocument(t *testing.T) {
	_, err := openapitest.Load([]byte(`{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"$ref":"#/components/responses/Missing"}}}}}}`))
	if err == nil {
		t.Fatal("Load accepted a document with a dangling $ref")
	}
}
