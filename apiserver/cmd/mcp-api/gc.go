package main

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The collector's pace in serve, unless GOGC is set (then the runtime's own
// rule applies, as it documents; GOMEMLIMIT is honoured either way).
//
// A read allocates about 6 KB while the live heap of an idle API is about
// 1 MB, so at Go's default GOGC of 100 the collector ran every few hundred
// requests and took about 15% of the server's CPU under load
// (bench/README.md): serve lets the heap grow to five times what is live
// (GOGC 400). But the gateway's sessions are live memory — some 50 KB each
// with their upstream sessions — and five times a large live heap is a
// large RSS (317 MB at 1,000 sessions). So the head room above the live heap
// is five times the live heap while that is small, and at most
// maxGCHeadroom above it, never less than half the live heap (GOGC 50): a
// small heap is collected rarely, a large one costs no more than one and a
// half times its size (at 1,000 gateway sessions: 202 MB of RSS with a floor
// of GOGC 100, 193 MB with 50, in one run each; 179 MB with at most 48 MiB
// of head room instead of 64 and one goroutine less per session).
const (
	maxGCPercent  = 400
	minGCPercent  = 50
	maxGCHeadroom = 48 << 20
	// gcPaceEvery is how often the live heap is read to set the pace.
	gcPaceEvery = time.Second
)

// gcPercent is the GOGC for a live heap of live bytes.
func gcPercent(live uint64) int {
	if live == 0 {
		return maxGCPercent
	}
	p := max(minGCPercent, min(maxGCPercent, int(maxGCHeadroom*100/live)))
	return p / gcPercentStep * gcPercentStep
}

// gcPercentStep is the granularity of the pace, so that a live heap that
// wavers does not reset it every time.
const gcPercentStep = 25

// tuneGC paces the collector by gcPercent until ctx ends, unless GOGC is
// set. It starts once the migrations are applied: parsing them leaves some
// 16 MB of buffers behind, which are collected first, or the raised
// percentage would let the heap grow to five times that before the next
// collection (a peak RSS of 94 MB instead of 35). Two collections, because
// the buffers sit in a sync.Pool, whose contents survive one.
func tuneGC(ctx context.Context) {
	if _, set := os.LookupEnv(envGOGC); set {
		return
	}
	runtime.GC()
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	pace := func(current int) int {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return current // a runtime without the metric: the pace stays
		}
		want := gcPercent(sample[0].Value.Uint64())
		if want != current {
			debug.SetGCPercent(want)
		}
		return want
	}
	current := pace(maxGCPercent)
	debug.SetGCPercent(current)
	go func() {
		t := time.NewTicker(gcPaceEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				current = pace(current)
			}
		}
	}()
}
