package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults of an AuditWriter.
const (
	// DefaultAuditGroupSize is the most events one insert carries.
	DefaultAuditGroupSize = 256
	// DefaultAuditMaxWait is serve's MaxWait. A commit costs PostgreSQL
	// some 300 µs of CPU whatever its size, a row some 45: in the gateway
	// benchmark (16 concurrent callers, one run each, PostgreSQL's CPU per
	// call) 230 µs with 2 ms, 137 with 5 and 100 with 10, measured while
	// audit_events still had its tenant foreign key (a trigger and an
	// index probe per row; migration 00009 dropped it): 90-120 µs with 5
	// ms since. 5 ms is at most that much more per call under load, and
	// none for a lone caller.
	DefaultAuditMaxWait = 5 * time.Millisecond
	// DefaultAuditWriteTimeout bounds one group's insert, so a database
	// that hangs fails the waiters instead of holding them forever.
	DefaultAuditWriteTimeout = 10 * time.Second
	// DefaultAuditWriters is how many groups may be written at once: one,
	// because fewer, larger groups cost the API less CPU per call (the
	// gateway benchmark, one run each: 590-620 µs with one, 660 with four,
	// the latter before the pass-through answer went out in one write).
	DefaultAuditWriters = 1
)

// ErrAuditWriterClosed is what Record returns once Close has begun.
var ErrAuditWriterClosed = errors.New("audit writer closed: the server is shutting down; the event was not recorded")

// AuditInserter stores a group of audit events in one round trip; *Store is one.
type AuditInserter interface {
	InsertAuditEvents(ctx context.Context, events []AuditEvent) error
}

// AuditWriterOptions tune an AuditWriter; zero values mean the defaults.
type AuditWriterOptions struct {
	// GroupSize is the most events one insert carries (DefaultAuditGroupSize).
	GroupSize int
	// MaxWait is how long a group waits for more events before it is
	// written, while events come concurrently (the last group had more
	// than one): a database that answers fast would otherwise see groups
	// of one or two, an insert per call. An event after a quiet spell is
	// written at once. Zero never waits: events that arrive while a group
	// is being written form the next one.
	MaxWait time.Duration
	// WriteTimeout bounds one insert (DefaultAuditWriteTimeout).
	WriteTimeout time.Duration
	// Writers is how many groups may be written at once
	// (DefaultAuditWriters). With one, an event that arrives just after a
	// group began waits for that group's round trip and then its own; with
	// more, an idle writer takes it at once, and the groups still form under
	// load, each writer gathering what queued while it was busy.
	Writers int
}

// AuditWriter records audit events durably with group commit: concurrent
// Record calls are collected and written by one insert, and each returns
// only once its group is committed, with that insert's error if it failed.
// So an event whose Record returned nil is in the table, yet the events of
// N concurrent gateway calls cost one round trip rather than N. It is safe
// for concurrent use; Close flushes what is queued.
type AuditWriter struct {
	to   AuditInserter
	opts AuditWriterOptions

	queue chan auditRequest
	done  chan struct{}

	mu     sync.RWMutex // held for reading while sending on queue, for writing to close it
	closed bool
}

// auditRequest is one Record call waiting for its group.
type auditRequest struct {
	ev     AuditEvent
	result chan error // buffered: the writer never blocks on a waiter that left
}

// NewAuditWriter starts a writer that inserts through to; Close stops it.
func NewAuditWriter(to AuditInserter, opts AuditWriterOptions) *AuditWriter {
	if opts.GroupSize < 1 {
		opts.GroupSize = DefaultAuditGroupSize
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultAuditWriteTimeout
	}
	if opts.Writers < 1 {
		opts.Writers = DefaultAuditWriters
	}
	w := &AuditWriter{to: to, opts: opts, queue: make(chan auditRequest, opts.GroupSize), done: make(chan struct{})}
	var running sync.WaitGroup
	for range opts.Writers {
		running.Go(w.run)
	}
	go func() {
		running.Wait()
		close(w.done)
	}()
	return w
}

// Record queues ev and returns once the group it joined is committed, or
// that group's error. If ctx ends first, Record returns ctx's error and
// the event may or may not be written. An event without an action or
// outcome is refused at once, so it cannot fail the others of its group.
func (w *AuditWriter) Record(ctx context.Context, ev AuditEvent) error {
	if ev.Action == "" || ev.Outcome == "" {
		return fmt.Errorf("record audit event: action (%q) and outcome (%q) are both required", ev.Action, ev.Outcome)
	}
	req := auditRequest{ev: ev, result: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrAuditWriterClosed
	}
	select {
	case w.queue <- req:
	case <-ctx.Done():
		w.mu.RUnlock()
		return fmt.Errorf("record audit event: %w", ctx.Err())
	}
	w.mu.RUnlock()
	select {
	case err := <-req.result:
		return err
	case <-ctx.Done():
		return fmt.Errorf("record audit event: gave up waiting for its group to commit: %w", ctx.Err())
	}
}

// Close stops taking events, writes every queued one, and returns when
// their waiters have been answered. Later calls return at once.
func (w *AuditWriter) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	<-w.done
	return nil
}

// run is one of the goroutines that write: it takes the first waiting
// event, gathers what else is queued (up to GroupSize, waiting up to
// MaxWait), and writes the group, over and over until the queue is closed
// and empty.
func (w *AuditWriter) run() {
	group := make([]auditRequest, 0, w.opts.GroupSize)
	events := make([]AuditEvent, 0, w.opts.GroupSize)
	busy := false
	for {
		first, ok := <-w.queue
		if !ok {
			return
		}
		group = append(group[:0], first)
		w.gather(&group, busy)
		busy = len(group) > 1
		events = events[:0]
		for _, r := range group {
			events = append(events, r.ev)
		}
		err := w.write(events)
		for _, r := range group {
			r.result <- err
		}
		clear(group) // let the answered requests go
	}
}

// gather adds queued requests to group until it is full, the queue is
// empty (after MaxWait, if set and busy) or closed; a closed queue is
// noticed by run's next receive.
func (w *AuditWriter) gather(group *[]auditRequest, busy bool) {
	var deadline <-chan time.Time
	if w.opts.MaxWait > 0 && busy {
		t := time.NewTimer(w.opts.MaxWait)
		defer t.Stop()
		deadline = t.C
	}
	for len(*group) < w.opts.GroupSize {
		select {
		case r, ok := <-w.queue:
			if !ok {
				return
			}
			*group = append(*group, r)
			continue
		default:
		}
		if deadline == nil {
			return
		}
		select {
		case r, ok := <-w.queue:
			if !ok {
				return
			}
			*group = append(*group, r)
		case <-deadline:
			return
		}
	}
}

// write inserts one group on a context of its own: a waiter that gives up
// must not abort the others' write.
func (w *AuditWriter) write(events []AuditEvent) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.WriteTimeout)
	defer cancel()
	if err := w.to.InsertAuditEvents(ctx, events); err != nil {
		return fmt.Errorf("record audit event (one of a group of %d): %w", len(events), err)
	}
	return nil
}
