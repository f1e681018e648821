package store

import (
	"context"
	"testing"
	"time"
)

func TestCountOverdueChecks(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	count := func(grace time.Duration) OverdueChecks {
		t.Helper()
		got, err := s.CountOverdueChecks(ctx, grace)
		if err != nil {
			t.Fatalf("CountOverdueChecks: %v", err)
		}
		return got
	}
	// New records are due at once, so not overdue by a minute.
	late, onTime := newConn(t, s, tenant, "late"), newConn(t, s, tenant, "on-time")
	project := newProject(t, s, tenant, "p").ID
	lateSrv := newHTTPServer(t, s, tenant, project, "late")
	off := newHTTPServer(t, s, tenant, project, "off")
	if got := count(time.Minute); got != (OverdueChecks{}) {
		t.Fatalf("fresh records: got %+v overdue, want none", got)
	}
	makeDue(t, s, ConnectionRecords, late.ID, 10)
	makeDue(t, s, ConnectionRecords, onTime.ID, -10) // due in ten minutes
	makeDue(t, s, ServerRecords, lateSrv.ID, 10)
	// A disconnected server is never checked, so never overdue.
	off = setStatus(t, s, off, "disconnected")
	makeDue(t, s, ServerRecords, off.ID, 10)
	if got, want := count(time.Minute), (OverdueChecks{Connections: 1, Servers: 1}); got != want {
		t.Fatalf("got %+v overdue, want %+v", got, want)
	}
	if got := count(time.Hour); got != (OverdueChecks{}) {
		t.Fatalf("with an hour's grace: got %+v overdue, want none", got)
	}
	// A claim leases the row: it is being checked, not overdue.
	if _, err := s.ClaimDueConnections(ctx, 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, want := count(time.Minute), (OverdueChecks{Servers: 1}); got != want {
		t.Fatalf("after a claim: got %+v overdue, want %+v", got, want)
	}
}

func TestCountOverdueChecksUnavailable(t *testing.T) {
	s := openUnreachableStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.CountOverdueChecks(ctx, time.Minute); err == nil {
		t.Fatal("CountOverdueChecks on an unreachable database: no error")
	}
}

func TestDBStats(t *testing.T) {
	ctx, s, _ := newTenantStore(t, "a")
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.DBStats(); got.OpenConnections < 1 {
		t.Fatalf("DBStats after a ping: %d open connections, want at least 1", got.OpenConnections)
	}
}
