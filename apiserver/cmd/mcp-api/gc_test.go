package main

import "testing"

// The head room above the live heap is five times it while it is small, at
// most maxGCHeadroom above it once it grows, and never less than half of it.
func TestGCPercent(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 400}, {1 * mb, 400}, {12 * mb, 400}, {16 * mb, 300}, {20 * mb, 225}, {32 * mb, 150}, {48 * mb, 100}, {64 * mb, 75}, {100 * mb, 50}, {512 * mb, 50},
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("gcPercent(%d MB) = %d, want %d", c.live/mb, got, c.want)
		}
	}
}
