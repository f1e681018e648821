package apitest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recordingTB is a testing.TB that keeps what it is asked to report
// instead of failing the test that uses it.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) reported() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// TestValidatingCatchesDrift is what makes the OpenAPI check worth having:
// a handler whose answer is not what the document says fails the test that
// called it, while the client still gets the answer unchanged.
func TestValidatingCatchesDrift(t *testing.T) {
	v, err := validator()
	if err != nil {
		t.Fatal(err)
	}
	const id = "0c1a2b3c-5678-9abc-def0-1234567890ab"
	for name, tc := range map[string]struct {
		path, answer string
		status       int
		want         string // "" means no report
	}{
		"documented":      {"/api/mcp-connections/" + id, `{"error":"MCP connection not found"}`, 404, ""},
		"drifted body":    {"/api/mcp-connections/" + id, `{"message":"MCP connection not found"}`, 404, "message"},
		"drifted status":  {"/api/mcp-connections/" + id, `{"error":"gone"}`, 410, "status is not supported"},
		"gateway skipped": {"/mcp/servers/mcp_abc", `not checked`, 200, ""},
	} {
		t.Run(name, func(t *testing.T) {
			drifting := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.answer)
			})
			rec := &recordingTB{TB: t}
			srv := httptest.NewServer(validating(rec, v, drifting))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
			req.Header.Set("Authorization", "Bearer k")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			srv.Close() // the check has run once the handler returned
			if resp.StatusCode != tc.status || string(body) != tc.answer {
				t.Errorf("client got %d %s, want the handler's %d %s", resp.StatusCode, body, tc.status, tc.answer)
			}
			got := rec.reported()
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("reported %q for an answer the document describes", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Errorf("reported %q, want one report mentioning %q", got, tc.want)
			}
		})
	}
}
