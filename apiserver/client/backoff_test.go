package client

import (
	"net/http"
	"testing"
	"time"
)

func TestBackoffHonoursRetryAfter(t *testing.T) {
	far := time.Now().Add(time.Hour)
	resp := func(v string) *http.Response {
		return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {v}}}
	}
	b := backoff(far)
	if got := b(time.Millisecond, time.Second, 0, resp("7")); got != 7*time.Second {
		t.Errorf("Retry-After: 7 gave %v, want 7s", got)
	}
	// Beyond the call's budget the wait is cut to what is left.
	near := time.Now().Add(2 * time.Second)
	if got := backoff(near)(time.Millisecond, time.Second, 0, resp("60")); got > 2*time.Second {
		t.Errorf("wait %v exceeds the remaining budget", got)
	}
	// An HTTP date in the past means "now".
	if got := b(time.Millisecond, time.Second, 0, resp("Mon, 02 Jan 2006 15:04:05 GMT")); got != 0 {
		t.Errorf("past date gave %v, want 0", got)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	b := backoff(time.Now().Add(time.Hour))
	for attempt, ms := range []int{100, 200, 400, 800, 1000, 1000} {
		ceiling := time.Duration(ms) * time.Millisecond
		got := b(100*time.Millisecond, time.Second, attempt, nil)
		if got < ceiling/2 || got > ceiling {
			t.Errorf("attempt %d: wait %v, want within [%v, %v]", attempt, got, ceiling/2, ceiling)
		}
	}
	if got := b(100*time.Millisecond, time.Second, 200, nil); got > time.Second {
		t.Errorf("huge attempt number: wait %v exceeds the maximum", got)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	for v, want := range map[string]bool{"": false, "-1": false, "soon": false, "0": true, "120": true, "99999999999": false} {
		_, ok := retryAfter(&http.Response{Header: http.Header{"Retry-After": {v}}})
		if ok != want {
			t.Errorf("retryAfter(%q) ok = %v, want %v", v, ok, want)
		}
	}
}
