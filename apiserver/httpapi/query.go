package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// checkQuery refuses query strings that are not valid UTF-8 or hold a NUL
// character. No stored field can contain either, so such a filter could
// never match; and PostgreSQL rejects such text in a query outright, which
// would otherwise reach the client as a 500.
func checkQuery() gin.HandlerFunc {
	return func(c *gin.Context) {
		raw := c.Request.URL.RawQuery
		if raw == "" {
			c.Next()
			return
		}
		// Malformed escapes are left to each handler, which sees them as
		// absent parameters, the way net/url reads them.
		values, _ := url.ParseQuery(raw)
		for name, vs := range values {
			if !cleanText(name) {
				abortError(c, http.StatusBadRequest, "query parameter names must be valid UTF-8 without NUL characters")
				return
			}
			for _, v := range vs {
				if !cleanText(v) {
					if len(name) > 64 {
						name = name[:64] + "..."
					}
					abortError(c, http.StatusBadRequest, fmt.Sprintf("query parameter %q must be valid UTF-8 without NUL characters", name))
					return
				}
			}
		}
		c.Next()
	}
}

func cleanText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
