package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
)

// TestQueryMustBeCleanText: PostgreSQL cannot compare text with NUL or
// invalid UTF-8, so such filters are a 400 naming the parameter in every
// family, never a 500.
func TestQueryMustBeCleanText(t *testing.T) {
	t.Parallel()
	a := newAPI(t, apitest.Start(t))
	for _, path := range []string{"/api/mcp-connections", "/api/mcp/servers", "/api/projects"} {
		for _, q := range []string{"name=%00", "name=a%ffb", "limit=5&name=%C3%28"} {
			r := a.do("GET", path+"?"+q, nil)
			r.expect(t, http.StatusBadRequest, nil)
			if want := `query parameter \"name\" must be valid UTF-8 without NUL characters`; !strings.Contains(string(r.body), want) {
				t.Errorf("GET %s?%s: %s, want it to say %s", path, q, r.body, want)
			}
		}
		a.do("GET", path+"?%ff=1", nil).expect(t, http.StatusBadRequest, nil)
		a.do("GET", path+"?name=Caf%C3%A9", nil).expect(t, http.StatusOK, nil)
	}
}
