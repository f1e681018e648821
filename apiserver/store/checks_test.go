package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
	"github.com/mcpconn/terraform-provider-mcp/internal/poll"
)

func ids(rows []Connection) []uuid.UUID {
	out := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func TestClaimDueConnections(t *testing.T) {
	s := newStore(t)
	a, b := newTenant(t, s, "a"), newTenant(t, s, "b")
	var want []uuid.UUID
	for i := range 5 {
		tenant := a
		if i%2 == 1 {
			tenant = b
		}
		c := newConn(t, s, tenant, fmt.Sprintf("c%d", i))
		want = append(want, c.ID)
		// Distinct due times make "oldest first" observable.
		makeDue(t, s, ConnectionRecords, c.ID, 10-i)
	}
	// Not due: claims must leave it alone.
	later := newConn(t, s, a, "later")
	makeDue(t, s, ConnectionRecords, later.ID, -60)

	checkClaims(t, s.ClaimDueConnections, want, func(c Connection) (uuid.UUID, time.Time, bool) {
		return c.ID, c.NextCheckAt, c.Name != "" && c.ServerURL != "" && c.TenantID != uuid.Nil
	})
}

// makeDue makes the record id of k due minutesAgo minutes ago (in the
// future when negative).
func makeDue(t *testing.T, s *Store, k RecordKind, id any, minutesAgo int) {
	t.Helper()
	if _, err := s.db.Exec(`UPDATE `+k.table+` SET next_check_at = now() - $1 * interval '1 minute' WHERE id = $2`, minutesAgo, id); err != nil {
		t.Fatal(err)
	}
}

// checkClaims claims with claim, as the scheduler does, when want are the
// due rows' ids, most overdue first: a claim of three takes the three most
// overdue and leases them for an hour (at millisecond precision, in UTC,
// with every column read: of says whether a row is whole), the next claim
// the rest, and then nothing is due. A claim of no rows or for no time is
// refused.
func checkClaims[T any, ID comparable](t *testing.T, claim func(context.Context, int, time.Duration) ([]T, error), want []ID,
	of func(T) (id ID, next time.Time, whole bool)) {
	t.Helper()
	ctx := context.Background()
	idsOf := func(rows []T) []ID {
		out := make([]ID, len(rows))
		for i, r := range rows {
			out[i], _, _ = of(r)
		}
		return out
	}
	before := time.Now()
	first, err := claim(ctx, 3, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := idsOf(first); fmt.Sprint(got) != fmt.Sprint(want[:3]) {
		t.Fatalf("first claim = %v, want the three most overdue %v", got, want[:3])
	}
	for _, r := range first {
		if _, next, whole := of(r); !next.After(before.Add(59*time.Minute)) || !isMillis(next) || next.Location() != time.UTC || !whole {
			t.Errorf("claimed row %+v: want next_check_at about an hour from now at ms precision in UTC, and every column", r)
		}
	}
	second, err := claim(ctx, 10, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := idsOf(second); fmt.Sprint(got) != fmt.Sprint(want[3:]) {
		t.Fatalf("second claim = %v, want the rest %v", got, want[3:])
	}
	third, err := claim(ctx, 10, time.Hour)
	if err != nil || len(third) != 0 {
		t.Fatalf("claim with nothing due = %v, %v; want nothing", idsOf(third), err)
	}
	if _, err := claim(ctx, 0, time.Hour); err == nil {
		t.Error("a claim accepted limit 0")
	}
	if _, err := claim(ctx, 1, 0); err == nil {
		t.Error("a claim accepted a zero lease")
	}
}

func TestClaimSkipsLockedRows(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "t")
	held := newConn(t, s, tenant, "held")
	free := newConn(t, s, tenant, "free")

	// Another replica in the middle of claiming (or a PATCH) holds a lock.
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.Exec(`SELECT id FROM mcp_connections WHERE id = $1 FOR UPDATE`, held.ID); err != nil {
		t.Fatal(err)
	}
	// Blocking here would hang the test; SKIP LOCKED returns at once.
	got, err := s.ClaimDueConnections(ctx, 10, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != free.ID {
		t.Fatalf("claim beside a locked row = %v, want only %s", ids(got), free.ID)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	got, err = s.ClaimDueConnections(ctx, 10, time.Hour)
	if err != nil || len(got) != 1 || got[0].ID != held.ID {
		t.Fatalf("claim after the lock is released = %v, %v; want %s", ids(got), err, held.ID)
	}
}

func TestConcurrentClaimersGetDisjointRows(t *testing.T) {
	url := newStoreURL(t)
	ctx := context.Background()
	stores := []*Store{openStore(t, url), openStore(t, url)}
	tenant := newTenant(t, stores[0], "t")
	const n = 300
	for i := range n {
		newConn(t, stores[0], tenant, fmt.Sprintf("c%03d", i))
	}

	var mu sync.Mutex
	claimedBy := map[uuid.UUID]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		s := stores[w%2]
		wg.Go(func() {
			for {
				rows, err := s.ClaimDueConnections(ctx, 7, time.Hour)
				if err != nil {
					errs <- err
					return
				}
				if len(rows) == 0 {
					return
				}
				mu.Lock()
				for _, r := range rows {
					claimedBy[r.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(claimedBy) != n {
		t.Fatalf("%d distinct rows claimed, want all %d", len(claimedBy), n)
	}
	for id, times := range claimedBy {
		if times != 1 {
			t.Errorf("row %s claimed %d times, want once", id, times)
		}
	}
}

// claimNew is a new connection, claimed for lease in a store of its own.
func claimNew(t *testing.T, lease time.Duration) (context.Context, *Store, Connection) {
	t.Helper()
	ctx, s, tenant := newTenantStore(t, "t")
	newConn(t, s, tenant, "c")
	got, err := s.ClaimDueConnections(ctx, 1, lease)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", ids(got), err)
	}
	return ctx, s, got[0]
}

func TestClaimLeaseExpires(t *testing.T) {
	// A claimer that crashes never records a result; until the lease ends
	// nobody else may take the row, and afterwards somebody must.
	ctx, s, c := claimNew(t, time.Millisecond)
	claimedAgain := func() bool {
		again, err := s.ClaimDueConnections(ctx, 1, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return len(again) == 1 && again[0].ID == c.ID
	}
	if !poll.Until(10*time.Second, 5*time.Millisecond, claimedAgain) {
		t.Fatal("a row whose lease expired never became claimable again")
	}
	// Now held for an hour.
	if again, err := s.ClaimDueConnections(ctx, 1, time.Hour); err != nil || len(again) != 0 {
		t.Fatalf("claim during the lease = %v, %v; want nothing", ids(again), err)
	}
}

func TestRecordConnectionCheck(t *testing.T) {
	ctx, s, c := claimNew(t, time.Hour)
	pass, err := s.RecordConnectionCheck(ctx, c, CheckResult{OK: true, Instructions: new("use the order tools")}, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if pass.Status != "active" || pass.LastError != nil || pass.Instructions == nil || *pass.Instructions != "use the order tools" {
		t.Fatalf("after a pass: status %q, lastError %v, instructions %v", pass.Status, pass.LastError, pass.Instructions)
	}
	if pass.LastHealthCheckAt == nil || !pass.LastHealthCheckAt.Equal(pass.UpdatedAt) || !isMillis(pass.UpdatedAt) || pass.UpdatedAt.Location() != time.UTC {
		t.Fatalf("after a pass: lastHealthCheckAt %v, updatedAt %v; want equal, ms, UTC", pass.LastHealthCheckAt, pass.UpdatedAt)
	}
	if !pass.NextCheckAt.Equal(pass.LastHealthCheckAt.Add(90 * time.Second)) {
		t.Fatalf("next_check_at = %v, want the check time %v plus the interval", pass.NextCheckAt, pass.LastHealthCheckAt)
	}
	if pass.UpdatedAt.Before(c.UpdatedAt) || pass.Name != c.Name || pass.ServerURL != c.ServerURL || !pass.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("a check changed more than health: %+v, was %+v", pass, c)
	}
	if got, err := s.GetConnection(ctx, c.TenantID, c.ID); err != nil || !got.UpdatedAt.Equal(pass.UpdatedAt) || got.Status != "active" {
		t.Fatalf("GetConnection after the check = %+v, %v", got, err)
	}

	fail, err := s.RecordConnectionCheck(ctx, pass, CheckResult{Err: "connection refused", Instructions: new("ignored")}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if fail.Status != "error" || fail.LastError == nil || *fail.LastError != "connection refused" {
		t.Fatalf("after a failure: status %q, lastError %v", fail.Status, fail.LastError)
	}
	if fail.Instructions == nil || *fail.Instructions != "use the order tools" {
		t.Fatalf("a failure must keep the last known instructions, got %v", fail.Instructions)
	}
	if fail.UpdatedAt.Before(pass.UpdatedAt) || !fail.LastHealthCheckAt.Equal(fail.UpdatedAt) {
		t.Fatalf("after a failure: lastHealthCheckAt %v, updatedAt %v (previous %v)", fail.LastHealthCheckAt, fail.UpdatedAt, pass.UpdatedAt)
	}

	blank, err := s.RecordConnectionCheck(ctx, fail, CheckResult{}, time.Minute)
	if err != nil || blank.LastError == nil || *blank.LastError == "" {
		t.Fatalf("a failure without a reason stored lastError %v, %v; want a non-empty message", blank.LastError, err)
	}

	// A pass replaces the instructions, also with none.
	none, err := s.RecordConnectionCheck(ctx, blank, CheckResult{OK: true}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if none.Status != "active" || none.Instructions != nil || none.LastError != nil {
		t.Fatalf("a pass without instructions: status %q, instructions %v, lastError %v", none.Status, none.Instructions, none.LastError)
	}

	if _, err := s.RecordConnectionCheck(ctx, none, CheckResult{OK: true}, 0); err == nil {
		t.Error("RecordConnectionCheck accepted a zero interval")
	}
}

func TestRecordConnectionCheckStale(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "t")

	tests := []struct {
		name   string
		change func(*Connection)
	}{
		{"server URL", func(c *Connection) { c.ServerURL = "https://elsewhere.example.com/mcp" }},
		{"bearer token", func(c *Connection) {
			c.AuthType, c.TokenCiphertext, c.TokenKeyID = "bearer", []byte("sealed"), new("k1")
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			read := newConn(t, s, tenant, fmt.Sprintf("c%d", i))
			// The PATCH lands while the probe of the old endpoint runs.
			patched, err := s.UpdateConnection(ctx, tenant, read.ID, func(c *Connection) error {
				tc.change(c)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.RecordConnectionCheck(ctx, read, CheckResult{OK: true, Instructions: new("old endpoint")}, time.Hour)
			if !errors.Is(err, ErrChanged) {
				t.Fatalf("recording a check of the old endpoint = %v, want ErrChanged", err)
			}
			if got.ID != read.ID || got.ServerURL != patched.ServerURL || got.Status != "unknown" || got.Instructions != nil || !got.UpdatedAt.Equal(patched.UpdatedAt) {
				t.Fatalf("stale record returned %+v, want the current row %+v unchanged", got, patched)
			}
			// The current row records fine.
			if _, err := s.RecordConnectionCheck(ctx, got, CheckResult{OK: true}, time.Hour); err != nil {
				t.Fatalf("recording a check of the current row: %v", err)
			}
		})
	}

	t.Run("rename is not stale", func(t *testing.T) {
		read := newConn(t, s, tenant, "rename-me")
		if _, err := s.UpdateConnection(ctx, tenant, read.ID, func(c *Connection) error { c.Name = "renamed"; return nil }); err != nil {
			t.Fatal(err)
		}
		got, err := s.RecordConnectionCheck(ctx, read, CheckResult{OK: true}, time.Hour)
		if err != nil || got.Name != "renamed" || got.Status != "active" {
			t.Fatalf("check after a rename = %+v, %v; want stored, keeping the new name", got, err)
		}
	})

	t.Run("deleted", func(t *testing.T) {
		read := newConn(t, s, tenant, "deleted")
		if err := s.DeleteConnection(ctx, tenant, read.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordConnectionCheck(ctx, read, CheckResult{OK: true}, time.Hour); !errors.Is(err, ErrNotFound) {
			t.Fatalf("recording a check of a deleted row = %v, want ErrNotFound", err)
		}
	})
}

// newStoreURL is a migrated fresh database, for tests that open several
// handles on it as replicas would.
func newStoreURL(t *testing.T) string {
	t.Helper()
	url := pgtest.NewDatabase(t)
	if err := openStore(t, url).Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return url
}

func TestRecordConnectionChecksBatch(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "t")
	pass := newConn(t, s, tenant, "pass")
	fail := newConn(t, s, tenant, "fail")
	moved := newConn(t, s, tenant, "moved")
	gone := newConn(t, s, tenant, "gone")
	if _, err := s.UpdateConnection(ctx, tenant, moved.ID, func(c *Connection) error { c.ServerURL += "/v2"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConnection(ctx, tenant, gone.ID); err != nil {
		t.Fatal(err)
	}
	withToken := Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Name: "token", ServerURL: "https://mcp.example.com/t", AuthType: "bearer",
		SealedToken: SealedToken{TokenCiphertext: []byte("sealed-token-bytes"), TokenKeyID: new("k1")}}
	if err := s.CreateConnection(ctx, &withToken); err != nil {
		t.Fatal(err)
	}

	checks := []Check[Connection]{
		{Record: pass, Result: CheckResult{OK: true, Instructions: new("first")}},
		{Record: fail, Result: CheckResult{Err: "refused"}},
		{Record: moved, Result: CheckResult{OK: true}},
		{Record: gone, Result: CheckResult{OK: true}},
		{Record: withToken, Result: CheckResult{OK: true, Instructions: new("with token")}},
		// The same row twice (a manual and a scheduled check at once): both
		// are stored, the later one last.
		{Record: pass, Result: CheckResult{OK: true, Instructions: new("second")}},
	}
	out, err := s.RecordConnectionChecks(ctx, checks, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(checks) {
		t.Fatalf("%d outcomes for %d checks", len(out), len(checks))
	}
	if out[0].Err != nil || *out[0].Record.Instructions != "first" || out[0].Record.Status != "active" {
		t.Errorf("pass: %+v", out[0])
	}
	if out[1].Err != nil || out[1].Record.Status != "error" || *out[1].Record.LastError != "refused" {
		t.Errorf("fail: %+v", out[1])
	}
	if !errors.Is(out[2].Err, ErrChanged) || out[2].Record.ServerURL != moved.ServerURL+"/v2" || out[2].Record.Status != "unknown" {
		t.Errorf("moved: %+v", out[2])
	}
	if !errors.Is(out[3].Err, ErrNotFound) {
		t.Errorf("gone: %+v", out[3])
	}
	if out[4].Err != nil || out[4].Record.Status != "active" || *out[4].Record.Instructions != "with token" {
		t.Errorf("with token: %+v", out[4])
	}
	if out[5].Err != nil || *out[5].Record.Instructions != "second" {
		t.Errorf("second check of the same row: %+v", out[5])
	}
	if got, _ := s.GetConnection(ctx, tenant, pass.ID); got.Instructions == nil || *got.Instructions != "second" {
		t.Errorf("stored instructions %v, want the later check's", got.Instructions)
	}
	for i, o := range out {
		if o.Err == nil && (o.Record.LastHealthCheckAt == nil || !o.Record.LastHealthCheckAt.Equal(o.Record.UpdatedAt)) {
			t.Errorf("outcome %d: lastHealthCheckAt %v, updatedAt %v", i, o.Record.LastHealthCheckAt, o.Record.UpdatedAt)
		}
	}

	// A token changed by a rotation is a change too.
	if _, err := s.UpdateConnection(ctx, tenant, withToken.ID, func(c *Connection) error { c.TokenCiphertext = []byte("resealed"); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordConnectionCheck(ctx, withToken, CheckResult{OK: true}, time.Hour); !errors.Is(err, ErrChanged) {
		t.Errorf("recording a check made with a replaced token = %v, want ErrChanged", err)
	}
	if out, err := s.RecordConnectionChecks(ctx, nil, time.Hour); err != nil || len(out) != 0 {
		t.Errorf("an empty batch = %v, %v", out, err)
	}
}

func TestConnectionTokenAAD(t *testing.T) {
	// Tokens already stored were sealed with exactly this; changing it would
	// make every one of them unreadable.
	id := uuid.MustParse("0b6f1f3e-2c1d-4f5e-9a8b-7c6d5e4f3a2b")
	if got := string(ConnectionTokenAAD(id)); got != "mcp_connections:0b6f1f3e-2c1d-4f5e-9a8b-7c6d5e4f3a2b" {
		t.Fatalf("ConnectionTokenAAD = %q", got)
	}
}
