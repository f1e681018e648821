package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// SealedToken is a record's sealed bearer token: the ciphertext and the id
// of the key that sealed it, both nil when there is none. The store never
// sees the token in the clear.
type SealedToken struct {
	TokenCiphertext []byte  `db:"token_ciphertext"`
	TokenKeyID      *string `db:"token_key_id"`
}

// sealedTokenColumns are SealedToken's columns.
const sealedTokenColumns = `token_ciphertext, token_key_id`

// reencryptBatch bounds how many rows one re-encryption transaction locks.
const reencryptBatch = 100

// reencrypt walks the sealed tokens of table in id order, batch by batch,
// calls fn for each and stores what fn returns whenever the key id changes.
// first is an id lower than any in the table; noun names a row in errors.
// table is one of this package's constants, never caller input.
func (s *Store) reencrypt(ctx context.Context, table, noun, first string, fn func(id string, ciphertext []byte, keyID string) ([]byte, string, error)) (int, error) {
	op := "re-encrypt " + noun + " tokens"
	changed := 0
	after := first
	for {
		var batch []struct {
			ID         string `db:"id"`
			Ciphertext []byte `db:"token_ciphertext"`
			KeyID      string `db:"token_key_id"`
		}
		n := 0
		err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
			n = 0
			err := namedSelect(ctx, tx, &batch, `
				SELECT id, token_ciphertext, token_key_id FROM `+table+`
				WHERE token_ciphertext IS NOT NULL AND id > :after
				ORDER BY id
				LIMIT :limit
				FOR UPDATE`,
				map[string]any{"after": after, "limit": reencryptBatch})
			if err != nil {
				return s.fail(op, err)
			}
			for _, r := range batch {
				ciphertext, keyID, err := fn(r.ID, r.Ciphertext, r.KeyID)
				if err != nil {
					return fmt.Errorf("re-encrypt token of %s %s: %w", noun, r.ID, err)
				}
				if keyID == r.KeyID {
					continue
				}
				if len(ciphertext) == 0 || keyID == "" {
					return fmt.Errorf("re-encrypt token of %s %s: the new ciphertext or key id is empty", noun, r.ID)
				}
				// updated_at stays: the record as the API shows it did not change.
				if _, err := namedExec(ctx, tx, `
					UPDATE `+table+` SET token_ciphertext = :ciphertext, token_key_id = :key_id
					WHERE id = :id`,
					map[string]any{"id": r.ID, "ciphertext": ciphertext, "key_id": keyID}); err != nil {
					return s.fail(op, err)
				}
				n++
			}
			return nil
		})
		if err != nil {
			return changed, err
		}
		changed += n
		if len(batch) < reencryptBatch {
			return changed, nil
		}
		after = batch[len(batch)-1].ID
	}
}
