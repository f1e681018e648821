package health

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Defaults of a Scheduler (MCP_API_PROBE_CONCURRENCY for the first).
const (
	DefaultConcurrency  = 16
	DefaultPollInterval = time.Second
)

// Job is one claimed check. It must return within a bound of its own (its
// probe's timeout): the Scheduler never interrupts it, and while it runs it
// holds one of the Scheduler's Concurrency slots.
type Job func(ctx context.Context)

// Source hands out the checks that are due. Claim takes up to n of them,
// so that no other replica runs them too, and returns fewer (or none) when
// fewer are due. ConnectionChecker and ServerChecker are the Sources of
// their kinds; a new kind of record plugs in with a checker of its own.
type Source interface {
	Claim(ctx context.Context, n int) ([]Job, error)
}

// Drainer is a Source whose jobs leave work behind when they return, such
// as results still being stored. Run calls Drain before it returns, after
// the last job has.
type Drainer interface {
	Drain()
}

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	// Sources are asked for due checks in turn, so none starves the others.
	Sources []Source
	// Concurrency is how many checks run at once; zero means DefaultConcurrency.
	Concurrency int
	// PollInterval is how often sources are asked again once they had
	// nothing more to give; zero means DefaultPollInterval. A record is
	// checked at most this much later than it is due.
	PollInterval time.Duration
	// Logger receives claim failures; nil discards them.
	Logger *slog.Logger
}

// Scheduler runs the checks its sources have due, a bounded number at a
// time. Each check runs on its own worker, so one that hangs until its
// timeout delays no other.
type Scheduler struct {
	sources     []Source
	concurrency int
	poll        time.Duration
	log         *slog.Logger
	next        int // the source asked first in the next claim
}

// NewScheduler returns a Scheduler configured by cfg.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if len(cfg.Sources) == 0 {
		return nil, errors.New("health scheduler: no sources of checks")
	}
	for _, src := range cfg.Sources {
		if src == nil {
			return nil, errors.New("health scheduler: a source is nil")
		}
	}
	if cfg.Concurrency < 0 || cfg.PollInterval < 0 {
		return nil, errors.New("health scheduler: concurrency and poll interval must not be negative")
	}
	return &Scheduler{
		sources:     cfg.Sources,
		concurrency: cmp.Or(cfg.Concurrency, DefaultConcurrency),
		poll:        cmp.Or(cfg.PollInterval, DefaultPollInterval),
		log:         orDiscard(cfg.Logger),
	}, nil
}

// orDiscard is log, or a logger that drops everything when it is nil.
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return log
}

// Run runs due checks until ctx ends, then waits for the checks already
// running to finish (each is bounded by its probe timeout) and for their
// results to be stored (see Drainer), and returns nil.
//
// Checks claimed but not yet started are left to their lease: another
// replica, or this one after a restart, takes them when it ends. Run must
// not be called again before it has returned.
//
// Claims are made ahead of free workers — up to Concurrency more checks than
// are running — so that a worker that finishes usually starts its next check
// at once instead of waiting for a database round trip; they are made in
// batches of Concurrency, so there are few claims per check.
func (s *Scheduler) Run(ctx context.Context) error {
	// Running checks finish even when ctx ends: a result cut short would
	// record a failure the server did not have.
	jobCtx := context.WithoutCancel(ctx)
	limit := 2 * s.concurrency
	batch := s.concurrency

	// Neither channel can fill: at most limit jobs are claimed and not
	// yet reported done, and at most concurrency of those are running.
	queue := make(chan Job, limit)
	done := make(chan struct{}, limit)
	defer s.drain()
	var workers sync.WaitGroup
	for range s.concurrency {
		workers.Go(func() {
			for job := range queue {
				if ctx.Err() == nil {
					s.run(jobCtx, job)
				}
				done <- struct{}{}
			}
		})
	}
	defer workers.Wait()
	defer close(queue)

	ticker := time.NewTicker(s.poll)
	defer ticker.Stop()
	pending := 0     // claimed and not done
	claimNow := true // whether to ask the sources at the top of the loop
	more := false    // whether the last claim got all it asked for, so more may be due
	for {
		if claimNow && limit-pending >= batch && ctx.Err() == nil {
			var jobs []Job
			jobs, more = s.claim(ctx, limit-pending)
			for _, job := range jobs {
				queue <- job
			}
			pending += len(jobs)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-done:
			pending--
			claimNow = more
		case <-ticker.C:
			claimNow = true
		}
	}
}

// claim asks the sources in turn for up to n jobs. more reports that they
// gave all that was asked, so more may be due now.
func (s *Scheduler) claim(ctx context.Context, n int) (jobs []Job, more bool) {
	first := s.next
	s.next = (s.next + 1) % len(s.sources)
	failed := false
	for i := range s.sources {
		got, err := s.sources[(first+i)%len(s.sources)].Claim(ctx, n-len(jobs))
		if err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "could not claim due health checks; retrying at the next poll", "error", err)
			}
			// Not "more": a failing database is asked again at the next
			// tick, not after every finished check.
			failed = true
			continue
		}
		if want := n - len(jobs); len(got) > want {
			// More than asked would overrun the queues; the extra checks
			// are left to their lease.
			s.log.ErrorContext(ctx, "a health check source returned more checks than asked for", "asked", want, "got", len(got))
			got = got[:want]
		}
		jobs = append(jobs, got...)
		if len(jobs) == n {
			return jobs, !failed
		}
	}
	return jobs, false
}

// drain waits for the sources' work left behind by finished jobs.
func (s *Scheduler) drain() {
	for _, src := range s.sources {
		if d, ok := src.(Drainer); ok {
			d.Drain()
		}
	}
}

// run runs one job, keeping a panic in it from taking the server down.
func (s *Scheduler) run(ctx context.Context, job Job) {
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(ctx, "a health check panicked", "panic", r)
		}
	}()
	job(ctx)
}
