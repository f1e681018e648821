package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

func withRateLimit(perSecond float64, burst int) apitest.Option {
	return apitest.WithConfig(func(_ *apitest.Server, cfg *httpapi.Config) {
		cfg.RateLimit, cfg.RateBurst = perSecond, burst
	})
}

// TestRateLimit uses a rate so low (one request per 100s) that no token
// comes back while the test runs, whatever the machine's speed.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, withRateLimit(0.01, 2))
	a := newAPI(t, s)

	a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, nil)
	a.create(map[string]any{"name": "n", "serverUrl": "https://a.example/mcp"})
	r := a.do("GET", "/api/mcp-connections", nil)
	r.expectError(t, http.StatusTooManyRequests, "rate limit exceeded: 0.01 requests per second per tenant; retry after 100s")
	if got := r.header.Get("Retry-After"); got != "100" {
		t.Errorf("Retry-After = %q, want 100", got)
	}

	// the budget is the tenant's, not the server's
	_, otherKey := s.NewTenant(t, "other")
	a.as(otherKey).do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, nil)
	// a bad key is refused as such, not counted against anyone
	a.as("not-a-key").do("GET", "/api/mcp-connections", nil).expectError(t, http.StatusUnauthorized, "invalid API key")
	// probes are not rate limited
	a.do("GET", "/healthz", nil).expect(t, http.StatusOK, nil)
	a.do("GET", "/readyz", nil).expect(t, http.StatusOK, nil)
}

func TestRateLimitOffByDefault(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a := newAPI(t, s)
	for range 50 {
		a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, nil)
	}
}

// TestClientHonoursRateLimit drives the real client against a server that
// allows one request per two seconds: calls in quick succession get 429s,
// and the client, waiting as Retry-After says, still completes every call.
func TestClientHonoursRateLimit(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, withRateLimit(0.5, 1))
	var mu sync.Mutex
	statuses := map[int]int{}
	c, err := client.New(s.URL, s.APIKey, client.WithLogger(func(_ context.Context, msg string, fields map[string]any) {
		if status, ok := fields["status"].(int); ok {
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		// creates are not idempotent: the client may repeat them only
		// because a 429 is answered before anything is done
		conn, err := c.CreateConnection(ctx, contract.CreateConnectionRequest{
			Name: fmt.Sprintf("n%d", i), ServerURL: "https://a.example/mcp",
		})
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		ids = append(ids, conn.ID)
	}
	mu.Lock()
	defer mu.Unlock()
	if statuses[http.StatusTooManyRequests] == 0 || statuses[http.StatusCreated] != 3 {
		t.Fatalf("responses by status: %v; want 3 creates and at least one 429 on the way", statuses)
	}
	// each create happened exactly once (read past the API, which is still limiting)
	rows, _, err := s.Store.ListConnections(ctx, store.ListConnectionsParams{TenantID: s.TenantID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(ids) {
		t.Fatalf("%d connections stored, want %d", len(rows), len(ids))
	}
	for i, row := range rows {
		if row.ID.String() != ids[i] {
			t.Errorf("row %d is %s, want %s", i, row.ID, ids[i])
		}
	}
}
