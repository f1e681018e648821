package store

import (
	"sync"
	"testing"
)

// A migration that changes the type of a column a prepared statement
// returns makes PostgreSQL refuse the statement ("cached plan must not
// change result type"); the store prepares it again instead of failing.
func TestPreparedStatementSurvivesColumnTypeChange(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	c := newConn(t, s, tenant, "c")
	// prepare the statement on several pooled connections
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { _, _ = s.GetConnection(ctx, tenant, c.ID) })
	}
	wg.Wait()

	if _, err := s.db.ExecContext(ctx, `ALTER TABLE mcp_connections ALTER COLUMN name TYPE varchar(200)`); err != nil {
		t.Fatal(err)
	}
	for i := range 2 * maxIdleConns {
		got, err := s.GetConnection(ctx, tenant, c.ID)
		if err != nil {
			t.Fatalf("call %d after the column type changed: %v", i, err)
		}
		if got.Name != "c" {
			t.Fatalf("call %d: name = %q, want %q", i, got.Name, "c")
		}
	}
}

func TestClosedStoreForgetsStatements(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	c := newConn(t, s, tenant, "c")
	if _, err := s.GetConnection(ctx, tenant, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := len(s.stmts); n != 0 {
		t.Fatalf("%d prepared statements left after Close", n)
	}
}
