package poll

import (
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	calls := 0
	if !Until(time.Minute, time.Millisecond, func() bool { calls++; return calls == 3 }) {
		t.Fatal("Until gave up on a condition that came true")
	}
	if calls != 3 {
		t.Fatalf("cond called %d times, want 3: once more than it took to hold", calls)
	}
	start := time.Now()
	if Until(20*time.Millisecond, time.Millisecond, func() bool { return false }) {
		t.Fatal("Until reported a condition that never held")
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Fatalf("Until gave up after %s, before its limit", waited)
	}
}
