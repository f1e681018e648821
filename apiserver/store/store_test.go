package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// newStore opens a migrated store on a fresh database.
func newStore(t *testing.T) *Store {
	t.Helper()
	s := openStore(t, pgtest.NewDatabase(t))
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func openStore(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openUnreachableStore is a store whose database is a port nothing listens
// on: one we just released.
func openUnreachableStore(t *testing.T) *Store {
	t.Helper()
	return openStore(t, "postgres://postgres@"+mcptest.ClosedAddr(t)+"/db?sslmode=disable")
}

// newTenantStore is a new store with one tenant named name, for the tests
// of one tenant's records.
func newTenantStore(t *testing.T, name string) (context.Context, *Store, uuid.UUID) {
	t.Helper()
	s := newStore(t)
	return context.Background(), s, newTenant(t, s, name)
}

// newTwoTenantStore is a new store with two tenants, named a and b.
func newTwoTenantStore(t *testing.T) (context.Context, *Store, uuid.UUID, uuid.UUID) {
	t.Helper()
	ctx, s, a := newTenantStore(t, "a")
	return ctx, s, a, newTenant(t, s, "b")
}

func newTenant(t *testing.T, s *Store, name string) uuid.UUID {
	t.Helper()
	tenant, err := s.CreateTenant(context.Background(), name)
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	return tenant.ID
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newConn creates a connection without a token.
func newConn(t *testing.T, s *Store, tenantID uuid.UUID, name string) Connection {
	t.Helper()
	c := Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenantID}, Name: name, ServerURL: "https://mcp.example.com/" + name, AuthType: "none"}
	if err := s.CreateConnection(context.Background(), &c); err != nil {
		t.Fatalf("CreateConnection(%s): %v", name, err)
	}
	return c
}

func isMillis(t time.Time) bool { return t.Equal(t.Truncate(time.Millisecond)) }

func TestOpenValidatesURL(t *testing.T) {
	tests := []struct{ name, url, want string }{
		{"empty", "", "database URL is empty"},
		{"bad port", "postgres://u:hunter2pw@localhost:notaport/db", `invalid port ":notaport"`},
		{"other scheme", "mysql://u:hunter2pw@localhost/db", `its scheme is "mysql"`},
		{"not a DSN", "hunter2pw", "expected key=value pairs"},
		{"bad sslmode", "host=localhost password=hunter2pw sslmode=maybe", `wrong value for "sslmode"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(tc.url)
			if err == nil {
				_ = s.Close()
				t.Fatal("Open accepted a malformed database URL")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2pw") {
				t.Fatalf("Open error %q leaks the password", err)
			}
		})
	}
}

func TestOpenDoesNotNeedTheDatabase(t *testing.T) {
	s := openUnreachableStore(t)
	if err := s.Ping(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ping with nothing listening = %v, want ErrUnavailable", err)
	}
	if _, err := s.TenantForKey(context.Background(), hash("k")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("TenantForKey with nothing listening = %v, want ErrUnavailable", err)
	}
}

func TestUnavailableWhenServerHangs(t *testing.T) {
	// A server that accepts TCP and then says nothing.
	silent := mcptest.StartTCP(t, func(net.Conn) {})
	s := openStore(t, "postgres://postgres@"+silent+"/db?sslmode=disable&connect_timeout=1")
	if err := s.Ping(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ping against a silent server = %v, want ErrUnavailable", err)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const replicas = 5
	stores := make([]*Store, replicas)
	for i := range stores {
		stores[i] = openStore(t, url)
	}
	errs := make(chan error, replicas)
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Go(func() { errs <- s.Migrate(context.Background()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	var applied []int64
	if err := stores[0].db.Select(&applied, `SELECT version_id FROM goose_db_version WHERE version_id > 0 ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if want := embeddedVersions(t); !slices.Equal(applied, want) {
		t.Fatalf("applied migrations = %v, want %v, each exactly once", applied, want)
	}
	if err := stores[1].Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate on an up-to-date database: %v", err)
	}
	// The schema works.
	newConn(t, stores[2], newTenant(t, stores[3], "t"), "c")
}

func TestTenantsAndKeys(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()

	tenant, err := s.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if tenant.ID == uuid.Nil || tenant.Name != "acme" || tenant.CreatedAt.IsZero() || !isMillis(tenant.CreatedAt) || tenant.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreateTenant = %+v", tenant)
	}
	if _, err := s.CreateTenant(ctx, " "); err == nil {
		t.Fatal("CreateTenant accepted a blank name")
	}

	if err := s.CreateAPIKey(ctx, tenant.ID, hash("key-1")); err != nil {
		t.Fatal(err)
	}
	got, err := s.TenantForKey(ctx, hash("key-1"))
	if err != nil || got != tenant.ID {
		t.Fatalf("TenantForKey = %v, %v; want %v", got, err, tenant.ID)
	}
	if _, err := s.TenantForKey(ctx, hash("key-2")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("TenantForKey(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.CreateAPIKey(ctx, uuid.New(), hash("key-3")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CreateAPIKey(unknown tenant) = %v, want ErrNotFound", err)
	}
	if err := s.CreateAPIKey(ctx, tenant.ID, hash("key-1")); err == nil || errors.Is(err, ErrUnavailable) {
		t.Fatalf("CreateAPIKey(duplicate hash) = %v, want a plain error", err)
	}

	if _, err := s.db.Exec(`UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1`, hash("key-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TenantForKey(ctx, hash("key-1")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("TenantForKey(revoked) = %v, want ErrNotFound", err)
	}
}

func TestEnsureTenantWithKey(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()

	id, created, err := s.EnsureTenantWithKey(ctx, "default", hash("boot"))
	if err != nil || !created || id == uuid.Nil {
		t.Fatalf("first EnsureTenantWithKey = %v, %v, %v", id, created, err)
	}
	again, created, err := s.EnsureTenantWithKey(ctx, "default", hash("boot"))
	if err != nil || created || again != id {
		t.Fatalf("second EnsureTenantWithKey = %v, %v, %v; want %v, false", again, created, err, id)
	}
	if got, err := s.TenantForKey(ctx, hash("boot")); err != nil || got != id {
		t.Fatalf("TenantForKey(bootstrap key) = %v, %v", got, err)
	}

	// Replicas starting together with a new key.
	const replicas = 8
	type result struct {
		id      uuid.UUID
		created bool
		err     error
	}
	results := make(chan result, replicas)
	var wg sync.WaitGroup
	for range replicas {
		wg.Go(func() {
			id, created, err := s.EnsureTenantWithKey(ctx, "default", hash("race"))
			results <- result{id, created, err}
		})
	}
	wg.Wait()
	close(results)
	var ids []uuid.UUID
	creators := 0
	for r := range results {
		if r.err != nil {
			t.Fatalf("concurrent EnsureTenantWithKey: %v", r.err)
		}
		ids = append(ids, r.id)
		if r.created {
			creators++
		}
	}
	if creators != 1 {
		t.Fatalf("%d callers report creating the tenant, want 1", creators)
	}
	for _, got := range ids {
		if got != ids[0] {
			t.Fatalf("callers disagree on the tenant: %v", ids)
		}
	}
	var tenants int
	if err := s.db.Get(&tenants, `SELECT count(*) FROM tenants`); err != nil {
		t.Fatal(err)
	}
	if tenants != 2 {
		t.Fatalf("%d tenants exist, want 2 (losers must roll their tenant back)", tenants)
	}
}

func TestConnectionCRUD(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")

	keyID := "0123456789abcdef"
	c := Connection{
		Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Name: "Order Management System", ServerURL: "https://mcp.example.com/oms",
		AuthType: "bearer", SealedToken: SealedToken{TokenCiphertext: []byte{1, 2, 3}, TokenKeyID: &keyID},
		// The store decides these on create.
		Health:            Health{Status: "active", Instructions: new("ignored"), LastError: new("ignored")},
		LastHealthCheckAt: new(time.Now()),
	}
	before := time.Now().Add(-time.Second)
	if err := s.CreateConnection(ctx, &c); err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	if c.Status != "unknown" || c.Instructions != nil || c.LastError != nil || c.LastHealthCheckAt != nil {
		t.Fatalf("created connection keeps caller health fields: %+v", c)
	}
	if c.CreatedAt.Before(before) || !c.CreatedAt.Equal(c.UpdatedAt) || !isMillis(c.CreatedAt) || c.CreatedAt.Location() != time.UTC {
		t.Fatalf("created timestamps: created %v updated %v", c.CreatedAt, c.UpdatedAt)
	}
	if c.NextCheckAt.After(c.CreatedAt) {
		t.Fatalf("new connection is not due for a check: next %v created %v", c.NextCheckAt, c.CreatedAt)
	}
	if err := s.CreateConnection(ctx, &Connection{Key: Key[uuid.UUID]{TenantID: tenant}, Name: "no id", ServerURL: "https://x", AuthType: "none"}); err == nil {
		t.Fatal("CreateConnection accepted a connection without an id")
	}

	got, err := s.GetConnection(ctx, tenant, c.ID)
	if err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("GetConnection =\n%+v\nwant\n%+v", got, c)
	}

	checked := time.Now().Add(-time.Hour).Truncate(time.Second).Add(123_456_789).UTC()
	updated, err := s.UpdateConnection(ctx, tenant, c.ID, func(r *Connection) error {
		r.Name = "OMS"
		r.ServerURL = "https://mcp.example.com/v2"
		r.AuthType = "none"
		r.TokenCiphertext, r.TokenKeyID = nil, nil
		r.Status = "active"
		r.Instructions = new("Use this server to look up orders.")
		r.LastHealthCheckAt = &checked
		r.UpdatedAt = checked // ignored: the database clock sets it
		r.NextCheckAt = checked.Add(time.Minute)
		r.ID, r.TenantID, r.CreatedAt = uuid.New(), uuid.New(), time.Time{} // immutable: ignored
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateConnection: %v", err)
	}
	wantChecked := checked.Truncate(time.Millisecond)
	if updated.ID != c.ID || updated.TenantID != tenant || !updated.CreatedAt.Equal(c.CreatedAt) ||
		updated.Name != "OMS" || updated.ServerURL != "https://mcp.example.com/v2" || updated.AuthType != "none" ||
		updated.TokenCiphertext != nil || updated.TokenKeyID != nil || updated.Status != "active" ||
		*updated.Instructions != "Use this server to look up orders." ||
		!updated.LastHealthCheckAt.Equal(wantChecked) || updated.UpdatedAt.Before(c.UpdatedAt) ||
		!updated.NextCheckAt.Equal(wantChecked.Add(time.Minute)) {
		t.Fatalf("UpdateConnection returned %+v", updated)
	}
	stored, err := s.GetConnection(ctx, tenant, c.ID)
	if err != nil || !reflect.DeepEqual(stored, updated) {
		t.Fatalf("stored row differs from the returned one:\n%+v\n%+v (%v)", stored, updated, err)
	}

	// Later writes move updatedAt on.
	time.Sleep(2 * time.Millisecond)
	plain, err := s.UpdateConnection(ctx, tenant, c.ID, func(r *Connection) error { r.LastError = new("boom"); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !plain.UpdatedAt.After(updated.UpdatedAt) || !isMillis(plain.UpdatedAt) || *plain.LastError != "boom" {
		t.Fatalf("plain update: updatedAt %v (was %v), lastError %v", plain.UpdatedAt, updated.UpdatedAt, plain.LastError)
	}

	if _, err := s.UpdateConnection(ctx, tenant, c.ID, func(r *Connection) error { r.AuthType = "bearer"; return nil }); err == nil ||
		!strings.Contains(err.Error(), "bearer needs a token") {
		t.Fatalf("bearer without a token = %v, want a constraint error", err)
	}
	if _, err := s.UpdateConnection(ctx, tenant, c.ID, func(r *Connection) error { r.Status = "sleeping"; return nil }); err == nil ||
		!strings.Contains(err.Error(), `status "sleeping"`) {
		t.Fatalf("bad status = %v, want a constraint error", err)
	}

	connectionCRUD(s).checkDeleted(t, tenant, c.ID)
	if err := s.CreateConnection(ctx, &Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: uuid.New()}, Name: "x", ServerURL: "https://x", AuthType: "none"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CreateConnection for a missing tenant = %v, want ErrNotFound", err)
	}
}

func TestTenantIsolation(t *testing.T) {
	ctx, s, a, b := newTwoTenantStore(t)
	c := newConn(t, s, a, "shared-name")

	connectionCRUD(s).checkHidden(t, b, c.ID)
	// The same name is free in another tenant.
	newConn(t, s, b, "shared-name")
	if got, err := s.GetConnection(ctx, a, c.ID); err != nil || got.Name != "shared-name" {
		t.Fatalf("tenant a's row changed: %+v, %v", got, err)
	}
}

func TestNameTaken(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	newConn(t, s, tenant, "one")
	two := newConn(t, s, tenant, "two")

	dup := Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Name: "one", ServerURL: "https://x", AuthType: "none"}
	if err := s.CreateConnection(ctx, &dup); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("CreateConnection with a taken name = %v, want ErrNameTaken", err)
	}
	if _, err := s.UpdateConnection(ctx, tenant, two.ID, func(r *Connection) error { r.Name = "one"; return nil }); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("rename onto a taken name = %v, want ErrNameTaken", err)
	}
	if got, _ := s.GetConnection(ctx, tenant, two.ID); got.Name != "two" {
		t.Fatalf("failed rename changed the row: %+v", got)
	}
	sameID := Connection{Key: Key[uuid.UUID]{ID: two.ID, TenantID: tenant}, Name: "three", ServerURL: "https://x", AuthType: "none"}
	if err := s.CreateConnection(ctx, &sameID); err == nil || errors.Is(err, ErrNameTaken) {
		t.Fatalf("CreateConnection with a used id = %v, want a non-name error", err)
	}
}

