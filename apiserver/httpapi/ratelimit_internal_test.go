package httpapi

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// The bucket arithmetic is tested with explicit instants, never the clock.

func TestRateLimiterBuckets(t *testing.T) {
	l := newRateLimiter(2, 3)
	a, b := uuid.New(), uuid.New()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	for i := range 3 {
		if ok, _ := l.allow(a, t0); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow(a, t0)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("4th request at once: allowed %t, wait %v; want refused, 500ms", ok, wait)
	}
	if ok, _ := l.allow(b, t0); !ok {
		t.Fatal("another tenant is limited by the first one's bucket")
	}
	if ok, _ := l.allow(a, t0.Add(499*time.Millisecond)); ok {
		t.Fatal("allowed before a token was back")
	}
	if ok, _ := l.allow(a, t0.Add(500*time.Millisecond)); !ok {
		t.Fatal("refused once a token was back")
	}
}

func TestRateLimiterForgetsQuietTenants(t *testing.T) {
	l := newRateLimiter(1, 2)
	busy, quiet := uuid.New(), uuid.New()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.allow(quiet, t0)
	l.allow(busy, t0)
	if l.size() != 2 {
		t.Fatalf("%d buckets, want 2", l.size())
	}
	// a minute on, quiet's bucket is full again (the same as a new one) and
	// goes; busy's, drained just now, must stay or busy would get a fresh burst
	later := t0.Add(sweepInterval)
	l.allow(busy, later.Add(-time.Millisecond))
	l.allow(busy, later.Add(-time.Millisecond))
	l.allow(busy, later)
	if l.size() != 1 {
		t.Fatalf("%d buckets after the sweep, want 1", l.size())
	}
	if ok, _ := l.allow(busy, later); ok {
		t.Fatal("busy tenant's drained bucket was reset by the sweep")
	}
}

func TestNewRateLimiter(t *testing.T) {
	if newRateLimiter(0, 10) != nil || newRateLimiter(-1, 0) != nil {
		t.Fatal("a rate of 0 or less must mean no limiter")
	}
	for _, tt := range []struct {
		rate      float64
		burst     int
		wantBurst int
	}{
		{0.5, 0, 1},
		{2.5, 0, 3},
		{100, 0, 100},
		{1, 7, 7},
	} {
		if got := newRateLimiter(tt.rate, tt.burst).burst; got != tt.wantBurst {
			t.Errorf("newRateLimiter(%v, %d).burst = %d, want %d", tt.rate, tt.burst, got, tt.wantBurst)
		}
	}
}
