package secrets

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// EnvCrashAt names a step at which the process kills itself (SIGKILL, no
// deferred cleanup, like a power cut), for the crash tests that show a
// write leaves nothing half-done: "after-put" kills it at the first time
// it gets there, "after-put:3" at the third. It is a test hook: never set
// it in production.
const EnvCrashAt = "MCP_API_TEST_CRASH_AT"

// The steps of a secret write CrashPoint is called at.
const (
	// CrashAfterPend: the cleanup entry is queued, the secret not yet Put.
	CrashAfterPend = "after-pend"
	// CrashAfterPut: the secret is Put, the row not yet written.
	CrashAfterPut = "after-put"
	// CrashAfterRow: the row is written (an old secret queued), the
	// cleanup worker has not run.
	CrashAfterRow = "after-row"
	// CrashMigrateAfterPut: secrets migrate has Put a row's secret on the
	// target and not yet pointed the row at it.
	CrashMigrateAfterPut = "migrate-after-put"
)

// crashAt and crashAfter are read once: the hook costs a string
// comparison per step.
var crashAt, crashAfter = parseCrashAt(os.Getenv(EnvCrashAt))

var crashHits atomic.Int64

func parseCrashAt(v string) (string, int64) {
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

// CrashPoint kills the process when EnvCrashAt names step (and it is the
// time it names).
func CrashPoint(step string) {
	if crashAt == "" || crashAt != step || crashHits.Add(1) != crashAfter {
		return
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}
