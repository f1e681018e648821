package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/mcpconn/terraform-provider-mcp/internal/logbuf"
)

func TestPanicRecovery(t *testing.T) {
	t.Parallel()
	logs := &logbuf.Buffer{}
	// no route below touches the store
	r := newEngine(Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	r.POST("/boom", func(c *gin.Context) {
		panic("db password is hunter2")
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/boom", strings.NewReader(`{"bearerToken":"tok-in-body"}`))
	req.Header.Set("X-Request-Id", "panic-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || string(body) != `{"error":"internal error"}` {
		t.Fatalf("got %d %s, want 500 {\"error\":\"internal error\"}", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Request-Id") != "panic-1" {
		t.Errorf("X-Request-Id = %q", resp.Header.Get("X-Request-Id"))
	}

	out := logs.String()
	for _, want := range []string{`"msg":"panic in handler"`, `"request_id":"panic-1"`, "hunter2", `"stack":`, `"status":500`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "tok-in-body") {
		t.Errorf("log contains the request body:\n%s", out)
	}

	// the server keeps serving
	resp, err = http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after panic: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestValidRequestID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"abc":                                  true,
		"7f0c1e2a-0000-4000-8000-000000000000": true,
		"a.b_c:d-e":                            true,
		"":                                     false,
		strings.Repeat("x", 128):               true,
		strings.Repeat("x", 129):               false,
		"a b":                                  false,
		"a\r\nb":                               false,
		"a/b":                                  false,
	} {
		if got := validRequestID(id); got != want {
			t.Errorf("validRequestID(%q) = %v, want %v", id, got, want)
		}
	}
}
