package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/internal/poll"
)

// countingInserter counts the inserts (one round trip each) that reach the
// real store, and the events they carried.
type countingInserter struct {
	s      *Store
	groups atomic.Int64
	events atomic.Int64
}

func (c *countingInserter) InsertAuditEvents(ctx context.Context, events []AuditEvent) error {
	c.groups.Add(1)
	c.events.Add(int64(len(events)))
	return c.s.InsertAuditEvents(ctx, events)
}

// auditEventStored reports whether the table holds the event with id.
func auditEventStored(t *testing.T, s *Store, id uuid.UUID) bool {
	t.Helper()
	var n int
	if err := s.db.GetContext(context.Background(), &n, `SELECT count(*) FROM audit_events WHERE id = $1`, id); err != nil {
		t.Errorf("count audit event %s: %v", id, err)
	}
	return n == 1
}

func gatewayEvent(tenant uuid.UUID) AuditEvent {
	return AuditEvent{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Action: "tools/call", Outcome: "ok", Tool: new("echo")}
}

// TestAuditWriterGroupsConcurrentRecords: 64 concurrent Records cost far
// fewer than 64 inserts, and each event is in the table when its Record
// returns.
func TestAuditWriterGroupsConcurrentRecords(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	tenant := newTenant(t, s, "t")
	counter := &countingInserter{s: s}
	w := NewAuditWriter(counter, AuditWriterOptions{})
	defer w.Close()

	const n = 64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			ev := gatewayEvent(tenant)
			<-start
			if err := w.Record(context.Background(), ev); err != nil {
				t.Errorf("Record: %v", err)
				return
			}
			if !auditEventStored(t, s, ev.ID) {
				t.Errorf("Record returned nil but event %s is not in the table", ev.ID)
			}
		})
	}
	close(start)
	wg.Wait()
	groups := counter.groups.Load()
	t.Logf("%d events in %d inserts", counter.events.Load(), groups)
	if counter.events.Load() != n {
		t.Fatalf("%d events inserted, want %d", counter.events.Load(), n)
	}
	if groups > n/4 {
		t.Fatalf("%d inserts for %d concurrent events: they were not grouped", groups, n)
	}
}

// gatedInserter holds its first insert until gate is closed; the others
// go through.
type gatedInserter struct {
	countingInserter
	entered chan struct{}
	gate    chan struct{}
	first   atomic.Bool
}

// newGatedWriter is an audit writer of writers writers over a gated
// inserter into a new store, and the tenant of its events.
func newGatedWriter(t *testing.T, writers int) (uuid.UUID, *gatedInserter, *AuditWriter) {
	t.Helper()
	s := newStore(t)
	tenant := newTenant(t, s, "t")
	ins := &gatedInserter{countingInserter: countingInserter{s: s}, entered: make(chan struct{}), gate: make(chan struct{})}
	return tenant, ins, NewAuditWriter(ins, AuditWriterOptions{Writers: writers})
}

func (g *gatedInserter) InsertAuditEvents(ctx context.Context, events []AuditEvent) error {
	if g.first.CompareAndSwap(false, true) {
		close(g.entered)
		<-g.gate
	}
	return g.countingInserter.InsertAuditEvents(ctx, events)
}