func TestListPagination(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	other := newTenant(t, s, "other")

	var initial []uuid.UUID
	for i := range 7 {
		initial = append(initial, newConn(t, s, tenant, fmt.Sprintf("c%02d", i)).ID)
		newConn(t, s, other, fmt.Sprintf("c%02d", i))
	}

	var seen []Connection
	var after *Cursor
	pages := 0
	for {
		rows, next, err := s.ListConnections(ctx, ListConnectionsParams{TenantID: tenant, Limit: 3, After: after})
		if err != nil {
			t.Fatalf("ListConnections page %d: %v", pages, err)
		}
		pages++
		seen = append(seen, rows...)
		// New rows arrive while the client pages through.
		newConn(t, s, tenant, fmt.Sprintf("late%02d", pages))
		if next == nil {
			break
		}
		if len(rows) != 3 {
			t.Fatalf("page %d has %d rows and a next cursor", pages, len(rows))
		}
		decoded, err := DecodeCursor(next.Encode(), ConnectionIDs)
		if err != nil {
			t.Fatalf("DecodeCursor(Encode()): %v", err)
		}
		after = &decoded
		if pages > 20 {
			t.Fatal("pagination does not end")
		}
	}

	count := map[uuid.UUID]int{}
	for i, r := range seen {
		count[r.ID]++
		if r.TenantID != tenant {
			t.Fatalf("listed another tenant's row %+v", r)
		}
		if i > 0 {
			prev := seen[i-1]
			if r.CreatedAt.Before(prev.CreatedAt) || r.CreatedAt.Equal(prev.CreatedAt) && bytes.Compare(r.ID[:], prev.ID[:]) <= 0 {
				t.Fatalf("rows out of (created_at, id) order at %d", i)
			}
		}
	}
	for id, n := range count {
		if n != 1 {
			t.Fatalf("row %v listed %d times", id, n)
		}
	}
	for _, id := range initial {
		if count[id] != 1 {
			t.Fatalf("row %v that existed at the start was skipped", id)
		}
	}

	// An exact multiple of the limit: the last full page has no next cursor.
	third := newTenant(t, s, "third")
	for i := range 4 {
		newConn(t, s, third, fmt.Sprintf("x%d", i))
	}
	rows, next, err := s.ListConnections(ctx, ListConnectionsParams{TenantID: third, Limit: 2})
	if err != nil || len(rows) != 2 || next == nil {
		t.Fatalf("first page = %d rows, next %v, %v", len(rows), next, err)
	}
	rows, next, err = s.ListConnections(ctx, ListConnectionsParams{TenantID: third, Limit: 2, After: next})
	if err != nil || len(rows) != 2 || next != nil {
		t.Fatalf("last full page = %d rows, next %v, %v; want 2 and no cursor", len(rows), next, err)
	}

	for _, limit := range []int{0, -1, 101} {
		if _, _, err := s.ListConnections(ctx, ListConnectionsParams{TenantID: tenant, Limit: limit}); err == nil || !strings.Contains(err.Error(), "limit must be between 1 and 100") {
			t.Fatalf("ListConnections(limit %d) = %v, want a limit error", limit, err)
		}
	}
}

