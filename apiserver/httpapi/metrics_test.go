package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/metrics"
	"github.com/mcpconn/terraform-provider-mcp/internal/promtest"
	"github.com/mcpconn/terraform-provider-mcp/internal/reqid"
)

// TestRequestsAreCounted: requests are counted by route template, never
// by raw path; a panic's 500 and an unmatched path count too.
func TestRequestsAreCounted(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{})
	// no route below touches the store
	r := newEngine(Config{Metrics: m})
	r.GET("/things/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.POST("/boom", func(*gin.Context) { panic("boom") })
	srv := httptest.NewServer(r)
	defer srv.Close()
	scrape := httptest.NewServer(m.Handler())
	defer scrape.Close()

	for _, path := range []string{"/things/id-one", "/things/id-two", "/nothing/here-3", "/healthz"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Post(srv.URL+"/boom", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	s := promtest.Get(t, scrape.URL+metrics.Path)
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"route": "/things/:id", "method": "GET", "code": "204"}, 2},
		{map[string]string{"route": "unmatched", "method": "GET", "code": "404"}, 1},
		{map[string]string{"route": "/healthz", "method": "GET", "code": "200"}, 1},
		{map[string]string{"route": "/boom", "method": "POST", "code": "500"}, 1},
	} {
		if v, _ := s.Value("mcp_api_http_requests_total", c.labels); v != c.want {
			t.Errorf("requests %v: %v, want %v", c.labels, v, c.want)
		}
	}
	for _, raw := range []string{"id-one", "id-two", "here-3"} {
		if strings.Contains(s.Text, raw) {
			t.Errorf("the scrape names the raw path's %q:\n%s", raw, s.Text)
		}
	}
}

// TestRequestIDReachesTheContext: what a handler hands on (checks, the
// gateway) carries the request id, the caller's or a minted one, in its
// context and in the request's header.
func TestRequestIDReachesTheContext(t *testing.T) {
	t.Parallel()
	r := newEngine(Config{})
	var inContext, inHeader string
	r.GET("/seen", func(c *gin.Context) {
		inContext, inHeader = reqid.From(c.Request.Context()), c.Request.Header.Get(reqid.Header)
		c.Status(http.StatusNoContent)
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, sent := range []string{"caller-id-1", "", "not valid!"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/seen", nil)
		if sent != "" {
			req.Header.Set(HeaderRequestID, sent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		echoed := resp.Header.Get(HeaderRequestID)
		if inContext != echoed || inHeader != echoed || echoed == "" {
			t.Errorf("sent %q: echoed %q, handler saw %q in its context and %q in the header; want the echoed id in both",
				sent, echoed, inContext, inHeader)
		}
		if valid := validRequestID(sent); valid != (echoed == sent) {
			t.Errorf("sent %q: echoed %q", sent, echoed)
		}
	}
}
