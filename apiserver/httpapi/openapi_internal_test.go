package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/openapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// everyChecker stands in for the health checkers so that the routes they
// enable exist; no test here calls them.
type everyChecker struct{}

func (everyChecker) CheckConnection(context.Context, uuid.UUID, uuid.UUID) (store.Connection, error) {
	return store.Connection{}, nil
}
func (everyChecker) CheckServer(context.Context, uuid.UUID, string) (store.Server, error) {
	return store.Server{}, nil
}
func (everyChecker) CheckServerInBackground(context.Context, uuid.UUID, string) {}

// documentedOperations is "METHOD /path" for each operation of the OpenAPI document.
func documentedOperations(t *testing.T) []string {
	t.Helper()
	raw, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options":
				ops = append(ops, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(ops)
	return ops
}

var ginParam = regexp.MustCompile(`:([A-Za-z]+)`)

// operational are the routes outside /api that the document describes.
var operational = []string{"/healthz", "/readyz", openapi.Path}

// TestOpenAPIDocumentsEveryRoute: every route of the router under /api,
// and the operational ones, is an operation of the document, under the
// same path template, and every operation is a route. A route added without
// its description fails here, even before a test calls it.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	r := newEngine(Config{Logger: slog.New(slog.DiscardHandler), ConnectionChecker: everyChecker{}, ServerChecker: everyChecker{}})
	var routes []string
	for _, rt := range r.Routes() {
		// the gateway speaks MCP and the status page serves files: neither
		// is an API call the document describes
		if !strings.HasPrefix(rt.Path, "/api/") && !slices.Contains(operational, rt.Path) {
			continue
		}
		routes = append(routes, rt.Method+" "+ginParam.ReplaceAllString(rt.Path, "{$1}"))
	}
	slices.Sort(routes)
	documented := documentedOperations(t)
	for _, rt := range routes {
		if !slices.Contains(documented, rt) {
			t.Errorf("route %s is not in apiserver/openapi/openapi.yaml", rt)
		}
	}
	for _, op := range documented {
		if !slices.Contains(routes, op) {
			t.Errorf("the document describes %s, which the router does not serve", op)
		}
	}
	if len(routes) < 30 {
		t.Errorf("only %d routes found; the router's routes were not all listed: %v", len(routes), routes)
	}
}

// TestOpenAPIServed: /openapi.json needs no key and is the embedded
// document, as JSON.
func TestOpenAPIServed(t *testing.T) {
	srv := httptest.NewServer(newEngine(Config{Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + openapi.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200; body: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	want, _ := openapi.JSON()
	if string(body) != string(want) {
		t.Error("the served document is not openapi.JSON()")
	}
	var doc struct {
		OpenAPI    string `json:"openapi"`
		Components struct {
			SecuritySchemes map[string]struct {
				Type, Scheme string
			} `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	if s := doc.Components.SecuritySchemes["apiKey"]; s.Type != "http" || s.Scheme != "bearer" {
		t.Errorf("security scheme apiKey = %+v, want http bearer (Authorization: Bearer <api key>)", s)
	}
}
