package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// pageQuery is one page of a tenant's rows of a table, in (created_at, id)
// order: the keyset every list of the API pages on.
type pageQuery struct {
	op      string // for errors, such as "list projects"
	table   string // one of this package's tables, never caller input
	columns string
	idType  string // SQL type of the id column, for the keyset comparison
	// filters are exact matches, column name to value; nil values are skipped.
	filters map[string]*string
	// conditions are further SQL conditions, never caller input.
	conditions []string
	limit      int
	// afterAt and afterID are the cursor's position; afterID is nil on the first page.
	afterAt time.Time
	afterID any
}

// selectPage runs q for the tenant and returns at most q.limit rows, and
// whether more follow. Asking for one row more than the limit tells that
// without a second query.
// R is how a row is scanned and T the record it makes.
func selectPage[R interface{ utc() T }, T any](ctx context.Context, s *Store, tenantID any, q pageQuery) ([]T, bool, error) {
	if q.limit < 1 || q.limit > contract.MaxPageLimit {
		return nil, false, fmt.Errorf("%s: limit must be between 1 and %d, got %d", q.op, contract.MaxPageLimit, q.limit)
	}
	where := []string{"tenant_id = :tenant_id"}
	arg := map[string]any{"tenant_id": tenantID, "limit": q.limit + 1}
	for column, value := range q.filters {
		if value != nil {
			where = append(where, column+" = :"+column)
			arg[column] = *value
		}
	}
	where = append(where, q.conditions...)
	if q.afterID != nil {
		where = append(where, "(created_at, id) > (CAST(:after_created_at AS timestamptz), CAST(:after_id AS "+q.idType+"))")
		arg["after_created_at"] = q.afterAt
		arg["after_id"] = q.afterID
	}
	scanned := []R{}
	err := namedSelect(ctx, s.db, &scanned, `SELECT `+q.columns+` FROM `+q.table+`
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY created_at, id
		LIMIT :limit`, arg)
	if err != nil {
		return nil, false, s.fail(q.op, err)
	}
	rows := make([]T, len(scanned))
	for i, r := range scanned {
		rows[i] = r.utc()
	}
	if len(rows) <= q.limit {
		return rows, false, nil
	}
	return rows[:q.limit], true, nil
}