func TestListFilters(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	a := newConn(t, s, tenant, "alpha")
	b := newConn(t, s, tenant, "beta")
	newConn(t, s, tenant, "gamma")
	for id, status := range map[uuid.UUID]string{a.ID: "active", b.ID: "error"} {
		if _, err := s.UpdateConnection(ctx, tenant, id, func(r *Connection) error { r.Status = status; return nil }); err != nil {
			t.Fatal(err)
		}
	}

	names := func(p ListConnectionsParams) []string {
		t.Helper()
		p.TenantID, p.Limit = tenant, 100
		rows, _, err := s.ListConnections(ctx, p)
		if err != nil {
			t.Fatalf("ListConnections(%+v): %v", p, err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, r.Name)
		}
		// Rows created in the same millisecond are ordered by their random ids.
		slices.Sort(out)
		return out
	}
	tests := []struct {
		name string
		p    ListConnectionsParams
		want []string
	}{
		{"all", ListConnectionsParams{}, []string{"alpha", "beta", "gamma"}},
		{"name", ListConnectionsParams{Name: new("beta")}, []string{"beta"}},
		{"name is exact", ListConnectionsParams{Name: new("bet")}, nil},
		{"name is case sensitive", ListConnectionsParams{Name: new("Beta")}, nil},
		{"status active", ListConnectionsParams{Status: new("active")}, []string{"alpha"}},
		{"status unknown", ListConnectionsParams{Status: new("unknown")}, []string{"gamma"}},
		{"name and status", ListConnectionsParams{Name: new("beta"), Status: new("error")}, []string{"beta"}},
		{"name and other status", ListConnectionsParams{Name: new("beta"), Status: new("active")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(tc.p); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// cursorAt is the time of the cursors the cursor tests encode.
var cursorAt = time.Date(2026, 1, 10, 14, 0, 0, 123_456_000, time.UTC)

// roundTrip encodes a cursor at cursorAt with id, checks that the encoding
// is URL-safe and decodes (as ids) to the same cursor, and returns it.
func roundTrip(t *testing.T, id string, ids IDFormat) string {
	t.Helper()
	c := Cursor{CreatedAt: cursorAt, ID: id}
	enc := c.Encode()
	if strings.ContainsAny(enc, "+/=") {
		t.Fatalf("Encode = %q, not URL-safe", enc)
	}
	got, err := DecodeCursor(enc, ids)
	if err != nil || !got.CreatedAt.Equal(c.CreatedAt) || got.ID != c.ID {
		t.Fatalf("DecodeCursor(Encode(c)) = %+v, %v; want %+v", got, err, c)
	}
	return enc
}

func TestCursor(t *testing.T) {
	enc := roundTrip(t, uuid.New().String(), ConnectionIDs)

	wrongVersion := []byte(enc)
	wrongVersion[0] = 'B' // first six bits of the version byte
	for _, bad := range []string{"", "garbage", "!!!!", enc + "A", enc[:len(enc)-1], string(wrongVersion), strings.Repeat("A", len(enc))} {
		if _, err := DecodeCursor(bad, ConnectionIDs); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrInvalidCursor", bad, err)
		}
	}
	_, err := DecodeCursor("nope", ConnectionIDs)
	if !strings.Contains(err.Error(), "nextCursor") {
		t.Fatalf("cursor error %q does not say what to pass instead", err)
	}
}

func TestUpdateFnErrorWritesNothing(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	c := newConn(t, s, tenant, "c")

	want := errors.New("validation failed")
	_, err := s.UpdateConnection(ctx, tenant, c.ID, func(r *Connection) error {
		r.Name = "changed"
		r.Status = "active"
		return want
	})
	if err != want {
		t.Fatalf("UpdateConnection = %v, want fn's error unchanged", err)
	}
	got, err := s.GetConnection(ctx, tenant, c.ID)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("row changed after fn failed: %+v (%v)", got, err)
	}
}

func TestUpdateConcurrentSerialises(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	c := newConn(t, s, tenant, "c")

	const writers = 12
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			// Read-modify-write: without the row lock some appends are lost.
			_, err := s.UpdateConnection(ctx, tenant, c.ID, func(r *Connection) error {
				old := ""
				if r.Instructions != nil {
					old = *r.Instructions
				}
				r.Instructions = new(old + "x")
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetConnection(ctx, tenant, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Instructions == nil || len(*got.Instructions) != writers {
		t.Fatalf("instructions = %v after %d serialised appends", got.Instructions, writers)
	}
}

func TestReencryptConnectionSecrets(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	tenants := []uuid.UUID{newTenant(t, s, "a"), newTenant(t, s, "b")}

	// More rows than one batch, spread over tenants, some already current.
	want := map[uuid.UUID]string{} // id -> key id after rotation
	stale := 0
	for i := range 2*reencryptBatch + 7 {
		keyID := "old"
		if i%5 == 0 {
			keyID = "new"
		} else {
			stale++
		}
		c := Connection{
			Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenants[i%2]}, Name: fmt.Sprintf("c%03d", i), ServerURL: "https://x",
			AuthType: "bearer", SealedToken: SealedToken{TokenCiphertext: []byte(keyID + ":" + fmt.Sprint(i)), TokenKeyID: new(keyID)},
		}
		if err := s.CreateConnection(ctx, &c); err != nil {
			t.Fatal(err)
		}
		want[c.ID] = "new"
	}
	noToken := newConn(t, s, tenants[0], "no-token")
	before, err := s.GetConnection(ctx, tenants[0], noToken.ID)
	if err != nil {
		t.Fatal(err)
	}

	calls := 0
	rotate := func(aad, ciphertext []byte, keyID string) ([]byte, string, error) {
		calls++
		if string(aad) == string(ConnectionTokenAAD(noToken.ID)) {
			t.Errorf("fn called for a connection without a token")
		}
		if keyID == "new" {
			return ciphertext, keyID, nil
		}
		return append([]byte("new:"), bytes.TrimPrefix(ciphertext, []byte("old:"))...), "new", nil
	}
	n, err := s.ReencryptConnectionSecrets(ctx, rotate)
	if err != nil {
		t.Fatalf("ReencryptConnectionSecrets: %v", err)
	}
	if n != stale || calls != len(want) {
		t.Fatalf("ReencryptConnectionSecrets changed %d rows in %d calls, want %d in %d", n, calls, stale, len(want))
	}
	var rows []struct {
		ID         uuid.UUID `db:"id"`
		Ciphertext []byte    `db:"token_ciphertext"`
		KeyID      string    `db:"token_key_id"`
	}
	if err := s.db.Select(&rows, `SELECT id, token_ciphertext, token_key_id FROM mcp_connections WHERE token_ciphertext IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.KeyID != want[r.ID] || !bytes.HasPrefix(r.Ciphertext, []byte("new:")) {
			t.Fatalf("row %v after rotation: key %q ciphertext %q", r.ID, r.KeyID, r.Ciphertext)
		}
	}
	after, _ := s.GetConnection(ctx, tenants[0], noToken.ID)
	if !reflect.DeepEqual(after, before) {
		t.Fatal("a connection without a token changed")
	}

	// Nothing left to do.
	if n, err := s.ReencryptConnectionSecrets(ctx, rotate); err != nil || n != 0 {
		t.Fatalf("second ReencryptConnectionSecrets = %d, %v; want 0", n, err)
	}

	// fn's error stops the run, names the row, and its batch is not written.
	if _, err := s.db.Exec(`UPDATE mcp_connections SET token_key_id = 'old'`); err == nil {
		t.Fatal("setting a key id on rows without a ciphertext should violate the pair check")
	}
	if _, err := s.db.Exec(`UPDATE mcp_connections SET token_key_id = 'old' WHERE token_ciphertext IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("key gone")
	n, err = s.ReencryptConnectionSecrets(ctx, func(_, _ []byte, _ string) ([]byte, string, error) {
		return nil, "", boom
	})
	if !errors.Is(err, boom) || n != 0 || !strings.Contains(err.Error(), "connection ") {
		t.Fatalf("ReencryptConnectionSecrets with failing fn = %d, %v", n, err)
	}
	var stillOld int
	if err := s.db.Get(&stillOld, `SELECT count(*) FROM mcp_connections WHERE token_key_id = 'old'`); err != nil || stillOld != len(want) {
		t.Fatalf("%d rows still on the old key, want %d (%v)", stillOld, len(want), err)
	}
}

// TestUnavailable stops the package's shared PostgreSQL server, so it must
// not run in parallel with other tests.
func TestUnavailable(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	if err := s.CreateAPIKey(ctx, tenant, hash("k")); err != nil {
		t.Fatal(err)
	}
	c := newConn(t, s, tenant, "c")
	// Fill the pool with idle connections that the stop will kill.
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() { _, _ = s.GetConnection(ctx, tenant, c.ID) })
	}
	wg.Wait()

	cluster := pgtest.SharedCluster(t)
	restart := cluster.Outage(t)

	calls := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"GetConnection", func() error { _, err := s.GetConnection(ctx, tenant, c.ID); return err }},
		{"ListConnections", func() error {
			_, _, err := s.ListConnections(ctx, ListConnectionsParams{TenantID: tenant, Limit: 10})
			return err
		}},
		{"CreateConnection", func() error {
			return s.CreateConnection(ctx, &Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Name: "d", ServerURL: "https://x", AuthType: "none"})
		}},
		{"UpdateConnection", func() error {
			_, err := s.UpdateConnection(ctx, tenant, c.ID, func(*Connection) error { return nil })
			return err
		}},
		{"DeleteConnection", func() error { return s.DeleteConnection(ctx, tenant, c.ID) }},
		{"CreateTenant", func() error { _, err := s.CreateTenant(ctx, "x"); return err }},
		{"CreateAPIKey", func() error { return s.CreateAPIKey(ctx, tenant, hash("k2")) }},
		{"TenantForKey", func() error { _, err := s.TenantForKey(ctx, hash("k")); return err }},
		{"EnsureTenantWithKey", func() error { _, _, err := s.EnsureTenantWithKey(ctx, "x", hash("k3")); return err }},
		{"ReencryptConnectionSecrets", func() error {
			_, err := s.ReencryptConnectionSecrets(ctx, func([]byte, []byte, string) ([]byte, string, error) { return nil, "", nil })
			return err
		}},
		{"Migrate", func() error { return s.Migrate(ctx) }},
	}
	for _, tc := range calls {
		if err := tc.call(); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s with the server stopped = %v, want ErrUnavailable", tc.name, err)
		}
	}

	restart()

	// The same Store recovers without being reopened.
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	for range 10 {
		if _, err := s.GetConnection(ctx, tenant, c.ID); err != nil {
			t.Fatalf("GetConnection after restart: %v", err)
		}
	}
	if got, err := s.TenantForKey(ctx, hash("k")); err != nil || got != tenant {
		t.Fatalf("TenantForKey after restart = %v, %v", got, err)
	}
}

