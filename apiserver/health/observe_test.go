package health

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/metrics"
	"github.com/mcpconn/terraform-provider-mcp/internal/logbuf"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/promtest"
	"github.com/mcpconn/terraform-provider-mcp/internal/reqid"
)

// TestChecksAreCountedAndTraced: each stored check is counted by kind,
// result and error kind, and its log line names the request that asked for
// it — a scheduled one names none.
func TestChecksAreCountedAndTraced(t *testing.T) {
	e := newEnv(t)
	srv := mcptest.StartHTTP(t, mcptest.Config{Tools: true})
	up := e.create(t, "up", srv.URL, "", nil)
	down := e.create(t, "down", "http://"+mcptest.ClosedAddr(t)+"/mcp", "", nil)
	e.create(t, "sched", srv.URL, "", nil)
	m := metrics.New(metrics.Options{})
	scrape := httptest.NewServer(m.Handler())
	defer scrape.Close()
	var logs logbuf.Buffer
	c, err := NewConnectionChecker(CheckerConfig{Store: e.store, Keyring: e.keyring, Prober: newProber(10 * time.Second),
		Interval: time.Hour, Metrics: m, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.CheckConnection(reqid.With(ctx, "req-up"), e.tenant, up.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CheckConnection(reqid.With(ctx, "req-down"), e.tenant, down.ID); err != nil {
		t.Fatal(err)
	}
	// A scheduled check: of sched, due since its create (the others are
	// due in an hour).
	jobs, err := c.Claim(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Fatalf("claimed %d scheduled checks, want 1", len(jobs))
	}
	for _, job := range jobs {
		job(ctx)
	}
	c.Drain()

	s := promtest.Get(t, scrape.URL+metrics.Path)
	if v, _ := s.Value("mcp_api_checks_total", map[string]string{"kind": "connection", "result": "ok", "error_kind": "none"}); v != float64(1+len(jobs)) {
		t.Errorf("passing connection checks counted: %v, want %d", v, 1+len(jobs))
	}
	if v, _ := s.Value("mcp_api_checks_total", map[string]string{"kind": "connection", "result": "failed", "error_kind": "unreachable"}); v != 1 {
		t.Errorf("unreachable connection checks counted: %v, want 1\n%s", v, s.Text)
	}

	byMsg := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		msg, _ := l["msg"].(string)
		id, _ := l[reqid.Attr].(string)
		byMsg[msg] = append(byMsg[msg], id)
	}
	want := []string{"req-up"}
	for range jobs {
		want = append(want, "") // scheduled: no request
	}
	if got := byMsg["MCP connection check passed"]; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("passing check lines name requests %q, want %q", got, want)
	}
	if got := byMsg["MCP connection check failed"]; len(got) != 1 || got[0] != "req-down" {
		t.Errorf("failing check lines name requests %q, want [req-down]", got)
	}
}
