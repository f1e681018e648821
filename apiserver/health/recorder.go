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
type recorder[R any] struct {
	// save stores a batch: the store's Record<Kind>Checks.
	save     func(context.Context, []store.Check[R], time.Duration) ([]store.CheckOutcome[R], error)
	interval time.Duration

	mu       sync.Mutex
	queue    []pendingRecord[R]
	flushing bool
	idle     chan struct{} // closed when the current flusher exits
}

// pendingRecord is a result waiting to be written, and what to call with
// the outcome. done runs on the flusher, so it must be quick.
type pendingRecord[R any] struct {
	check store.Check[R]
	done  func(store.CheckOutcome[R], error)
}

// submit queues a result; done is called with the outcome once written.
func (r *recorder[R]) submit(check store.Check[R], done func(store.CheckOutcome[R], error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queue = append(r.queue, pendingRecord[R]{check: check, done: done})
	if !r.flushing {
		r.flushing = true
		r.idle = make(chan struct{})
		go r.flush(r.idle)
	}
}

// record stores check and returns what the store's Record<Kind>Check would.
// The write is not tied to ctx, since it may hold other callers' results;
// it is bounded by recordTimeout instead.
func (r *recorder[R]) record(check store.Check[R]) (R, error) {
	type result struct {
		out store.CheckOutcome[R]
		err error
	}
	ch := make(chan result, 1)
	r.submit(check, func(out store.CheckOutcome[R], err error) { ch <- result{out, err} })
	res := <-ch
	if res.err != nil {
		var zero R
		return zero, res.err
	}
	return res.out.Record, res.out.Err
}

// wait returns once everything submitted before it has been written.
func (r *recorder[R]) wait() {
	r.mu.Lock()
	flushing, idle := r.flushing, r.idle
	r.mu.Unlock()
	if flushing {
		<-idle
	}
}

// flush writes batches until the queue is empty, then closes idle.
func (r *recorder[R]) flush(idle chan struct{}) {
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
		batch := append([]pendingRecord[R](nil), r.queue[:n]...)
		r.queue = append(r.queue[:0], r.queue[n:]...)
		r.mu.Unlock()

		outs, err := r.write(batch)
		for i, p := range batch {
			var out store.CheckOutcome[R]
			if err == nil {
				out = outs[i]
			}
			p.done(out, err)
		}
	}
}

// write stores batch. It never panics: a flusher that died would leave
// every later result queued for ever.
func (r *recorder[R]) write(batch []pendingRecord[R]) (outs []store.CheckOutcome[R], err error) {
	defer func() {
		if v := recover(); v != nil {
			outs, err = nil, fmt.Errorf("storing health check results panicked: %v", v)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	checks := make([]store.Check[R], len(batch))
	for i, p := range batch {
		checks[i] = p.check
	}
	return r.save(ctx, checks, r.interval)
}
