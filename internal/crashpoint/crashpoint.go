// Package crashpoint kills the process at a named step, like a power cut
// (SIGKILL: no deferred cleanup), for crash tests that run the API as a
// child process. Only test binaries import it.
package crashpoint

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// Env names the step a child test process kills itself at: "after-put"
// kills it the first time it gets there, "after-put:3" the third.
const Env = "MCP_API_TEST_CRASH_AT"

// FromEnv is a hook that kills the process at the step Env names, or nil
// when Env is not set.
func FromEnv() func(step string) {
	v := os.Getenv(Env)
	if v == "" {
		return nil
	}
	at, after := Parse(v)
	var hits atomic.Int64
	return func(step string) {
		if step != at || hits.Add(1) != after {
			return
		}
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}

// Parse splits "step" or "step:N" into the step and the time it is reached
// at (1 when N is missing or not a positive number).
func Parse(v string) (string, int64) {
	step, n, found := strings.Cut(v, ":")
	if !found {
		return step, 1
	}
	count, err := strconv.ParseInt(n, 10, 64)
	if err != nil || count < 1 {
		return step, 1
	}
	return step, count
}
