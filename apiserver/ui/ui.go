// Package ui is the status page at /ui/ (SPEC §12): static HTML, CSS and
// plain JavaScript embedded in the binary, which call the /api endpoints
// from the browser with the API key its user signs in with. Nothing is
// loaded from elsewhere, and the page is served with a Content-Security-
// Policy that forbids anything else, inline script and style included, so
// record data (names, descriptions, errors) can only ever be text.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// Path is where the page is mounted; every asset is under it.
const Path = "/ui/"

// ContentSecurityPolicy allows the page only its own files and calls to its
// own origin: no inline script or style (so injected markup could not run
// or restyle anything even if some were ever parsed), no plugins, no
// framing (clickjacking), no <base> to redirect relative URLs, and forms
// that post nowhere else.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

//go:embed static
var static embed.FS

// Handler serves the page: Path is index.html, the assets are beside it,
// and the bare prefix without its slash redirects to Path. Any other path
// under Path is a 404. Every answer carries the security headers, 404s and
// redirects included.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		// the directory is embedded above: only a broken build gets here
		panic("ui: embedded assets missing: " + err.Error())
	}
	assets := http.StripPrefix(strings.TrimSuffix(Path, "/"), http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		// a new binary brings new assets: the browser revalidates each time
		// (they are small) rather than mixing an old script with a new page
		h.Set("Cache-Control", "no-cache")
		if r.URL.Path == strings.TrimSuffix(Path, "/") {
			http.Redirect(w, r, Path, http.StatusMovedPermanently)
			return
		}
		if !strings.HasPrefix(r.URL.Path, Path) {
			http.NotFound(w, r)
			return
		}
		assets.ServeHTTP(w, r)
	})
}
