package metrics_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/metrics"
	"github.com/mcpconn/terraform-provider-mcp/internal/promtest"
)

func serve(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	return srv.URL + metrics.Path
}

func value(t *testing.T, s promtest.Scrape, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok := s.Value(name, labels)
	if !ok {
		t.Fatalf("no sample %s%v in the scrape:\n%s", name, labels, s.Text)
	}
	return v
}

func TestSeriesMove(t *testing.T) {
	m := metrics.New(metrics.Options{})
	url := serve(t, m)
	before := promtest.Get(t, url)
	// Every check and gateway series exists from the start, at zero, so
	// that rate() and alerts see the first failure.
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"mcp_api_checks_total", map[string]string{"kind": "server", "result": "failed", "error_kind": "timeout"}},
		{"mcp_api_checks_total", map[string]string{"kind": "connection", "result": "ok", "error_kind": "none"}},
		{"mcp_api_gateway_calls_total", map[string]string{"endpoint": "agent", "method": "prompts/get", "outcome": "blocked"}},
	} {
		if v := value(t, before, c.name, c.labels); v != 0 {
			t.Errorf("%s%v = %v before anything happened", c.name, c.labels, v)
		}
	}

	m.ObserveHTTP("/api/mcp-connections/:id", http.MethodGet, 200, 3*time.Millisecond)
	m.ObserveHTTP("/api/mcp-connections/:id", http.MethodGet, 200, 3*time.Millisecond)
	m.ObserveHTTP("/api/mcp-connections/:id", http.MethodGet, 404, time.Millisecond)
	m.ObserveHTTP("", "BREW", 404, time.Millisecond)
	m.ObserveCheck("connection", true, "", 20*time.Millisecond)
	m.ObserveCheck("server", false, "timeout", 10*time.Second)
	m.ObserveCheck("server", false, "something new", time.Second)
	m.ObserveCall("server", "tools/call", "ok", 5*time.Millisecond)
	m.ObserveCall("agent", "tools/call", "unavailable", time.Millisecond)
	m.ObserveCall("agent", "tools/list", "ok", time.Millisecond) // not an audited method: not counted

	after := promtest.Get(t, url)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"mcp_api_http_requests_total", map[string]string{"route": "/api/mcp-connections/:id", "method": "GET", "code": "200"}, 2},
		{"mcp_api_http_requests_total", map[string]string{"route": "/api/mcp-connections/:id", "method": "GET", "code": "404"}, 1},
		{"mcp_api_http_requests_total", map[string]string{"route": "unmatched", "method": "other", "code": "404"}, 1},
		{"mcp_api_http_request_duration_seconds", map[string]string{"route": "/api/mcp-connections/:id", "method": "GET"}, 3},
		{"mcp_api_checks_total", map[string]string{"kind": "connection", "result": "ok", "error_kind": "none"}, 1},
		{"mcp_api_checks_total", map[string]string{"kind": "server", "result": "failed", "error_kind": "timeout"}, 1},
		{"mcp_api_checks_total", map[string]string{"kind": "server", "result": "failed", "error_kind": "other"}, 1},
		{"mcp_api_check_duration_seconds", map[string]string{"kind": "server", "result": "failed"}, 2},
		{"mcp_api_gateway_calls_total", map[string]string{"endpoint": "server", "method": "tools/call", "outcome": "ok"}, 1},
		{"mcp_api_gateway_calls_total", map[string]string{"endpoint": "agent", "method": "tools/call", "outcome": "unavailable"}, 1},
		{"mcp_api_gateway_call_duration_seconds", map[string]string{"endpoint": "server", "method": "tools/call", "outcome": "ok"}, 1},
	} {
		if got := value(t, after, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Unknown values fold into "other" instead of making new series.
	for _, bad := range []string{"BREW", "something new", "tools/list"} {
		if strings.Contains(after.Text, bad) {
			t.Errorf("the scrape names %q, which is not a known label value:\n%s", bad, after.Text)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if !after.Has(name) {
			t.Errorf("the Go and process collectors' %s is missing", name)
		}
	}
}

func TestStoreSeries(t *testing.T) {
	var grace time.Duration
	m := metrics.New(metrics.Options{
		DBStats: func() sql.DBStats {
			return sql.DBStats{OpenConnections: 5, InUse: 2, Idle: 3, MaxOpenConnections: 20, WaitCount: 7, WaitDuration: 1500 * time.Millisecond}
		},
		Overdue: func(_ context.Context, g time.Duration) (int64, int64, error) {
			grace = g
			return 4, 1, nil
		},
	})
	s := promtest.Get(t, serve(t, m))
	for name, want := range map[string]float64{
		"mcp_api_db_open_connections": 5, "mcp_api_db_in_use_connections": 2, "mcp_api_db_idle_connections": 3,
		"mcp_api_db_max_open_connections": 20, "mcp_api_db_wait_count_total": 7, "mcp_api_db_wait_duration_seconds_total": 1.5,
	} {
		if got := value(t, s, name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := value(t, s, "mcp_api_checks_overdue", map[string]string{"kind": "connection"}); got != 4 {
		t.Errorf("connections overdue = %v, want 4", got)
	}
	if got := value(t, s, "mcp_api_checks_overdue", map[string]string{"kind": "server"}); got != 1 {
		t.Errorf("servers overdue = %v, want 1", got)
	}
	if grace != metrics.OverdueGrace {
		t.Errorf("overdue counted with grace %s, want %s", grace, metrics.OverdueGrace)
	}
}

// TestOverdueFailureServesTheRest: a database that is down costs the
// scrape its overdue series, not the others, and the reason is logged.
func TestOverdueFailureServesTheRest(t *testing.T) {
	var logs bytes.Buffer
	m := metrics.New(metrics.Options{
		Overdue: func(context.Context, time.Duration) (int64, int64, error) {
			return 0, 0, errors.New("database unavailable")
		},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	s := promtest.Get(t, serve(t, m))
	if s.Has("mcp_api_checks_overdue") {
		t.Errorf("overdue series served although counting failed:\n%s", s.Text)
	}
	if !s.Has("mcp_api_checks_total") || !s.Has("go_goroutines") {
		t.Errorf("the other series are missing:\n%s", s.Text)
	}
	if !strings.Contains(logs.String(), "database unavailable") {
		t.Errorf("the failure is not logged: %q", logs.String())
	}
}

func TestOnlyGETMetrics(t *testing.T) {
	url := serve(t, metrics.New(metrics.Options{}))
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST %s: %s, want 405", metrics.Path, resp.Status)
	}
	resp, err = http.Get(strings.TrimSuffix(url, metrics.Path) + "/api/mcp-connections")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the metrics listener serves more than %s: %s", metrics.Path, resp.Status)
	}
}

// BenchmarkObserveHTTP: the per-request cost on the API's hot path, once a
// route's series exist — no allocation.
func BenchmarkObserveHTTP(b *testing.B) {
	m := metrics.New(metrics.Options{})
	m.ObserveHTTP("/mcp/servers/:id", http.MethodPost, 200, time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveHTTP("/mcp/servers/:id", http.MethodPost, 200, time.Millisecond)
	}
}

func TestObserveAllocatesNothing(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.ObserveHTTP("/mcp/servers/:id", http.MethodPost, 200, time.Millisecond)
	for name, f := range map[string]func(){
		"ObserveHTTP":  func() { m.ObserveHTTP("/mcp/servers/:id", http.MethodPost, 200, time.Millisecond) },
		"ObserveCheck": func() { m.ObserveCheck("server", false, "auth", time.Millisecond) },
		"ObserveCall":  func() { m.ObserveCall("agent", "tools/call", "ok", time.Millisecond) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %v times per call, want 0", name, n)
		}
	}
}
