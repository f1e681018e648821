// Package poll waits, in tests, for what happens in the background: a
// scheduler's check, a lease running out, a cache forgetting a key.
package poll

import "time"

// Until calls cond every interval until it returns true, and reports
// whether it did before limit passed. The limit only turns a hang into a
// failure; callers assert nothing about how fast it goes.
func Until(limit, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
	return true
}
