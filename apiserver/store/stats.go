package store

import (
	"context"
	"database/sql"
	"time"
)

// DBStats is the connection pool's figures (open, in use, idle, waits), for
// the metrics.
func (s *Store) DBStats() sql.DBStats { return s.db.Stats() }

// OverdueChecks is how many checks are overdue across all tenants, by kind
// of record: records due for their check more than grace ago that no checker has
// claimed (a claim pushes a row's next check out by its lease), and so a
// sign that no scheduler runs or that the schedulers cannot keep up.
// Disconnected MCP servers are never due.
type OverdueChecks struct {
	Connections int64 `db:"connections"`
	Servers     int64 `db:"servers"`
}

// CountOverdueChecks counts the checks overdue by more than grace (see
// OverdueChecks). Both counts read the next_check_at indexes, so it is cheap
// while few are overdue: the metrics run it at every scrape.
func (s *Store) CountOverdueChecks(ctx context.Context, grace time.Duration) (OverdueChecks, error) {
	var out OverdueChecks
	err := namedGet(ctx, s.db, &out, `
		SELECT
			(SELECT count(*) FROM mcp_connections
				WHERE next_check_at < now() - CAST(:grace_ms AS bigint) * interval '1 millisecond') AS connections,
			(SELECT count(*) FROM mcp_servers
				WHERE next_check_at < now() - CAST(:grace_ms AS bigint) * interval '1 millisecond'
				AND status <> 'disconnected') AS servers`,
		map[string]any{"grace_ms": grace.Milliseconds()})
	if err != nil {
		return OverdueChecks{}, s.fail("count overdue checks", err)
	}
	return out, nil
}
