package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

func newAgent(t *testing.T, s *Store, tenantID uuid.UUID, name string, list ...Assignment) Agent {
	t.Helper()
	id, _ := uuid.NewV7()
	a := Agent{Key: Key[uuid.UUID]{ID: id, TenantID: tenantID}, Name: name, Assignments: list}
	if err := s.CreateAgent(context.Background(), &a); err != nil {
		t.Fatalf("CreateAgent(%s): %v", name, err)
	}
	return a
}

func newProxyServer(t *testing.T, s *Store, tenantID uuid.UUID, projectID, name, connectionType string) Server {
	t.Helper()
	srv := Server{Key: Key[string]{ID: NewServerID(), TenantID: tenantID}, ProjectID: projectID, Name: name,
		URL: new("https://mcp.example.com/" + name), TransportType: "http", ConnectionType: connectionType}
	if err := s.CreateServer(context.Background(), &srv); err != nil {
		t.Fatalf("CreateServer(%s): %v", name, err)
	}
	return srv
}

func TestAgentAssignments(t *testing.T) {
	t.Parallel()
	ctx, s, tenant := newTenantStore(t, "t")
	other := newTenant(t, s, "other")
	c1 := newConn(t, s, tenant, "GitHub Tools!")
	c2 := newConn(t, s, tenant, "docs")
	if _, err := s.UpdateConnection(ctx, tenant, c1.ID, func(c *Connection) error {
		c.Instructions = new("Use the issue tools.")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p := newProject(t, s, tenant, "p")
	proxy := newProxyServer(t, s, tenant, p.ID, "Search", "proxy")
	direct := newProxyServer(t, s, tenant, p.ID, "Direct", "direct")
	foreign := newConn(t, s, other, "foreign")

	a := newAgent(t, s, tenant, "bot",
		Assignment{ConnectionID: &c1.ID},
		Assignment{ConnectionID: &c2.ID, AllowedTools: []string{"read"}},
		Assignment{ServerID: &proxy.ID, Prefix: "web"})
	got, err := s.GetAgent(ctx, tenant, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Assignments) != 3 || got.Assignments[0].Prefix != "github_tools" || got.Assignments[1].Prefix != "docs" ||
		got.Assignments[2].Prefix != "web" || got.Assignments[0].AllowedTools != nil || len(got.Assignments[1].AllowedTools) != 1 {
		t.Fatalf("assignments = %+v", got.Assignments)
	}
	if ins := got.Instructions(); ins == nil || *ins != "## GitHub Tools!\nUse the issue tools." {
		t.Fatalf("instructions = %v", ins)
	}

	for name, list := range map[string][]Assignment{
		"another tenant's connection": {{ConnectionID: &foreign.ID}},
		"a direct server":             {{ServerID: &direct.ID}},
		"a duplicate prefix":          {{ConnectionID: &c1.ID, Prefix: "x"}, {ConnectionID: &c2.ID, Prefix: "x"}},
	} {
		_, err := s.UpdateAgent(ctx, tenant, a.ID, func(a *Agent) error { a.Assignments = list; return nil })
		var ae *AssignmentError
		if !errors.As(err, &ae) {
			t.Errorf("%s: err = %v, want *AssignmentError", name, err)
		}
	}

	// An assigned proxy server cannot become direct.
	_, err = s.UpdateServer(ctx, tenant, proxy.ID, func(srv *Server) error { srv.ConnectionType = "direct"; return nil })
	if e, ok := errors.AsType[*ServerAssignedError](err); !ok || e.Agents != 1 {
		t.Fatalf("UpdateServer to direct: %v", err)
	}
	// Deleting an assigned connection removes its assignment and keeps the others.
	if err := s.DeleteConnection(ctx, tenant, c1.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetAgent(ctx, tenant, a.ID)
	if len(got.Assignments) != 2 || got.Assignments[0].Prefix != "docs" || got.Instructions() != nil {
		t.Fatalf("after deleting a connection: %+v", got.Assignments)
	}
	if _, err := s.GetAgent(ctx, other, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetAgent of another tenant: %v", err)
	}
	if err := s.DeleteAgent(ctx, tenant, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAgent(ctx, tenant, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second DeleteAgent: %v", err)
	}
}

func TestAgentForToken(t *testing.T) {
	t.Parallel()
	ctx, s, tenant := newTenantStore(t, "t")
	a := newAgent(t, s, tenant, "bot")
	mk := func(name string, expires *time.Time) AgentToken {
		tok := AgentToken{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, AgentID: a.ID, Name: name, TokenHash: hash(name), ExpiresAt: expires}
		if err := s.CreateAgentToken(ctx, &tok); err != nil {
			t.Fatalf("CreateAgentToken(%s): %v", name, err)
		}
		return tok
	}
	live := mk("live", new(time.Now().Add(time.Hour)))
	forever := mk("forever", nil)
	revoked := mk("revoked", nil)
	expired := mk("expired", new(time.Now().Add(-time.Second)))
	if err := s.RevokeAgentToken(ctx, tenant, a.ID, revoked.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAgentToken(ctx, tenant, a.ID, revoked.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	for _, tok := range []AgentToken{live, forever} {
		got, err := s.AgentForToken(ctx, tok.TokenHash)
		if err != nil || got.TenantID != tenant || got.AgentID != a.ID || got.TokenID != tok.ID ||
			!equalPtr(got.ExpiresAt, tok.ExpiresAt) {
			t.Fatalf("AgentForToken(%s) = %+v, %v", tok.Name, got, err)
		}
	}
	for _, tok := range []AgentToken{revoked, expired} {
		if _, err := s.AgentForToken(ctx, tok.TokenHash); !errors.Is(err, ErrNotFound) {
			t.Fatalf("AgentForToken(%s): %v, want ErrNotFound", tok.Name, err)
		}
	}
	if _, err := s.AgentForToken(ctx, hash("never issued")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	rows, _, err := s.ListAgentTokens(ctx, ListAgentTokensParams{TenantID: tenant, AgentID: a.ID, Limit: 10})
	if err != nil || len(rows) != 3 {
		t.Fatalf("list = %d rows, %v; want the 3 unrevoked", len(rows), err)
	}
	var stored []byte
	if err := s.db.GetContext(ctx, &stored, `SELECT token_hash FROM agent_tokens WHERE id = $1`, live.ID); err != nil || !bytes.Equal(stored, hash("live")) {
		t.Fatalf("stored hash = %x, %v", stored, err)
	}
	// The agent's tokens go with it.
	if err := s.DeleteAgent(ctx, tenant, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AgentForToken(ctx, live.TokenHash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("token of a deleted agent: %v", err)
	}
}

func TestAuditEvents(t *testing.T) {
	t.Parallel()
	ctx, s, tenant := newTenantStore(t, "t")
	other := newTenant(t, s, "other")
	agent := uuid.New()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var batch []AuditEvent
	for i := range 5 {
		batch = append(batch, AuditEvent{Key: Key[uuid.UUID]{TenantID: tenant}, At: base.Add(time.Duration(i) * time.Second), Action: "tools/call",
			AgentID: &agent, Tool: new("search__find"), Outcome: "ok", DurationMs: new(int64(i))})
	}
	batch = append(batch, AuditEvent{Key: Key[uuid.UUID]{TenantID: other}, At: base, Action: "tools/call", Outcome: "error"})
	if err := s.InsertAuditEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// A write with an audit event in its context stores both or neither.
	c := Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Name: "c", ServerURL: "https://x.example.com", AuthType: "none"}
	wctx := WithAudit(ctx, AuditEvent{Key: Key[uuid.UUID]{TenantID: tenant}, Action: "connection.create", RecordKind: new("connection"), RecordID: new(c.ID.String()), Outcome: "ok"})
	if err := s.CreateConnection(wctx, &c); err != nil {
		t.Fatal(err)
	}
	dup := Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Name: "c", ServerURL: "https://x.example.com", AuthType: "none"}
	if err := s.CreateConnection(WithAudit(ctx, AuditEvent{Key: Key[uuid.UUID]{TenantID: tenant}, Action: "connection.create", Outcome: "ok"}), &dup); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("duplicate create: %v", err)
	}

	var seen []AuditEvent
	var after *Cursor
	for {
		page, next, err := s.ListAuditEvents(ctx, ListAuditEventsParams{TenantID: tenant, Limit: 2, After: after})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, page...)
		if next == nil {
			break
		}
		after = next
	}
	if len(seen) != 6 || seen[0].Action != "connection.create" || *seen[1].DurationMs != 4 || *seen[5].DurationMs != 0 {
		t.Fatalf("events = %+v", seen)
	}
	page, _, err := s.ListAuditEvents(ctx, ListAuditEventsParams{TenantID: tenant, Limit: 10, AgentID: &agent,
		Since: new(base.Add(3 * time.Second))})
	if err != nil || len(page) != 2 {
		t.Fatalf("agent and since filters: %d, %v", len(page), err)
	}
	page, _, err = s.ListAuditEvents(ctx, ListAuditEventsParams{TenantID: tenant, Limit: 10, RecordID: new(c.ID.String()),
		Action: new("connection.create")})
	if err != nil || len(page) != 1 {
		t.Fatalf("record and action filters: %d, %v", len(page), err)
	}
}

func TestServerInstructionsStoredOnPass(t *testing.T) {
	t.Parallel()
	ctx, s, tenant := newTenantStore(t, "t")
	p := newProject(t, s, tenant, "p")
	srv := newProxyServer(t, s, tenant, p.ID, "Search", "proxy")
	stored, err := s.RecordServerCheck(ctx, srv, CheckResult{OK: true, Instructions: new("Search first.")}, time.Minute, false)
	if err != nil || stored.Instructions == nil || *stored.Instructions != "Search first." {
		t.Fatalf("pass: %v, %v", stored.Instructions, err)
	}
	// A failure keeps the last known instructions.
	stored, err = s.RecordServerCheck(ctx, stored, CheckResult{Err: "down"}, time.Minute, false)
	if err != nil || stored.Instructions == nil || *stored.Instructions != "Search first." {
		t.Fatalf("failure: %v, %v", stored.Instructions, err)
	}
	a := newAgent(t, s, tenant, "bot", Assignment{ServerID: &srv.ID})
	if ins := a.Instructions(); ins == nil || *ins != "## Search\nSearch first." {
		t.Fatalf("agent instructions = %v", ins)
	}
}

// TestAuditEventValuesRoundTrip: the array literals InsertAuditEvents
// builds carry every value as itself, however it is spelled, and every
// absent one as NULL.
func TestAuditEventValuesRoundTrip(t *testing.T) {
	t.Parallel()
	ctx, s, tenant := newTenantStore(t, "t")
	hostile := []string{"", "NULL", "null", `a "quoted" word`, `back\slash\`, "{braces},commas", " spaced ", "line\nbreak\ttab", "ünïcødé ✓", `\"`, "}"}
	agent, token := uuid.New(), uuid.New()
	at := time.Date(2026, 12, 1, 19, 2, 3, 456_000_000, time.UTC)
	var want []AuditEvent
	for i, v := range hostile {
		want = append(want, AuditEvent{Key: Key[uuid.UUID]{ID: newAuditEventID(), TenantID: tenant}, At: at.Add(time.Duration(i) * time.Millisecond),
			Action: "tools/call", AgentID: &agent, TokenID: &token, RecordKind: new("server"), RecordID: new(v), Tool: new(v + "__t"),
			Outcome: "error", DurationMs: new(int64(-i)), Error: new(v)})
	}
	// And one with every optional column absent, its time the database's.
	want = append(want, AuditEvent{Key: Key[uuid.UUID]{TenantID: tenant}, Action: "connection.delete", Outcome: "ok"})
	if err := s.InsertAuditEvents(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.ListAuditEvents(ctx, ListAuditEventsParams{TenantID: tenant, Limit: 100})
	if err != nil || len(got) != len(want) {
		t.Fatalf("list: %d events, %v; want %d", len(got), err, len(want))
	}
	byID := map[uuid.UUID]AuditEvent{}
	for _, ev := range got {
		byID[ev.ID] = ev
	}
	for _, w := range want[:len(hostile)] {
		g, ok := byID[w.ID]
		if !ok {
			t.Fatalf("event %s (record %q) missing", w.ID, *w.RecordID)
		}
		if !g.At.Equal(w.At) || *g.RecordID != *w.RecordID || *g.Tool != *w.Tool || *g.Error != *w.Error ||
			*g.DurationMs != *w.DurationMs || *g.AgentID != agent || *g.TokenID != token || *g.RecordKind != "server" || g.APIKeyID != nil {
			t.Errorf("stored %+v\nwant     %+v", g, w)
		}
	}
	var bare AuditEvent
	for _, ev := range got {
		if ev.Action == "connection.delete" {
			bare = ev
		}
	}
	if bare.ID == uuid.Nil || bare.At.IsZero() || bare.AgentID != nil || bare.TokenID != nil || bare.RecordKind != nil ||
		bare.RecordID != nil || bare.Tool != nil || bare.DurationMs != nil || bare.Error != nil {
		t.Fatalf("event without optional values stored as %+v", bare)
	}
}

// TestAuditEventsOutliveTheirTenant: the audit log keeps no foreign key,
// not even to its tenant (migration 00009), so removing a tenant's rows by
// hand leaves its trail.
func TestAuditEventsOutliveTheirTenant(t *testing.T) {
	t.Parallel()
	ctx, s, tenant := newTenantStore(t, "gone")
	if err := s.InsertAuditEvents(ctx, []AuditEvent{{Key: Key[uuid.UUID]{TenantID: tenant}, Action: "tools/call", Outcome: "ok"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`DELETE FROM tenants WHERE id = $1`, tenant); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.ListAuditEvents(ctx, ListAuditEventsParams{TenantID: tenant, Limit: 10})
	if err != nil || len(got) != 1 {
		t.Fatalf("after the tenant went: %d events, %v; want its 1", len(got), err)
	}
}
