package store

import (
	"context"
	"database/sql"

	"github.com/google/uuid"
)

// ApprovedToolHashes is each tool's hash by name in the catalog of the
// tenant's record id whose toolsHash is toolsHash — the approved catalog a
// pinned record's gateway sessions compare live tools with (SPEC §10). The
// record's catalogs with one toolsHash may differ in prompts or resources
// but never in their tools, so any one of them answers. ErrNotFound: no such
// record for the tenant; ErrUnknownToolsHash: it never had that toolsHash.
func (s *Store) ApprovedToolHashes(ctx context.Context, k RecordKind, tenantID uuid.UUID, id, toolsHash string) (map[string]string, error) {
	if !k.ids.valid(id) {
		return nil, ErrNotFound
	}
	// Only names and hashes leave the database, not the schemas; a catalog
	// without tools is one row of nulls, so that it is told from none.
	var rows []struct {
		Name sql.NullString `db:"name"`
		Hash sql.NullString `db:"hash"`
	}
	err := namedSelect(ctx, s.db, &rows, `SELECT t->>'name' AS name, t->>'hash' AS hash
		FROM (SELECT body FROM catalogs
			WHERE `+k.fk+` = CAST(:id AS `+k.idType()+`) AND tools_hash = :hash AND `+k.owned()+`
			ORDER BY id LIMIT 1) c
		LEFT JOIN LATERAL json_array_elements(c.body->'tools') t ON true`,
		map[string]any{"id": id, "tenant_id": tenantID, "hash": toolsHash})
	if err != nil {
		return nil, s.fail("read approved catalog", err)
	}
	if len(rows) == 0 {
		if err := s.exists(ctx, k, tenantID, id); err != nil {
			return nil, err
		}
		return nil, ErrUnknownToolsHash
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		if r.Name.Valid {
			out[r.Name.String] = r.Hash.String
		}
	}
	return out, nil
}
