package store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// StoredSecret is one secret a row points at: which table, row and column
// pair, the ref and fingerprint stored there, and the aad it is bound to.
type StoredSecret struct {
	// Table is mcp_connections or mcp_servers; What is "token" or "auth
	// secrets".
	Table, What, ID string
	Ref             SecretRef
	Fingerprint     []byte
	AAD             []byte
	col             secretSlot
}

// secretSlot is one pair of sealed columns (and its fingerprint) of a
// table, with the aad of a row's value.
type secretSlot struct {
	table, noun, first string
	sealedColumns
	fingerprint string
}

// secretSlots are every place a secret is kept, in the order secrets
// migrate walks them.
var secretSlots = []secretSlot{
	{table: "mcp_connections", noun: "connection", first: uuid.Nil.String(), fingerprint: "token_fingerprint",
		sealedColumns: sealedColumns{what: "token", ciphertext: "token_ciphertext", keyID: "token_key_id", aad: func(id string) ([]byte, error) {
			parsed, err := uuid.Parse(id)
			return ConnectionTokenAAD(parsed), err
		}}},
	{table: "mcp_connections", noun: "connection", first: uuid.Nil.String(), fingerprint: "auth_secrets_fingerprint",
		sealedColumns: sealedColumns{what: "auth secrets", ciphertext: "auth_secrets_ciphertext", keyID: "auth_secrets_key_id", aad: func(id string) ([]byte, error) {
			parsed, err := uuid.Parse(id)
			return ConnectionAuthAAD(parsed), err
		}}},
	{table: "mcp_servers", noun: "MCP server", fingerprint: "token_fingerprint",
		sealedColumns: sealedColumns{what: "token", ciphertext: "token_ciphertext", keyID: "token_key_id",
			aad: func(id string) ([]byte, error) { return ServerTokenAAD(id), nil }}},
	{table: "mcp_servers", noun: "MCP server", fingerprint: "auth_secrets_fingerprint",
		sealedColumns: sealedColumns{what: "auth secrets", ciphertext: "auth_secrets_ciphertext", keyID: "auth_secrets_key_id",
			aad: func(id string) ([]byte, error) { return ServerAuthAAD(id), nil }}},
}

// EachStoredSecret calls fn for every secret of every row, table by table
// and column by column in id order, reading a batch of 100 at a time
// without holding locks while fn runs (fn changes rows through
// ReplaceStoredSecret, which checks the row still holds what was read).
func (s *Store) EachStoredSecret(ctx context.Context, fn func(StoredSecret) error) error {
	for _, col := range secretSlots {
		after := col.first
		for {
			var batch []struct {
				ID          string `db:"id"`
				Data        []byte `db:"data"`
				KeyID       string `db:"key_id"`
				Fingerprint []byte `db:"fingerprint"`
			}
			err := namedSelect(ctx, s.db, &batch, `
				SELECT id, `+col.ciphertext+` AS data, `+col.keyID+` AS key_id, `+col.fingerprint+` AS fingerprint FROM `+col.table+`
				WHERE `+col.keyID+` IS NOT NULL AND id > :after
				ORDER BY id
				LIMIT :limit`, map[string]any{"after": after, "limit": reencryptBatch})
			if err != nil {
				return s.fail("list stored secrets", err)
			}
			for _, r := range batch {
				aad, err := col.aad(r.ID)
				if err != nil {
					return fmt.Errorf("%s %s of %s: %w", col.noun, r.ID, col.what, err)
				}
				if err := fn(StoredSecret{Table: col.table, What: col.what, ID: r.ID, Ref: SecretRef{KeyID: r.KeyID, Data: r.Data},
					Fingerprint: r.Fingerprint, AAD: aad, col: col}); err != nil {
					return err
				}
			}
			if len(batch) < reencryptBatch {
				break
			}
			after = batch[len(batch)-1].ID
		}
	}
	return nil
}

// ReplaceStoredSecret points old's row at ref (with fingerprint) if it
// still holds old.Ref, adopting ctx's pending entries and queueing old.Ref's
// cleanup when it is external (SecretWrites), all in one transaction. It
// reports false, and writes nothing, when the row changed or went away
// meanwhile. updated_at stays: the record as the API shows it is the same.
func (s *Store) ReplaceStoredSecret(ctx context.Context, old StoredSecret, ref SecretRef, fingerprint []byte) (bool, error) {
	col := old.col
	if col.table == "" {
		return false, fmt.Errorf("replace stored secret: %+v was not read by EachStoredSecret", old.Ref.KeyID)
	}
	op := "move " + col.noun + " " + col.what
	replaced := false
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var rows []SecretRef
		if err := namedSelect(ctx, tx, &rows, `
			SELECT `+col.keyID+` AS key_id, `+col.ciphertext+` AS data FROM `+col.table+` WHERE id = :id AND `+col.keyID+` IS NOT NULL
			FOR UPDATE`, map[string]any{"id": old.ID}); err != nil {
			return s.fail(op, err)
		}
		if len(rows) == 0 {
			return nil
		}
		if cur := rows[0]; cur.KeyID != old.Ref.KeyID || !bytes.Equal(cur.Data, old.Ref.Data) {
			return nil
		}
		if _, err := namedExec(ctx, tx, `
			UPDATE `+col.table+` SET `+col.ciphertext+` = :data, `+col.keyID+` = :key_id, `+col.fingerprint+` = :fingerprint
			WHERE id = :id`, map[string]any{"id": old.ID, "data": ref.Data, "key_id": ref.KeyID, "fingerprint": fingerprint}); err != nil {
			return s.fail(op, err)
		}
		replaced = true
		return applySecretWrites(ctx, s, tx, op, []SecretRef{old.Ref}, []SecretRef{ref})
	})
	return replaced, err
}
