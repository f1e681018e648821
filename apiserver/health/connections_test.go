package health

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

func TestCheckConnectionPassAndFail(t *testing.T) {
	e := newEnv(t)
	const token = "tok-9f8e7d6c5b4a"
	srv := mcptest.StartHTTP(t, mcptest.Config{Instructions: "Use the order tools.", BearerToken: token, Tools: true})
	conn := e.create(t, "orders", srv.URL, token, e.keyring)
	const interval = 90 * time.Second
	c := e.checker(t, e.store, newProber(10*time.Second), interval)
	ctx := context.Background()

	pass, err := c.CheckConnection(ctx, e.tenant, conn.ID)
	if err != nil {
		t.Fatalf("CheckConnection: %v", err)
	}
	if pass.Status != "active" || pass.LastError != nil {
		t.Fatalf("passing check stored status %q, lastError %v", pass.Status, deref(pass.LastError))
	}
	if pass.Instructions == nil || *pass.Instructions != "Use the order tools." {
		t.Fatalf("passing check stored instructions %v", deref(pass.Instructions))
	}
	if pass.LastHealthCheckAt == nil || !pass.LastHealthCheckAt.Equal(pass.UpdatedAt) {
		t.Fatalf("lastHealthCheckAt %v, updatedAt %v; want equal", pass.LastHealthCheckAt, pass.UpdatedAt)
	}
	if !pass.NextCheckAt.Equal(pass.LastHealthCheckAt.Add(interval)) {
		t.Fatalf("next_check_at %v, want the check time plus %s", pass.NextCheckAt, interval)
	}
	if stored := e.get(t, conn.ID); !stored.UpdatedAt.Equal(pass.UpdatedAt) || stored.Status != "active" {
		t.Fatalf("CheckConnection returned %+v but the store has %+v", pass, stored)
	}
	// The token was decrypted and sent (the server answers 401 without it).
	var sawToken bool
	for _, r := range srv.Requests() {
		sawToken = sawToken || r.Authorization == "Bearer "+token
	}
	if !sawToken {
		t.Fatalf("the MCP server never saw the bearer token; requests: %+v", srv.Requests())
	}

	// A manual check is the scheduled one: nothing is due now.
	if jobs, err := c.Claim(ctx, 10); err != nil || len(jobs) != 0 {
		t.Fatalf("Claim after a manual check = %d jobs, %v; want none due", len(jobs), err)
	}

	srv.HTTP.Close()
	fail, err := c.CheckConnection(ctx, e.tenant, conn.ID)
	if err != nil {
		t.Fatalf("a failing check must not be an error, got %v", err)
	}
	if fail.Status != "error" || fail.LastError == nil || *fail.LastError == "" {
		t.Fatalf("failing check stored status %q, lastError %v", fail.Status, deref(fail.LastError))
	}
	if strings.Contains(*fail.LastError, token) {
		t.Fatalf("lastError %q contains the token", *fail.LastError)
	}
	if fail.Instructions == nil || *fail.Instructions != "Use the order tools." {
		t.Fatalf("a failing check must keep the last known instructions, got %v", deref(fail.Instructions))
	}
	if !fail.LastHealthCheckAt.Equal(fail.UpdatedAt) || fail.UpdatedAt.Before(pass.UpdatedAt) || !fail.NextCheckAt.Equal(fail.UpdatedAt.Add(interval)) {
		t.Fatalf("failing check: lastHealthCheckAt %v, updatedAt %v, next %v", fail.LastHealthCheckAt, fail.UpdatedAt, fail.NextCheckAt)
	}
}