// TestRecoversAfterQuietRestart restarts the server while the pool holds idle
// connections and nobody calls: those connections are dead, and the first
// calls afterwards must still succeed. Not parallel: it stops the shared server.
func TestRecoversAfterQuietRestart(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	c := newConn(t, s, tenant, "c")
	var wg sync.WaitGroup
	for range maxIdleConns {
		wg.Go(func() { _, _ = s.GetConnection(ctx, tenant, c.ID) })
	}
	wg.Wait()
	if idle := s.db.Stats().Idle; idle < 2 {
		t.Fatalf("only %d idle connections; the test needs several", idle)
	}

	cluster := pgtest.SharedCluster(t)
	if err := cluster.StopServer(); err != nil {
		t.Fatalf("StopServer: %v", err)
	}
	if err := cluster.StartServer(); err != nil {
		t.Fatalf("StartServer: %v", err)
	}
	for i := range 2 * maxIdleConns {
		if _, err := s.GetConnection(ctx, tenant, c.ID); err != nil {
			t.Fatalf("call %d after restart: %v", i, err)
		}
	}
}

func TestUnreachableClassifies(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"bad conn", driver.ErrBadConn, true},
		{"eof", fmt.Errorf("read: %w", io.EOF), true},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"deadline", context.DeadlineExceeded, true},
		{"connection exception class", &pq.Error{Code: "08006"}, true},
		{"admin shutdown", &pq.Error{Code: pqerror.AdminShutdown}, true},
		{"crash shutdown", &pq.Error{Code: pqerror.CrashShutdown}, true},
		{"starting up", &pq.Error{Code: pqerror.CannotConnectNow}, true},
		{"unique violation", &pq.Error{Code: pqerror.UniqueViolation}, false},
		{"syntax error", &pq.Error{Code: "42601"}, false},
		{"caller canceled", context.Canceled, false},
		{"no rows", sql.ErrNoRows, false},
	}
	s := &Store{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := unreachable(tc.err); got != tc.want {
				t.Fatalf("unreachable(%v) = %v, want %v", tc.err, got, tc.want)
			}
			wrapped := s.fail("op", tc.err)
			if errors.Is(wrapped, ErrUnavailable) != tc.want || !errors.Is(wrapped, tc.err) {
				t.Fatalf("fail(%v) = %v: ErrUnavailable %v, want %v, keeping the cause", tc.err, wrapped, errors.Is(wrapped, ErrUnavailable), tc.want)
			}
		})
	}
}

// embeddedVersions lists the versions of the embedded migrations, in order.
func embeddedVersions(t *testing.T) []int64 {
	t.Helper()
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", e.Name(), err)
		}
		versions = append(versions, v)
	}
	if len(versions) == 0 {
		t.Fatal("no embedded migrations")
	}
	return versions
}
