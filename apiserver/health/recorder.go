package health

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

const (
	// maxRecordBatch bounds how many results one statement stores.
	maxRecordBatch = 64
	// recordTimeout bounds one batch write; a result may wait for the
	// batch in progress and then its own, and the lease margin leaves room
	// for both.
	recordTimeout = 10 * time.Second
	// A batch smaller than recordLingerBelow waits recordLinger for more
	// results before it is written. Under load that makes batches several
	// times larger, and the database's work per result several times
	// smaller; a check waited for by a person is a few milliseconds later.
	recordLinger      = 3 * time.Millisecond
	recordLingerBelow = 16
)

// recorder stores check results, coalescing the ones that arrive together
// into one statement: a database round trip per check would cost more than
// the check itself. Results are written by a goroutine that exists only
// while there is something to write: it takes what is queued (after a short
// wait for more when that is little), writes it, and repeats until the
// queue is empty; what queues up during one write forms the next batch.
type recorder struct {
	store    *store.Store
	interval time.Duration

	mu       sync.Mutex
	queue    []pendingRecord
	flushing bool
	idle     chan struct{} // closed when the current flusher exits
}

// pendingRecord is a result waiting to be written, and what to call with
// the outcome. done runs on the flusher, so it must be quick.
type pendingRecord struct {
	check store.ConnectionCheck
	done  func(store.CheckOutcome, error)
}

// submit queues a result; done is called with the outcome once written.
func (r *recorder) submit(check store.ConnectionCheck, done func(store.CheckOutcome, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queue = append(r.queue, pendingRecord{check: check, done: done})
	if !r.flushing {
		r.flushing = true
		r.idle = make(chan struct{})
		go r.flush(r.idle)
	}
}

// record stores check and returns what store.RecordConnectionCheck would.
// The write is not tied to ctx, since it may hold other callers' results;
// it is bounded by recordTimeout instead.
func (r *recorder) record(check store.ConnectionCheck) (store.Connection, error) {
	type result struct {
		out store.CheckOutcome
		err error
	}
	ch := make(chan result, 1)
	r.submit(check, func(out store.CheckOutcome, err error) { ch <- result{out, err} })
	res := <-ch
	if res.err != nil {
		return store.Connection{}, res.err
	}
	return res.out.Conn, res.out.Err
}

// wait returns once everything submitted before it has been written.
func (r *recorder) wait() {
	r.mu.Lock()
	flushing, idle := r.flushing, r.idle
	r.mu.Unlock()
	if flushing {
		<-idle
	}
}

// flush writes batches until the queue is empty, then closes idle.
func (r *recorder) flush(idle chan struct{}) {
	for {
		r.mu.Lock()
		if len(r.queue) == 0 {
			r.flushing = false
			close(idle)
			r.mu.Unlock()
			return
		}
		if len(r.queue) < recordLingerBelow {
			r.mu.Unlock()
			time.Sleep(recordLinger)
			r.mu.Lock()
		}
		n := min(len(r.queue), maxRecordBatch)
		batch := append([]pendingRecord(nil), r.queue[:n]...)
		r.queue = append(r.queue[:0], r.queue[n:]...)
		r.mu.Unlock()

		outs, err := r.write(batch)
		for i, p := range batch {
			var out store.CheckOutcome
			if err == nil {
				out = outs[i]
			}
			p.done(out, err)
		}
	}
}

// write stores batch. It never panics: a flusher that died would leave
// every later result queued for ever.
func (r *recorder) write(batch []pendingRecord) (outs []store.CheckOutcome, err error) {
	defer func() {
		if v := recover(); v != nil {
			outs, err = nil, fmt.Errorf("storing health check results panicked: %v", v)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	checks := make([]store.ConnectionCheck, len(batch))
	for i, p := range batch {
		checks[i] = p.check
	}
	return r.store.RecordConnectionChecks(ctx, checks, r.interval)
}