// TestAuditWriterCloseFlushes: events still queued when Close is called
// (behind a group being written) are written before Close returns, and
// their Records return nil.
func TestAuditWriterCloseFlushes(t *testing.T) {
	t.Parallel()
	// One writer, so that the held group keeps the others queued.
	tenant, ins, w := newGatedWriter(t, 1)

	const n = 5
	errs := make(chan error, n+1)
	ids := make([]uuid.UUID, 0, n+1)
	record := func() {
		ev := gatewayEvent(tenant)
		ids = append(ids, ev.ID)
		go func() { errs <- w.Record(context.Background(), ev) }()
	}
	record()
	<-ins.entered // the first group is being written and held
	for range n {
		record()
	}
	if !poll.Until(time.Minute, 5*time.Millisecond, func() bool { return len(w.queue) >= n }) {
		t.Fatalf("only %d events queued", len(w.queue))
	}
	closed := make(chan struct{})
	go func() {
		_ = w.Close()
		close(closed)
	}()
	// Close takes effect (later Records are refused) before the held
	// group is released.
	isClosed := func() bool {
		w.mu.RLock()
		defer w.mu.RUnlock()
		return w.closed
	}
	if !poll.Until(time.Minute, 5*time.Millisecond, isClosed) {
		t.Fatal("Close did not take effect")
	}
	close(ins.gate)
	<-closed
	for range n + 1 {
		if err := <-errs; err != nil {
			t.Errorf("Record: %v", err)
		}
	}
	for _, id := range ids {
		if !auditEventStored(t, ins.s, id) {
			t.Errorf("event %s was not flushed by Close", id)
		}
	}
	if err := w.Record(context.Background(), gatewayEvent(tenant)); !errors.Is(err, ErrAuditWriterClosed) {
		t.Fatalf("Record after Close = %v, want ErrAuditWriterClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestAuditWriterGroupsDoNotWaitForEachOther: while one group's insert is
// held, an event that comes later is written by another writer, and its
// Record returns.
func TestAuditWriterGroupsDoNotWaitForEachOther(t *testing.T) {
	t.Parallel()
	tenant, ins, w := newGatedWriter(t, 2)
	defer w.Close()
	held := make(chan error, 1)
	go func() { held <- w.Record(context.Background(), gatewayEvent(tenant)) }()
	<-ins.entered
	ev := gatewayEvent(tenant)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Record(ctx, ev); err != nil {
		t.Fatalf("Record behind a held group: %v", err)
	}
	if !auditEventStored(t, ins.s, ev.ID) {
		t.Errorf("event %s is not in the table", ev.ID)
	}
	close(ins.gate)
	if err := <-held; err != nil {
		t.Errorf("the held Record: %v", err)
	}
}

// TestAuditWriterDatabaseDown: every waiter of a group that cannot be
// written gets the error, promptly.
func TestAuditWriterDatabaseDown(t *testing.T) {
	t.Parallel()
	s := openUnreachableStore(t)
	w := NewAuditWriter(s, AuditWriterOptions{WriteTimeout: 5 * time.Second})
	defer w.Close()

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := w.Record(ctx, gatewayEvent(uuid.New()))
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("Record with the database down = %v, want ErrUnavailable", err)
			}
		})
	}
	wg.Wait()
}

// TestAuditWriterRefusesIncompleteEvents: an event the insert would refuse
// never joins a group, where it would fail the others.
func TestAuditWriterRefusesIncompleteEvents(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	counter := &countingInserter{s: s}
	w := NewAuditWriter(counter, AuditWriterOptions{})
	defer w.Close()
	if err := w.Record(context.Background(), AuditEvent{Key: Key[uuid.UUID]{TenantID: uuid.New()}, Action: "tools/call"}); err == nil {
		t.Fatal("an event without an outcome was accepted")
	}
	if counter.groups.Load() != 0 {
		t.Fatal("an incomplete event reached the database")
	}
}

// TestAuditWriterLoneEventDoesNotWait: MaxWait gathers concurrent events
// only; one that comes alone is written at once, however long MaxWait is.
func TestAuditWriterLoneEventDoesNotWait(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	tenant := newTenant(t, s, "t")
	w := NewAuditWriter(s, AuditWriterOptions{MaxWait: time.Hour})
	defer w.Close()
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		ev := gatewayEvent(tenant)
		err := w.Record(ctx, ev)
		cancel()
		if err != nil {
			t.Fatalf("a lone Record with MaxWait of an hour: %v", err)
		}
		if !auditEventStored(t, s, ev.ID) {
			t.Errorf("event %s is not in the table", ev.ID)
		}
	}
}