func TestCheckConnectionWrongToken(t *testing.T) {
	e := newEnv(t)
	srv := mcptest.StartHTTP(t, mcptest.Config{BearerToken: "right"})
	conn := e.create(t, "c", srv.URL, "wrong", e.keyring)
	c := e.checker(t, e.store, newProber(10*time.Second), time.Minute)

	got, err := c.CheckConnection(context.Background(), e.tenant, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "error" || got.LastError == nil || !strings.Contains(strings.ToLower(*got.LastError), "unauthorized") && !strings.Contains(*got.LastError, "401") {
		t.Fatalf("a rejected token stored status %q, lastError %v; want an error that says the server refused the credentials", got.Status, deref(got.LastError))
	}
}

func TestCheckConnectionUndecryptableToken(t *testing.T) {
	e := newEnv(t)
	srv := mcptest.StartHTTP(t, mcptest.Config{})
	otherKey := make([]byte, secrets.KeySize)
	for i := range otherKey {
		otherKey[i] = byte(i + 1)
	}
	other, err := secrets.NewKeyring(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	c := e.checker(t, e.store, newProber(10*time.Second), time.Minute)

	tests := []struct {
		name string
		conn func() store.Connection
		want string
	}{
		// The server runs with a key that is not the one that sealed the token.
		{"unknown key", func() store.Connection { return e.create(t, "unknown-key", srv.URL, "tok-abc", other) }, "MCP_API_SECRET_KEY_PREVIOUS"},
		// The ciphertext names our key but does not open with it.
		{"does not authenticate", func() store.Connection {
			conn := e.create(t, "altered", srv.URL, "tok-abc", e.keyring)
			conn, err := e.store.UpdateConnection(context.Background(), e.tenant, conn.ID, func(c *store.Connection) error {
				c.TokenCiphertext[len(c.TokenCiphertext)-1] ^= 0xff
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return conn
		}, "MCP_API_SECRET_KEY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn := tc.conn()
			before := len(srv.Requests())
			got, err := c.CheckConnection(context.Background(), e.tenant, conn.ID)
			if err != nil {
				t.Fatalf("an undecryptable token must be a failed check, not an error: %v", err)
			}
			if got.Status != "error" || got.LastError == nil || !strings.Contains(*got.LastError, tc.want) || !strings.Contains(*got.LastError, "bearerToken") {
				t.Fatalf("status %q, lastError %v; want an error naming %s and how to fix it", got.Status, deref(got.LastError), tc.want)
			}
			for _, secret := range []string{base64.StdEncoding.EncodeToString(otherKey), secrets.KeyID(otherKey), e.keyring.CurrentKeyID(), "tok-abc"} {
				if strings.Contains(*got.LastError, secret) {
					t.Fatalf("lastError %q reveals key material or the token", *got.LastError)
				}
			}
			if n := len(srv.Requests()); n != before {
				t.Fatalf("the server got %d requests; a token that cannot be decrypted must not be probed with", n-before)
			}
		})
	}
}

func TestCheckConnectionNotFound(t *testing.T) {
	e := newEnv(t)
	srv := mcptest.StartHTTP(t, mcptest.Config{})
	conn := e.create(t, "c", srv.URL, "", nil)
	c := e.checker(t, e.store, newProber(10*time.Second), time.Minute)

	if _, err := c.CheckConnection(context.Background(), uuid.New(), conn.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant's connection = %v, want store.ErrNotFound", err)
	}
	if _, err := c.CheckConnection(context.Background(), e.tenant, uuid.New()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a missing connection = %v, want store.ErrNotFound", err)
	}
	if len(srv.Requests()) != 0 {
		t.Fatal("a check of a record the caller cannot see reached its server")
	}
}

// A PATCH that changes the endpoint while the old one is being probed: the
// old result must not be stored over the new endpoint; the new one is checked.
func TestCheckConnectionEndpointChangesDuringCheck(t *testing.T) {
	e := newEnv(t)
	c := e.checker(t, e.store, newProber(10*time.Second), time.Minute)
	newSrv := mcptest.StartHTTP(t, mcptest.Config{Instructions: "new endpoint"})

	oldMCP := mcptest.NewServer(mcptest.Config{Instructions: "old endpoint"})
	oldHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return oldMCP }, &mcp.StreamableHTTPOptions{Stateless: true})
	var id uuid.UUID
	var patchOnce sync.Once
	patchErr := make(chan error, 1)
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		patchOnce.Do(func() {
			_, err := e.store.UpdateConnection(r.Context(), e.tenant, id, func(c *store.Connection) error {
				c.ServerURL, c.Status, c.Instructions, c.LastHealthCheckAt = newSrv.URL, "unknown", nil, nil
				return nil
			})
			patchErr <- err
		})
		oldHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(old.Close)
	id = e.create(t, "moving", old.URL+"/mcp", "", nil).ID

	got, err := c.CheckConnection(context.Background(), e.tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-patchErr; err != nil {
		t.Fatalf("the concurrent PATCH failed: %v", err)
	}
	if got.ServerURL != newSrv.URL || got.Instructions == nil || *got.Instructions != "new endpoint" || got.Status != "active" {
		t.Fatalf("after a PATCH during the check: url %s, status %s, instructions %v; want the new endpoint's result",
			got.ServerURL, got.Status, deref(got.Instructions))
	}
	if len(newSrv.Requests()) == 0 {
		t.Fatal("the new endpoint was never checked")
	}
}

// A caller that gives up (an HTTP client that hangs up) must not have its
// cut-short probe stored as the server's failure.
func TestCheckConnectionCallerGivesUp(t *testing.T) {
	e := newEnv(t)
	hung := mcptest.StartHung(t)
	conn := e.create(t, "slow", hung.URL, "", nil)
	c := e.checker(t, e.store, newProber(time.Minute), time.Minute)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitFor(t, "the probe to reach the server", func() bool { return len(hung.Requests()) > 0 })
		cancel()
	}()
	if _, err := c.CheckConnection(ctx, e.tenant, conn.ID); !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckConnection after the caller gave up = %v, want context.Canceled", err)
	}
	if got := e.get(t, conn.ID); got.Status != "unknown" || got.LastHealthCheckAt != nil || !got.UpdatedAt.Equal(conn.UpdatedAt) {
		t.Fatalf("an abandoned check was stored: %+v", got)
	}
}

func TestNewCheckerValidates(t *testing.T) {
	e := newEnv(t)
	p := newProber(10 * time.Second)
	tests := []struct {
		name string
		cfg  CheckerConfig
		want string
	}{
		{"no store", CheckerConfig{Keyring: e.keyring, Prober: p}, "required"},
		{"negative interval", CheckerConfig{Store: e.store, Keyring: e.keyring, Prober: p, Interval: -time.Second}, "negative"},
		{"sub-millisecond interval", CheckerConfig{Store: e.store, Keyring: e.keyring, Prober: p, Interval: time.Microsecond}, "at least 1ms"},
		{"lease too short", CheckerConfig{Store: e.store, Keyring: e.keyring, Prober: p, Lease: 15 * time.Second}, "must exceed twice the probe timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewConnectionChecker(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewConnectionChecker = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	c, err := NewConnectionChecker(CheckerConfig{Store: e.store, Keyring: e.keyring, Prober: p})
	if err != nil {
		t.Fatal(err)
	}
	if c.interval != DefaultInterval || c.lease != 2*p.Timeout()+leaseMargin {
		t.Fatalf("defaults: interval %s, lease %s", c.interval, c.lease)
	}
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
