package secrets

// The steps of a secret write CrashPoint is called at, for the crash tests
// that show a write leaves nothing half-done.
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

// CrashHook, when set, is called at each step of a secret write. Only the
// crash tests set it (internal/crashpoint, in the test binary that runs
// mcp-api as a child): a release binary has no way to kill itself there.
var CrashHook func(step string)

// CrashPoint calls CrashHook, if set, at step.
func CrashPoint(step string) {
	if CrashHook != nil {
		CrashHook(step)
	}
}
