package ui_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/ui"
)

// TestAPIServesThePage checks the mount in the API's router: the page
// needs no key, the bare prefix redirects, HEAD works, and the headers
// survive the router's middleware.
func TestAPIServesThePage(t *testing.T) {
	s := apitest.Start(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		method, path string
		status       int
		location     string
		body         string
	}{
		{"GET", "/ui/", http.StatusOK, "", `<script src="app.js" defer></script>`},
		{"HEAD", "/ui/", http.StatusOK, "", ""},
		{"GET", "/ui/app.js", http.StatusOK, "", "sessionStorage"},
		{"GET", "/ui", http.StatusMovedPermanently, "/ui/", ""},
		{"GET", "/ui/missing.css", http.StatusNotFound, "", ""},
	} {
		req, err := http.NewRequest(tc.method, s.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		if got := resp.Header.Get("Location"); got != tc.location {
			t.Errorf("%s %s: Location %q, want %q", tc.method, tc.path, got, tc.location)
		}
		if !strings.Contains(string(body), tc.body) {
			t.Errorf("%s %s: body lacks %q", tc.method, tc.path, tc.body)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != ui.ContentSecurityPolicy {
			t.Errorf("%s %s: Content-Security-Policy %q", tc.method, tc.path, got)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s: X-Content-Type-Options %q", tc.method, tc.path, got)
		}
	}
}
