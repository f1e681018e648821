package main

import "testing"

// TestRoundRatios: each round's throughput over that round's direct run,
// in round order, and their median (the mean of the middle two when the
// rounds are even in number).
func TestRoundRatios(t *testing.T) {
	direct := &target{perRound: []float64{1000, 800, 1000, 500}}
	for _, tc := range []struct {
		perRound []float64
		want     string
	}{
		{[]float64{800, 720, 900, 400}, "0.80, 0.90, 0.90, 0.80 (median 0.85)"},
		{[]float64{700, 400, 1000}, "0.70, 0.50, 1.00 (median 0.70)"},
		{nil, "—"},
	} {
		if got := roundRatios(&target{perRound: tc.perRound}, direct); got != tc.want {
			t.Errorf("roundRatios(%v) = %q, want %q", tc.perRound, got, tc.want)
		}
	}
}
