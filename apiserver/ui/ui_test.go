package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/ui"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

// wantSecurityHeaders checks what every answer of the page carries.
func wantSecurityHeaders(t *testing.T, path string, resp *http.Response) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Security-Policy": ui.ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s: %s = %q, want %q", path, name, got, want)
		}
	}
}

func TestHandlerServesTheAssets(t *testing.T) {
	h := ui.Handler()
	for path, wantType := range map[string]string{
		"/ui/":          "text/html; charset=utf-8",
		"/ui/app.js":    "text/javascript; charset=utf-8",
		"/ui/style.css": "text/css; charset=utf-8",
	} {
		resp := get(t, h, http.MethodGet, path)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", path, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Type"); got != wantType {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, wantType)
		}
		if len(body) == 0 {
			t.Errorf("GET %s: empty body", path)
		}
		wantSecurityHeaders(t, path, resp)
	}
}

func TestHandlerRedirectsTheBarePrefix(t *testing.T) {
	resp := get(t, ui.Handler(), http.MethodGet, "/ui")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("GET /ui: %d to %q, want 301 to /ui/", resp.StatusCode, resp.Header.Get("Location"))
	}
	wantSecurityHeaders(t, "/ui", resp)
}

func TestHandlerAnswersUnknownPathsWith404(t *testing.T) {
	for _, path := range []string{"/ui/nope.js", "/ui/static/app.js", "/elsewhere"} {
		resp := get(t, ui.Handler(), http.MethodGet, path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
		wantSecurityHeaders(t, path, resp)
	}
}

func TestPolicyForbidsInlineCodeAndFraming(t *testing.T) {
	p := ui.ContentSecurityPolicy
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(p, want) {
			t.Errorf("policy %q lacks %q", p, want)
		}
	}
	for _, never := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(p, never) {
			t.Errorf("policy %q allows %q", p, never)
		}
	}
}

// TestPageLoadsNothingInline keeps index.html within the policy: a script
// or style written into the page would be blocked by the browser, and a
// URL to another host would be a CDN the page must not depend on.
func TestPageLoadsNothingInline(t *testing.T) {
	raw, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	z := html.NewTokenizer(strings.NewReader(string(raw)))
	scripts := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		attrs := map[string]string{}
		for _, a := range tok.Attr {
			attrs[a.Key] = a.Val
			if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
				t.Errorf("<%s> has inline %s=%q", tok.Data, a.Key, a.Val)
			}
			if (a.Key == "src" || a.Key == "href") && strings.Contains(a.Val, ":") {
				t.Errorf("<%s %s=%q> loads from elsewhere", tok.Data, a.Key, a.Val)
			}
		}
		switch tok.Data {
		case "style":
			t.Error("index.html has a <style> element")
		case "script":
			scripts++
			if attrs["src"] == "" {
				t.Error("index.html has an inline <script>")
			}
		}
	}
	if scripts != 1 {
		t.Errorf("index.html has %d scripts, want 1 (app.js)", scripts)
	}
}

// TestScriptNeverWritesMarkup is a guard beside the browser test: record
// data must reach the page as text, so the script has no call that parses
// a string as HTML or code.
func TestScriptNeverWritesMarkup(t *testing.T) {
	raw, err := os.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|createContextualFragment|DOMParser|\.srcdoc|https?://`)
	for i, line := range strings.Split(string(raw), "\n") {
		if m := forbidden.FindString(line); m != "" {
			t.Errorf("app.js:%d uses %s: %s", i+1, m, strings.TrimSpace(line))
		}
	}
}
