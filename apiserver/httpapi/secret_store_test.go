package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// TestSecretStoreDown: with Infisical down, writes that carry a new secret
// answer 503 with Retry-After naming the secret store and write nothing;
// reads, lists, PATCHes without a new secret (or resending the same one),
// checks (from the cache) and deletes keep working; /readyz stays 200 and
// says the store is degraded. Once it is back, the cleanup deletes what
// the deletes queued.
func TestSecretStoreDown(t *testing.T) {
	s := apitest.Start(t, apitest.WithSecretBackend(secrets.BackendInfisical), apitest.WithProbes())
	a := newAPI(t, s)
	upstream := mcptest.StartHTTP(t, mcptest.Config{Name: "guarded", BearerToken: "tok-guarded", Tools: true})
	conn := a.create(map[string]any{"name": "guarded", "serverUrl": upstream.URL, "authType": "bearer", "bearerToken": "tok-guarded",
		"headers": map[string]string{"X-Api-Key": "k1"}})
	if n := len(s.Infisical.Secrets()); n != 2 {
		t.Fatalf("Infisical holds %d secrets after the create, want the token and the headers", n)
	}

	var ready struct {
		Status      string `json:"status"`
		SecretStore struct{ Backend, Status string }
	}
	a.do("GET", "/readyz", nil).expect(t, http.StatusOK, &ready)
	if ready.SecretStore.Backend != "infisical" || ready.SecretStore.Status != "ok" {
		t.Fatalf("/readyz with Infisical up: %+v", ready)
	}

	s.Infisical.SetDown(true)

	a.do("GET", "/readyz", nil).expect(t, http.StatusOK, &ready)
	if ready.Status != "ok" || ready.SecretStore.Status != "degraded" {
		t.Fatalf("/readyz with Infisical down: %+v, want ok and degraded", ready)
	}

	r := a.do("POST", "/api/mcp-connections", map[string]any{"name": "new", "serverUrl": upstream.URL, "authType": "bearer", "bearerToken": "tok-new"})
	r.expectError(t, http.StatusServiceUnavailable, "secret store (infisical) is unavailable")
	if after, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || after < 1 {
		t.Fatalf("Retry-After = %q, want whole seconds", r.header.Get("Retry-After"))
	}
	a.do("PATCH", "/api/mcp-connections/"+conn.ID, map[string]any{"bearerToken": "tok-changed"}).
		expectError(t, http.StatusServiceUnavailable, "secret store (infisical) is unavailable")
	a.do("PATCH", "/api/mcp-connections/"+conn.ID, map[string]any{"headers": map[string]string{"X-Api-Key": "k2"}}).
		expectError(t, http.StatusServiceUnavailable, "secret store (infisical)")

	var page contract.ConnectionList
	a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, &page)
	if len(page.Data) != 1 {
		t.Fatalf("the refused create left a row: %d connections", len(page.Data))
	}
	a.do("GET", "/api/mcp-connections/"+conn.ID, nil).expect(t, http.StatusOK, nil)
	var renamed contract.Connection
	a.do("PATCH", "/api/mcp-connections/"+conn.ID, map[string]any{"name": "renamed", "bearerToken": "tok-guarded",
		"headers": map[string]string{"X-Api-Key": "k1"}}).expect(t, http.StatusOK, &renamed)
	if renamed.Name != "renamed" {
		t.Fatalf("PATCH resending the same secrets: %+v", renamed)
	}

	// The check opens the token and headers from the cache the writes
	// filled: the guarded server lets it in.
	var checked contract.Connection
	a.do("POST", "/api/mcp-connections/"+conn.ID+"/health-check", nil).expect(t, http.StatusOK, &checked)
	if checked.Status != contract.ConnectionActive {
		t.Fatalf("check with Infisical down: %s %v", checked.Status, checked.LastError)
	}

	a.do("DELETE", "/api/mcp-connections/"+conn.ID, nil).expect(t, http.StatusNoContent, nil)
	q, err := s.Store.SecretCleanups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	queuedDone := 0
	for _, e := range q {
		if !e.Pending {
			queuedDone++
		}
	}
	// the names the PATCHes reserved and did not use left the queue
	if queuedDone != len(q) {
		raw, _ := json.Marshal(q)
		t.Fatalf("pending entries are left in the cleanup queue: %s", raw)
	}
	// the two of the deleted row, and the released ones of the three
	// refused writes (their Puts may have reached Infisical)
	if queuedDone != 5 {
		raw, _ := json.Marshal(q)
		t.Fatalf("after the delete the due cleanup entries are %s, want 5", raw)
	}

	s.Infisical.SetDown(false)
	del := func(ctx context.Context, r store.SecretRef) error {
		return s.Secrets.Delete(ctx, secrets.Ref{KeyID: r.KeyID, Data: r.Data})
	}
	if _, err := s.Store.CleanupSecrets(context.Background(), 0, 100, del); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Infisical.Secrets()); n != 0 {
		t.Fatalf("after cleanup Infisical holds %d secrets", n)
	}
}
