package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/logbuf"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// api calls a test server as one tenant.
type api struct {
	t    *testing.T
	base string
	key  string
}

func newAPI(t *testing.T, s *apitest.Server) *api {
	return &api{t: t, base: s.URL, key: s.APIKey}
}

func (a *api) as(key string) *api {
	return &api{t: a.t, base: a.base, key: key}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends body as is when it is a string, otherwise as JSON.
func (a *api) do(method, path string, body any, headers ...string) *response {
	a.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case io.Reader:
		r = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.key != "" {
		req.Header.Set("Authorization", "Bearer "+a.key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// expect fails the test unless the response has the status, and decodes the
// body into v when v is not nil.
func (r *response) expect(t *testing.T, status int, v any) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
	return r
}

// expectError checks an error response: status, a JSON {"error":...} body
// and a message containing want.
func (r *response) expectError(t *testing.T, status int, want string) {
	t.Helper()
	var body contract.ErrorBody
	r.expect(t, status, &body)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if !strings.Contains(body.Error, want) {
		t.Fatalf("error = %q, want it to contain %q", body.Error, want)
	}
}

func (a *api) create(req any) contract.Connection {
	a.t.Helper()
	var c contract.Connection
	a.do("POST", "/api/mcp-connections", req).expect(a.t, http.StatusCreated, &c)
	return c
}

func ptr[T any](v T) *T { return &v }

// logBuffer collects log output written from the server's goroutines.
type logBuffer struct{ logbuf.Buffer }

// lines decodes each JSON log line.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

func captureLogs() (*logBuffer, apitest.Option) {
	b := &logBuffer{}
	return b, apitest.WithLogger(slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

// assertTokensHidden fails if any of tokens shows in the response bodies,
// in the logs or in the clear in table, which must hold one row, with an
// encrypted token.
func assertTokensHidden(t *testing.T, databaseURL, table string, bodies [][]byte, logs string, tokens ...string) {
	t.Helper()
	for _, b := range bodies {
		for _, tok := range tokens {
			if bytes.Contains(b, []byte(tok)) {
				t.Errorf("response body contains the token: %s", b)
			}
		}
	}
	if logs == "" {
		t.Fatal("no logs captured; the check below would prove nothing")
	}
	for _, tok := range tokens {
		if strings.Contains(logs, tok) {
			t.Errorf("logs contain the token:\n%s", logs)
		}
	}
	db, err := sqlx.Connect("postgres", databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows []string
	if err := db.Select(&rows, `SELECT row_to_json(r)::text FROM `+table+` r`); err != nil {
		t.Fatal(err)
	}
	var raw [][]byte
	if err := db.Select(&raw, `SELECT token_ciphertext FROM `+table+` WHERE token_ciphertext IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(raw) != 1 {
		t.Fatalf("%d rows, %d with a ciphertext; want 1 and 1", len(rows), len(raw))
	}
	for _, tok := range tokens {
		if strings.Contains(rows[0], tok) || bytes.Contains(raw[0], []byte(tok)) {
			t.Errorf("%s holds the token in the clear: %s", table, rows[0])
		}
	}
}

// twoTenants is a client of s's tenant and one of another tenant of s.
func twoTenants(t *testing.T, s *apitest.Server) (a, b *api) {
	t.Helper()
	a = newAPI(t, s)
	_, otherKey := s.NewTenant(t, "other")
	return a, a.as(otherKey)
}
