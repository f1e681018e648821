package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func newHTTPServer(t *testing.T, s *Store, tenantID uuid.UUID, projectID, name string) Server {
	t.Helper()
	srv := Server{
		Key: Key[string]{ID: NewServerID(), TenantID: tenantID}, ProjectID: projectID, Name: name,
		URL: new("https://mcp.example.com/" + name), TransportType: "http", ConnectionType: "direct",
	}
	if err := s.CreateServer(context.Background(), &srv); err != nil {
		t.Fatalf("CreateServer(%s): %v", name, err)
	}
	return srv
}

func setStatus(t *testing.T, s *Store, srv Server, status string) Server {
	t.Helper()
	got, err := s.UpdateServer(context.Background(), srv.TenantID, srv.ID, func(r *Server) error { r.Status = status; return nil })
	if err != nil {
		t.Fatalf("set status %s: %v", status, err)
	}
	return got
}

func TestServerCRUD(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	p := newProject(t, s, tenant, "p")

	keyID := "k1"
	srv := Server{
		Key: Key[string]{ID: NewServerID(), TenantID: tenant}, ProjectID: p.ID, Name: "Production Server",
		Description: new("Main production MCP server"), URL: new("https://mcp-server.example.com"),
		TransportType: "http", ConnectionType: "proxy", SealedToken: SealedToken{TokenCiphertext: []byte{1, 2, 3}, TokenKeyID: &keyID},
		// The store decides these on create.
		Health:          Health{Status: "connected", Capabilities: &Capabilities{Tools: true}, ServerName: new("x"), LastError: new("x")},
		LastConnectedAt: new(time.Now()),
	}
	before := time.Now().Add(-time.Second)
	if err := s.CreateServer(ctx, &srv); err != nil {
		t.Fatalf("CreateServer: %v", err)
	}
	if srv.Status != "connecting" || srv.Capabilities != nil || srv.ServerName != nil || srv.LastError != nil || srv.LastConnectedAt != nil {
		t.Fatalf("created server keeps caller probe fields: %+v", srv)
	}
	if srv.CreatedAt.Before(before) || !srv.CreatedAt.Equal(srv.UpdatedAt) || !isMillis(srv.CreatedAt) || srv.CreatedAt.Location() != time.UTC {
		t.Fatalf("created timestamps: %v %v", srv.CreatedAt, srv.UpdatedAt)
	}
	if srv.NextCheckAt.After(srv.CreatedAt) {
		t.Fatalf("a new server is not due for a probe: next %v created %v", srv.NextCheckAt, srv.CreatedAt)
	}
	if srv.Args != nil || srv.Command != nil {
		t.Fatalf("http server has command/args: %+v", srv)
	}
	got, err := s.GetServer(ctx, tenant, srv.ID)
	if err != nil || !reflect.DeepEqual(got, srv) {
		t.Fatalf("GetServer =\n%+v, %v\nwant\n%+v", got, err, srv)
	}

	// stdio: args round-trip, an empty list stays an empty list.
	for _, args := range [][]string{{}, {"-y", "@scope/server", "a b;c|d $(e)"}} {
		st := Server{Key: Key[string]{ID: NewServerID(), TenantID: tenant}, ProjectID: p.ID, Name: fmt.Sprintf("stdio %d", len(args)),
			TransportType: "stdio", ConnectionType: "direct", Command: new("npx"), Args: args}
		if err := s.CreateServer(ctx, &st); err != nil {
			t.Fatalf("CreateServer(stdio %q): %v", args, err)
		}
		got, err := s.GetServer(ctx, tenant, st.ID)
		if err != nil || got.Args == nil || !reflect.DeepEqual(got.Args, args) || *got.Command != "npx" || got.URL != nil {
			t.Fatalf("stdio server stored as %+v (%v), want args %q", got, err, args)
		}
	}

	other := newProject(t, s, tenant, "other")
	caps := Capabilities{Tools: true, Prompts: true}
	updated, err := s.UpdateServer(ctx, tenant, srv.ID, func(r *Server) error {
		r.ProjectID = other.ID
		r.Name = "renamed"
		r.Description = nil
		r.TransportType = "sse"
		r.URL = new("https://mcp-server.example.com/sse")
		r.TokenCiphertext, r.TokenKeyID, r.AuthType = nil, nil, "none"
		r.Status = "connected"
		r.Capabilities = &caps
		r.ServerName, r.ServerVersion = new("Example MCP"), new("1.0.0")
		r.ID, r.TenantID, r.CreatedAt = "mcp_other", uuid.New(), time.Time{} // immutable: ignored
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateServer: %v", err)
	}
	if updated.ID != srv.ID || updated.TenantID != tenant || !updated.CreatedAt.Equal(srv.CreatedAt) ||
		updated.ProjectID != other.ID || updated.Name != "renamed" || updated.Description != nil || updated.TransportType != "sse" ||
		updated.TokenCiphertext != nil || updated.Status != "connected" || *updated.Capabilities != caps ||
		*updated.ServerName != "Example MCP" || !updated.NextCheckAt.Equal(srv.NextCheckAt) || updated.UpdatedAt.Before(srv.UpdatedAt) {
		t.Fatalf("UpdateServer = %+v", updated)
	}

	due, err := s.UpdateServer(ctx, tenant, srv.ID, func(r *Server) error {
		r.NextCheckAt = time.Now().Add(time.Hour)
		return nil
	})
	if err != nil || !due.NextCheckAt.After(time.Now().Add(59*time.Minute)) {
		t.Fatalf("explicit NextCheckAt: %v, %v", due.NextCheckAt, err)
	}
	due, err = s.UpdateServer(ctx, tenant, srv.ID, func(r *Server) error { r.DueNow = true; return nil })
	if err != nil || due.NextCheckAt.After(time.Now().Add(time.Second)) || !isMillis(due.NextCheckAt) {
		t.Fatalf("DueNow left next check at %v (%v)", due.NextCheckAt, err)
	}

	serverCRUD(s).checkDeleted(t, tenant, srv.ID)
}

func TestServerConstraints(t *testing.T) {
	ctx, s, tenant, other := newTwoTenantStore(t)
	p := newProject(t, s, tenant, "p")
	theirs := newProject(t, s, other, "theirs")
	existing := newHTTPServer(t, s, tenant, p.ID, "taken")
	// A name the other tenant uses in its project: naming that project must
	// fail as unknown, never as a name clash that would reveal the name.
	newHTTPServer(t, s, other, theirs.ID, "n")

	base := func() Server {
		return Server{Key: Key[string]{ID: NewServerID(), TenantID: tenant}, ProjectID: p.ID, Name: "n", URL: new("https://x.example"),
			TransportType: "http", ConnectionType: "direct"}
	}
	tests := []struct {
		name   string
		change func(*Server)
		is     error
		text   string
	}{
		{"unknown project", func(r *Server) { r.ProjectID = "proj_nope" }, ErrProjectNotFound, "proj_nope"},
		{"another tenant's project", func(r *Server) { r.ProjectID = theirs.ID }, ErrProjectNotFound, theirs.ID},
		{"name taken in the project", func(r *Server) { r.Name = "taken" }, ErrNameTaken, ""},
		{"no id", func(r *Server) { r.ID = "" }, nil, "must assign an id"},
		{"bad id", func(r *Server) { r.ID = "mcp_a-b" }, nil, "letters and digits"},
		{"http without url", func(r *Server) { r.URL = nil }, nil, "http and sse need url"},
		{"http with command", func(r *Server) { r.Command = new("node") }, nil, "http and sse need url"},
		{"stdio with url", func(r *Server) { r.TransportType = "stdio"; r.Command = new("node"); r.Args = []string{} }, nil, "stdio needs command"},
		{"stdio without args", func(r *Server) { r.TransportType = "stdio"; r.URL = nil; r.Command = new("node") }, nil, "stdio needs command and args"},
		{"stdio with token", func(r *Server) {
			r.TransportType, r.URL, r.Command, r.Args = "stdio", nil, new("node"), []string{}
			r.TokenCiphertext, r.TokenKeyID = []byte{1}, new("k")
		}, nil, "stdio server cannot have a bearer token"},
		{"token without key id", func(r *Server) { r.TokenCiphertext = []byte{1} }, nil, "must be set together"},
		{"bad transport", func(r *Server) { r.TransportType = "ws" }, nil, `transport type "ws"`},
		{"bad connection type", func(r *Server) { r.ConnectionType = "tunnel" }, nil, `connection type "tunnel"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := base()
			tc.change(&srv)
			err := s.CreateServer(ctx, &srv)
			if err == nil {
				t.Fatal("CreateServer accepted it")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("CreateServer = %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.text) || errors.Is(err, ErrUnavailable) {
				t.Fatalf("CreateServer = %v, want it to mention %q", err, tc.text)
			}
		})
	}

	// The same name is free in another project.
	q := newProject(t, s, tenant, "q")
	newHTTPServer(t, s, tenant, q.ID, "taken")
	if _, err := s.UpdateServer(ctx, tenant, existing.ID, func(r *Server) error { r.ProjectID = theirs.ID; return nil }); !errors.Is(err, ErrProjectNotFound) {
		t.Fatalf("moving a server to another tenant's project = %v, want ErrProjectNotFound", err)
	}
	if _, err := s.UpdateServer(ctx, tenant, existing.ID, func(r *Server) error { r.ProjectID = q.ID; return nil }); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("moving onto a taken name = %v, want ErrNameTaken", err)
	}
	if _, err := s.UpdateServer(ctx, tenant, existing.ID, func(r *Server) error { r.Status = "sleeping"; return nil }); err == nil ||
		!strings.Contains(err.Error(), `status "sleeping"`) {
		t.Fatalf("bad status = %v", err)
	}
}

func TestServerTenantIsolation(t *testing.T) {
	ctx, s, a, b := newTwoTenantStore(t)
	srv := newHTTPServer(t, s, a, newProject(t, s, a, "p").ID, "s")

	serverCRUD(s).checkHidden(t, b, srv.ID)
	if _, _, err := s.ClaimServer(ctx, b, srv.ID, time.Minute); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ClaimServer by another tenant = %v", err)
	}
	wrong := srv
	wrong.TenantID = b
	if _, err := s.RecordServerCheck(ctx, wrong, CheckResult{OK: true}, time.Minute, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RecordServerCheck for another tenant = %v", err)
	}
}

func TestListServers(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "acme")
	p, q := newProject(t, s, tenant, "p"), newProject(t, s, tenant, "q")
	var all []string
	for i := range 5 {
		all = append(all, newHTTPServer(t, s, tenant, p.ID, fmt.Sprintf("p%d", i)).ID)
	}
	inQ := newHTTPServer(t, s, tenant, q.ID, "q0")
	all = append(all, inQ.ID)
	setStatus(t, s, inQ, "disconnected")
	ot := newTenant(t, s, "other")
	newHTTPServer(t, s, ot, newProject(t, s, ot, "x").ID, "p0")

	got := pagedIDs(t, func(after *Cursor) ([]Server, *Cursor, error) {
		return s.ListServers(ctx, ListServersParams{TenantID: tenant, Limit: 2, After: after})
	}, func(r Server) string { return r.ID })
	if len(got) != len(all) || !sameSet(got, all) {
		t.Fatalf("paged ids = %v, want %v once each", got, all)
	}

	count := func(p ListServersParams) int {
		t.Helper()
		p.TenantID, p.Limit = tenant, 100
		rows, _, err := s.ListServers(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return len(rows)
	}
	for name, tc := range map[string]struct {
		p    ListServersParams
		want int
	}{
		"project p":          {ListServersParams{ProjectID: &p.ID}, 5},
		"project q":          {ListServersParams{ProjectID: &q.ID}, 1},
		"unknown project":    {ListServersParams{ProjectID: new("proj_nope")}, 0},
		"connecting":         {ListServersParams{Status: new("connecting")}, 5},
		"disconnected":       {ListServersParams{Status: new("disconnected")}, 1},
		"q and connecting":   {ListServersParams{ProjectID: &q.ID, Status: new("connecting")}, 0},
		"name":               {ListServersParams{Name: new("p3")}, 1},
		"name is exact":      {ListServersParams{Name: new("p")}, 0},
		"name in project q":  {ListServersParams{Name: new("q0"), ProjectID: &q.ID}, 1},
		"name in wrong proj": {ListServersParams{Name: new("q0"), ProjectID: &p.ID}, 0},
	} {
		if got := count(tc.p); got != tc.want {
			t.Errorf("%s: %d servers, want %d", name, got, tc.want)
		}
	}
}

func TestClaimDueServers(t *testing.T) {
	s := newStore(t)
	a, b := newTenant(t, s, "a"), newTenant(t, s, "b")
	pa, pb := newProject(t, s, a, "p"), newProject(t, s, b, "p")

	var want []string
	for i, status := range []string{"connected", "error", "connecting", "connected"} {
		tenant, project := a, pa.ID
		if i%2 == 1 {
			tenant, project = b, pb.ID
		}
		srv := setStatus(t, s, newHTTPServer(t, s, tenant, project, fmt.Sprintf("s%d", i)), status)
		makeDue(t, s, ServerRecords, srv.ID, 10-i)
		want = append(want, srv.ID)
	}
	off := setStatus(t, s, newHTTPServer(t, s, a, pa.ID, "off"), "disconnected")
	makeDue(t, s, ServerRecords, off.ID, 60) // the most overdue of all, and still never claimed
	later := setStatus(t, s, newHTTPServer(t, s, a, pa.ID, "later"), "connected")
	makeDue(t, s, ServerRecords, later.ID, -60)

	// Disconnected rows are never claimed.
	checkClaims(t, s.ClaimDueServers, want, func(r Server) (string, time.Time, bool) {
		return r.ID, r.NextCheckAt, r.URL != nil && r.TenantID != uuid.Nil
	})
}

func serverIDs(rows []Server) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func TestClaimServer(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	p := newProject(t, s, tenant, "p")
	srv := newHTTPServer(t, s, tenant, p.ID, "s")

	got, ok, err := s.ClaimServer(ctx, tenant, srv.ID, time.Hour)
	if err != nil || !ok || got.ID != srv.ID || !got.NextCheckAt.After(time.Now().Add(59*time.Minute)) {
		t.Fatalf("ClaimServer of a new server = %+v, %v, %v", got, ok, err)
	}
	// Leased now: neither a second claim nor the scheduler gets it.
	if _, ok, err := s.ClaimServer(ctx, tenant, srv.ID, time.Hour); ok || err != nil {
		t.Fatalf("second ClaimServer = %v, %v; want not ok", ok, err)
	}
	if rows, err := s.ClaimDueServers(ctx, 10, time.Hour); err != nil || len(rows) != 0 {
		t.Fatalf("ClaimDueServers took a leased row: %v, %v", serverIDs(rows), err)
	}
	off := setStatus(t, s, newHTTPServer(t, s, tenant, p.ID, "off"), "disconnected")
	if _, ok, err := s.ClaimServer(ctx, tenant, off.ID, time.Hour); ok || err != nil {
		t.Fatalf("ClaimServer of a disconnected server = %v, %v; want not ok", ok, err)
	}
	if _, _, err := s.ClaimServer(ctx, tenant, "mcp_gone", time.Hour); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ClaimServer of a missing server = %v", err)
	}
	if _, _, err := s.ClaimServer(ctx, tenant, srv.ID, 0); err == nil {
		t.Fatal("ClaimServer accepted a zero lease")
	}
}

func TestRecordServerCheck(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	p := newProject(t, s, tenant, "p")
	srv := newHTTPServer(t, s, tenant, p.ID, "s")

	pass := CheckResult{OK: true, Capabilities: Capabilities{Tools: true, Resources: true}, ServerName: "Example MCP", ServerVersion: "1.0.0"}
	before := time.Now().Add(-time.Second)
	ok, err := s.RecordServerCheck(ctx, srv, pass, time.Minute, false)
	if err != nil {
		t.Fatalf("RecordServerCheck(pass): %v", err)
	}
	if ok.Status != "connected" || ok.LastError != nil || *ok.Capabilities != pass.Capabilities ||
		*ok.ServerName != "Example MCP" || *ok.ServerVersion != "1.0.0" || ok.LastConnectedAt == nil ||
		ok.LastConnectedAt.Before(before) || !ok.LastConnectedAt.Equal(ok.UpdatedAt) ||
		!ok.NextCheckAt.Equal(ok.UpdatedAt.Add(time.Minute)) {
		t.Fatalf("after a passing check: %+v", ok)
	}

	failed, err := s.RecordServerCheck(ctx, ok, CheckResult{Err: "connection refused"}, time.Minute, false)
	if err != nil {
		t.Fatal(err)
	}
	if failed.Status != "error" || *failed.LastError != "connection refused" || *failed.Capabilities != pass.Capabilities ||
		*failed.ServerName != "Example MCP" || !failed.LastConnectedAt.Equal(*ok.LastConnectedAt) || failed.UpdatedAt.Before(ok.UpdatedAt) {
		t.Fatalf("a failed check must keep what the last good one learnt: %+v", failed)
	}
	if silent, _ := s.RecordServerCheck(ctx, ok, CheckResult{}, time.Minute, false); silent.LastError == nil || *silent.LastError == "" {
		t.Fatalf("a failure without a message stored lastError %v", silent.LastError)
	}

	// A result for an endpoint the row no longer has is not stored.
	moved, err := s.UpdateServer(ctx, tenant, srv.ID, func(r *Server) error { r.URL = new("https://elsewhere.example"); return nil })
	if err != nil {
		t.Fatal(err)
	}
	for name, stale := range map[string]Server{
		"url":       srv,
		"transport": func() Server { x := moved; x.TransportType = "sse"; return x }(),
		"token":     func() Server { x := moved; x.TokenCiphertext = []byte{9}; return x }(),
	} {
		current, err := s.RecordServerCheck(ctx, stale, pass, time.Minute, true)
		if !errors.Is(err, ErrChanged) || current.ID != srv.ID || *current.URL != "https://elsewhere.example" || current.Status != moved.Status {
			t.Fatalf("stale %s: %+v, %v; want the current row and ErrChanged", name, current, err)
		}
	}

	// A disconnect during a scheduled probe wins; a manual connect does not care.
	off := setStatus(t, s, moved, "disconnected")
	if current, err := s.RecordServerCheck(ctx, off, pass, time.Minute, false); !errors.Is(err, ErrChanged) || current.Status != "disconnected" {
		t.Fatalf("scheduled result on a disconnected server: %s, %v", current.Status, err)
	}
	if on, err := s.RecordServerCheck(ctx, off, pass, time.Minute, true); err != nil || on.Status != "connected" {
		t.Fatalf("manual connect of a disconnected server: %+v, %v", on, err)
	}

	// stdio rows compare command and args.
	st := Server{Key: Key[string]{ID: NewServerID(), TenantID: tenant}, ProjectID: p.ID, Name: "stdio", TransportType: "stdio",
		ConnectionType: "direct", Command: new("node"), Args: []string{"a"}}
	if err := s.CreateServer(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordServerCheck(ctx, st, pass, time.Minute, false); err != nil {
		t.Fatalf("stdio check: %v", err)
	}
	if _, err := s.UpdateServer(ctx, tenant, st.ID, func(r *Server) error { r.Args = []string{"b"}; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordServerCheck(ctx, st, pass, time.Minute, true); !errors.Is(err, ErrChanged) {
		t.Fatalf("check with old args = %v, want ErrChanged", err)
	}
	if _, err := s.RecordServerCheck(ctx, st, pass, 0, true); err == nil {
		t.Fatal("RecordServerCheck accepted a zero interval")
	}
}

// Several results in one batch: each is stored or refused as
// RecordServerCheck would, and the same row twice is stored in order.
func TestRecordServerChecksBatch(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	p := newProject(t, s, tenant, "p")
	pass := newHTTPServer(t, s, tenant, p.ID, "pass")
	fail := newHTTPServer(t, s, tenant, p.ID, "fail")
	moved := newHTTPServer(t, s, tenant, p.ID, "moved")
	if _, err := s.UpdateServer(ctx, tenant, moved.ID, func(r *Server) error { r.URL = new("https://elsewhere.example"); return nil }); err != nil {
		t.Fatal(err)
	}
	gone := newHTTPServer(t, s, tenant, p.ID, "gone")
	if err := s.DeleteServer(ctx, tenant, gone.ID); err != nil {
		t.Fatal(err)
	}
	off := setStatus(t, s, newHTTPServer(t, s, tenant, p.ID, "off"), "disconnected")
	revived := setStatus(t, s, newHTTPServer(t, s, tenant, p.ID, "revived"), "disconnected")
	stdio := Server{Key: Key[string]{ID: NewServerID(), TenantID: tenant}, ProjectID: p.ID, Name: "stdio", TransportType: "stdio",
		ConnectionType: "direct", Command: new("node"), Args: []string{"a b", `c"d`}}
	noArgs := Server{Key: Key[string]{ID: NewServerID(), TenantID: tenant}, ProjectID: p.ID, Name: "no-args", TransportType: "stdio",
		ConnectionType: "direct", Command: new("node"), Args: []string{}}
	for _, srv := range []*Server{&stdio, &noArgs} {
		if err := s.CreateServer(ctx, srv); err != nil {
			t.Fatal(err)
		}
	}

	ok := func(name string) CheckResult {
		return CheckResult{OK: true, Capabilities: Capabilities{Tools: true}, ServerName: name, ServerVersion: "1"}
	}
	checks := []Check[Server]{
		{Record: pass, Result: ok("first")},
		{Record: fail, Result: CheckResult{Err: "refused"}},
		{Record: moved, Result: ok("moved")},
		{Record: gone, Result: ok("gone")},
		{Record: off, Result: ok("off")},
		{Record: revived, Result: ok("revived"), Manual: true},
		{Record: stdio, Result: ok("stdio")},
		{Record: noArgs, Result: ok("no args")},
		{Record: pass, Result: ok("second")},
	}
	out, err := s.RecordServerChecks(ctx, checks, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(checks) {
		t.Fatalf("%d outcomes for %d checks", len(out), len(checks))
	}
	want := []struct {
		err    error
		status string
	}{{nil, "connected"}, {nil, "error"}, {ErrChanged, "connecting"}, {ErrNotFound, ""}, {ErrChanged, "disconnected"},
		{nil, "connected"}, {nil, "connected"}, {nil, "connected"}, {nil, "connected"}}
	for i, w := range want {
		if !errors.Is(out[i].Err, w.err) || (w.err == nil) != (out[i].Err == nil) || out[i].Record.Status != w.status {
			t.Errorf("check %d (%s): %s, %v; want %s, %v", i, checks[i].Record.Name, out[i].Record.Status, out[i].Err, w.status, w.err)
		}
		if o := out[i]; o.Err == nil && o.Record.Status == "connected" && !o.Record.LastConnectedAt.Equal(o.Record.UpdatedAt) {
			t.Errorf("check %d: lastConnectedAt %v, updatedAt %v", i, o.Record.LastConnectedAt, o.Record.UpdatedAt)
		}
	}
	if *out[1].Record.LastError != "refused" || *out[6].Record.ServerName != "stdio" || !slices.Equal(out[6].Record.Args, stdio.Args) {
		t.Errorf("stored rows: %+v, %+v", out[1].Record, out[6].Record)
	}
	if got := s.mustGetServer(t, tenant, noArgs.ID); got.Args == nil || len(got.Args) != 0 {
		t.Errorf("args of a stdio server without args = %#v, want []", got.Args)
	}
	if got := s.mustGetServer(t, tenant, pass.ID); *got.ServerName != "second" {
		t.Errorf("stored server name %q, want the later check's", *got.ServerName)
	}
	if out, err := s.RecordServerChecks(ctx, nil, time.Hour); err != nil || len(out) != 0 {
		t.Errorf("empty batch: %v, %v", out, err)
	}
}

func (s *Store) mustGetServer(t *testing.T, tenant uuid.UUID, id string) Server {
	t.Helper()
	srv, err := s.GetServer(context.Background(), tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func TestReencryptServerSecrets(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	p := newProject(t, s, tenant, "p")
	for i := range reencryptBatch + 3 {
		srv := Server{Key: Key[string]{ID: NewServerID(), TenantID: tenant}, ProjectID: p.ID, Name: fmt.Sprint(i), URL: new("https://x.example"),
			TransportType: "http", ConnectionType: "direct", SealedToken: SealedToken{TokenCiphertext: []byte("old:" + fmt.Sprint(i)), TokenKeyID: new("old")}}
		if err := s.CreateServer(ctx, &srv); err != nil {
			t.Fatal(err)
		}
	}
	plain := newHTTPServer(t, s, tenant, p.ID, "no token")
	n, err := s.ReencryptServerSecrets(ctx, func(aad, ct []byte, keyID string) ([]byte, string, error) {
		if string(aad) == string(ServerTokenAAD(plain.ID)) {
			t.Error("fn called for a server without a token")
		}
		if keyID == "new" {
			return ct, keyID, nil
		}
		return append([]byte("new:"), strings.TrimPrefix(string(ct), "old:")...), "new", nil
	})
	if err != nil || n != reencryptBatch+3 {
		t.Fatalf("ReencryptServerSecrets = %d, %v; want %d", n, err, reencryptBatch+3)
	}
	var old int
	if err := s.db.Get(&old, `SELECT count(*) FROM mcp_servers WHERE token_key_id <> 'new' OR NOT starts_with(encode(token_ciphertext, 'escape'), 'new:')`); err != nil || old != 0 {
		t.Fatalf("%d tokens not re-encrypted (%v)", old, err)
	}
	boom := errors.New("key gone")
	if _, err := s.ReencryptServerSecrets(ctx, func([]byte, []byte, string) ([]byte, string, error) { return nil, "", boom }); !errors.Is(err, boom) {
		t.Fatalf("failing fn = %v", err)
	}
}
