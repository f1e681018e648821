package secrets

import (
	"os"
	"syscall"
)

// EnvCrashAt names a step at which the process kills itself (SIGKILL, no
// deferred cleanup, like a power cut), for the crash tests that show a
// write leaves nothing half-done. It is a test hook: never set it in
// production.
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

// crashAt is read once: the hook costs a string comparison per step.
var crashAt = os.Getenv(EnvCrashAt)

// CrashPoint kills the process when EnvCrashAt names step.
func CrashPoint(step string) {
	if crashAt != "" && crashAt == step {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
