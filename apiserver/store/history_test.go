package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/catalog"
)

// catalogOf builds the catalog a server listing these tools would give.
func catalogOf(t *testing.T, tools ...string) *catalog.Catalog {
	t.Helper()
	raw := make([]json.RawMessage, len(tools))
	for i, tool := range tools {
		raw[i] = json.RawMessage(tool)
	}
	c, err := catalog.Build(raw, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

func passed(c *catalog.Catalog) CheckResult {
	return CheckResult{OK: true, ProtocolVersion: "2025-06-18", Duration: 12 * time.Millisecond, Catalog: c}
}

// recheck records r against the connection as it is stored now, as the
// scheduler does with a claimed row.
func recheck(t *testing.T, s *Store, c Connection, r CheckResult) Connection {
	t.Helper()
	cur, err := s.GetConnection(context.Background(), c.TenantID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.RecordConnectionCheck(context.Background(), cur, r, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func countRows(t *testing.T, s *Store, table, fk, id string) int {
	t.Helper()
	var n int
	if err := s.db.Get(&n, `SELECT count(*) FROM `+table+` WHERE `+fk+`::text = $1`, id); err != nil {
		t.Fatal(err)
	}
	return n
}

const (
	toolA  = `{"name":"a","description":"first","inputSchema":{"type":"object"}}`
	toolB  = `{"name":"b","inputSchema":{"type":"object"}}`
	toolB2 = `{"name":"b","description":"now does something else","inputSchema":{"type":"object"}}`
	toolC  = `{"name":"c","inputSchema":{"type":"object"}}`
)

func TestCheckStateAndCatalog(t *testing.T) {
	ctx, s, tenant, other := newTwoTenantStore(t)
	c := newConn(t, s, tenant, "history")

	if _, err := s.GetCatalog(ctx, ConnectionRecords, tenant, c.ID.String()); !errors.Is(err, ErrNoCatalog) {
		t.Fatalf("catalog before the first check: %v, want ErrNoCatalog", err)
	}
	if c.ToolsHash != nil || c.ToolCount != nil || c.ProtocolVersion != nil || c.LastErrorKind != nil {
		t.Fatalf("new row has check state %+v", c.CheckState)
	}

	first := catalogOf(t, toolA, toolB)
	got := recheck(t, s, c, passed(first))
	if deref(got.ToolsHash) != first.ToolsHash || got.ToolCount == nil || *got.ToolCount != 2 ||
		deref(got.ProtocolVersion) != "2025-06-18" || got.ToolsChangedAt == nil || got.CheckSeq != 1 {
		t.Fatalf("after the first check: %+v", got.CheckState)
	}
	cat, err := s.GetCatalog(ctx, ConnectionRecords, tenant, c.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	var body catalog.Catalog
	if err := json.Unmarshal(cat.Body, &body); err != nil || len(body.Tools) != 2 || body.ToolsHash != first.ToolsHash {
		t.Fatalf("stored catalog %s (%v)", cat.Body, err)
	}
	if !cat.ObservedAt.Equal(*got.LastHealthCheckAt) {
		t.Errorf("observedAt %v, want the check's time %v", cat.ObservedAt, *got.LastHealthCheckAt)
	}

	// The same catalog again: no new catalog row, no change entry.
	for range 3 {
		got = recheck(t, s, c, passed(catalogOf(t, toolB, toolA)))
	}
	if n := countRows(t, s, "catalogs", "connection_id", c.ID.String()); n != 1 {
		t.Fatalf("%d catalog rows after four checks of one catalog, want 1", n)
	}
	if n := countRows(t, s, "catalog_changes", "connection_id", c.ID.String()); n != 1 {
		t.Fatalf("%d change entries for one catalog checked four times, want the first one only", n)
	}

	// A failing check keeps the catalog and records why.
	got = recheck(t, s, c, CheckResult{Err: "HTTP 503", ErrorKind: "server_error"})
	if deref(got.LastErrorKind) != "server_error" || deref(got.ToolsHash) != first.ToolsHash || deref(got.ProtocolVersion) != "2025-06-18" {
		t.Fatalf("after a failing check: %+v", got.CheckState)
	}

	// b's description is rewritten, c is added, a removed.
	second := catalogOf(t, toolB2, toolC)
	got = recheck(t, s, c, passed(second))
	if deref(got.ToolsHash) != second.ToolsHash || got.ToolsChangedAt == nil || !got.ToolsChangedAt.Equal(*got.LastHealthCheckAt) || got.LastErrorKind != nil {
		t.Fatalf("after the change: %+v", got.CheckState)
	}
	changes, next, err := s.ListCatalogChanges(ctx, ConnectionRecords, tenant, c.ID.String(), 10, nil)
	if err != nil || next != nil || len(changes) != 2 {
		t.Fatalf("changes = %+v, %v, %v", changes, next, err)
	}
	if base := changes[1]; base.FromHash != nil || base.ToHash != first.ToolsHash || fmt.Sprint(base.ToolsAdded, base.ToolsRemoved, base.ToolsChanged) != "[a b] [] []" {
		t.Fatalf("first catalog's entry %+v", base)
	}
	ch := changes[0]
	if deref(ch.FromHash) != first.ToolsHash || ch.ToHash != second.ToolsHash ||
		fmt.Sprint(ch.ToolsAdded, ch.ToolsRemoved, ch.ToolsChanged) != "[c] [a] [b]" {
		t.Fatalf("change entry %+v", ch)
	}

	for _, h := range []string{first.ToolsHash, second.ToolsHash} {
		if had, err := s.HadToolsHash(ctx, ConnectionRecords, tenant, c.ID.String(), h); err != nil || !had {
			t.Errorf("HadToolsHash(%s) = %v, %v; want true", h, had, err)
		}
	}
	if had, err := s.HadToolsHash(ctx, ConnectionRecords, tenant, c.ID.String(), catalogOf(t, toolC).ToolsHash); err != nil || had {
		t.Errorf("HadToolsHash(never seen) = %v, %v; want false", had, err)
	}

	// An approval must be of a hash the record has had, checked on the locked row.
	never := catalogOf(t, toolC).ToolsHash
	if _, err := s.UpdateConnection(ctx, tenant, c.ID, func(r *Connection) error { r.ApprovedToolsHash = &never; return nil }); !errors.Is(err, ErrUnknownToolsHash) {
		t.Errorf("approving a hash never had: %v, want ErrUnknownToolsHash", err)
	}
	approved, err := s.UpdateConnection(ctx, tenant, c.ID, func(r *Connection) error { r.ApprovedToolsHash = new(first.ToolsHash); return nil })
	if err != nil || deref(approved.ApprovedToolsHash) != first.ToolsHash {
		t.Errorf("approving an earlier hash: %v, %v", deref(approved.ApprovedToolsHash), err)
	}

	// Another tenant sees none of it.
	if _, err := s.GetCatalog(ctx, ConnectionRecords, other, c.ID.String()); !errors.Is(err, ErrNotFound) {
		t.Errorf("other tenant's GetCatalog: %v", err)
	}
	if _, _, err := s.ListChecks(ctx, ConnectionRecords, other, c.ID.String(), 10, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("other tenant's ListChecks: %v", err)
	}
	if _, _, err := s.ListCatalogChanges(ctx, ConnectionRecords, other, c.ID.String(), 10, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("other tenant's ListCatalogChanges: %v", err)
	}
	if _, err := s.HadToolsHash(ctx, ConnectionRecords, other, c.ID.String(), first.ToolsHash); !errors.Is(err, ErrNotFound) {
		t.Errorf("other tenant's HadToolsHash: %v", err)
	}
	if _, err := s.GetCatalog(ctx, ServerRecords, tenant, c.ID.String()); !errors.Is(err, ErrNotFound) {
		t.Errorf("a connection id as a server's: %v", err)
	}
}

func TestCheckHistoryPagesAndPrunes(t *testing.T) {
	s := newStore(t)
	s.SetCheckHistory(4)
	ctx := context.Background()
	tenant := newTenant(t, s, "a")
	c := newConn(t, s, tenant, "pruned")
	for i := range 7 {
		r := passed(catalogOf(t, toolA))
		if i%3 == 1 {
			r = CheckResult{Err: fmt.Sprintf("failure %d", i), ErrorKind: "timeout", Duration: time.Second}
		}
		recheck(t, s, c, r)
	}
	if n := countRows(t, s, "check_history", "connection_id", c.ID.String()); n != 4 {
		t.Fatalf("%d history rows kept, want the last 4", n)
	}
	var all []CheckEntry
	var after *Cursor
	for page := 0; ; page++ {
		rows, next, err := s.ListChecks(ctx, ConnectionRecords, tenant, c.ID.String(), 3, after)
		if err != nil || page > 3 {
			t.Fatal(err, page)
		}
		all = append(all, rows...)
		if next == nil {
			break
		}
		// The cursor survives its wire form.
		decoded, err := DecodeCursor(next.Encode(), HistoryIDs)
		if err != nil {
			t.Fatal(err)
		}
		after = &decoded
	}
	seqs := make([]int64, len(all))
	for i, e := range all {
		seqs[i] = e.Seq
	}
	if !slices.Equal(seqs, []int64{7, 6, 5, 4}) {
		t.Fatalf("history seqs %v, want the newest 4 newest first", seqs)
	}
	// Check 5 (index 4) failed: 4 % 3 == 1.
	failed := all[2]
	if failed.OK || deref(failed.ErrorKind) != "timeout" || deref(failed.Error) != "failure 4" || failed.ToolsHash != nil ||
		failed.ProtocolVersion != nil || failed.DurationMs != 1000 {
		t.Errorf("failed entry %+v", failed)
	}
	ok := all[0]
	if !ok.OK || ok.ErrorKind != nil || ok.Error != nil || deref(ok.ToolsHash) == "" || deref(ok.ProtocolVersion) != "2025-06-18" || ok.DurationMs != 12 {
		t.Errorf("passing entry %+v", ok)
	}
	if _, err := DecodeCursor(Cursor{CreatedAt: time.Now(), ID: "12x"}.Encode(), HistoryIDs); !errors.Is(err, ErrInvalidCursor) {
		t.Errorf("a non-numeric history cursor decoded: %v", err)
	}
}

// Pruning finds what it deletes through the index, so storing a check does
// not get slower as the history grows: the plan must not scan the table.
func TestPruneUsesTheIndex(t *testing.T) {
	s := newStore(t)
	tenant := newTenant(t, s, "a")
	// What pruning leaves: each record's last 500 checks; 40 records.
	var c Connection
	for i := range 40 {
		c = newConn(t, s, tenant, fmt.Sprintf("plan%d", i))
		if _, err := s.db.Exec(`INSERT INTO check_history (connection_id, seq, at, ok, duration_ms)
			SELECT $1, g, now(), true, 1 FROM generate_series(19501, 20000) g`, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.Exec(`ANALYZE check_history`); err != nil {
		t.Fatal(err)
	}
	var plan []string
	if err := s.db.Select(&plan, `EXPLAIN DELETE FROM check_history h
		WHERE h.connection_id = $1 AND h.seq <= 19501`, c.ID); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if strings.Contains(text, "Seq Scan") || !strings.Contains(text, "check_history_connection_idx") {
		t.Fatalf("prune plan does not use the history index:\n%s", text)
	}
}

func TestServerCheckHistory(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	p := newProject(t, s, tenant, "p")
	srv := newHTTPServer(t, s, tenant, p.ID, "srv")
	first := catalogOf(t, toolA)
	for _, c := range []*catalog.Catalog{first, catalogOf(t, toolA, toolC)} {
		cur := s.mustGetServer(t, tenant, srv.ID)
		if _, err := s.RecordServerCheck(ctx, cur, passed(c), time.Hour, true); err != nil {
			t.Fatal(err)
		}
	}
	got := s.mustGetServer(t, tenant, srv.ID)
	if got.ToolCount == nil || *got.ToolCount != 2 || got.ToolsChangedAt == nil || got.CheckSeq != 2 {
		t.Fatalf("server check state %+v", got.CheckState)
	}
	checks, _, err := s.ListChecks(ctx, ServerRecords, tenant, srv.ID, 10, nil)
	if err != nil || len(checks) != 2 {
		t.Fatalf("server checks %+v, %v", checks, err)
	}
	changes, _, err := s.ListCatalogChanges(ctx, ServerRecords, tenant, srv.ID, 10, nil)
	if err != nil || len(changes) != 2 || fmt.Sprint(changes[0].ToolsAdded) != "[c]" || deref(changes[0].FromHash) != first.ToolsHash {
		t.Fatalf("server changes %+v, %v", changes, err)
	}
	if _, err := s.GetCatalog(ctx, ServerRecords, tenant, srv.ID); err != nil {
		t.Fatal(err)
	}
	// Deleting the record takes its side rows with it.
	if err := s.DeleteServer(ctx, tenant, srv.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"catalogs", "check_history", "catalog_changes"} {
		if n := countRows(t, s, table, "server_id", srv.ID); n != 0 {
			t.Errorf("%d %s rows left after deleting the server", n, table)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
