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

// sealedColumns is one pair of columns of a table that holds a sealed
// value: its ciphertext and the id of the key that sealed it. Every field
// is this package's constant.
type sealedColumns struct {
	what       string // "token", for errors
	ciphertext string
	keyID      string
	// aad is the associated data the value of row id is bound to.
	aad func(id string) ([]byte, error)
}

// reencryptAll re-encrypts every sealed value of table, pair by pair of
// columns (reencrypt), and returns how many values it changed in all.
func (s *Store) reencryptAll(ctx context.Context, table, noun, first string, cols []sealedColumns,
	fn func(aad, ciphertext []byte, keyID string) ([]byte, string, error)) (int, error) {
	total := 0
	for _, col := range cols {
		n, err := s.reencrypt(ctx, table, noun, first, col, fn)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// reencrypt walks the sealed values of col in table in id order, batch by
// batch, calls fn for each with the value's associated data and stores
// what fn returns whenever the key id changes. first is an id lower than
// any in the table; noun names a row in errors. table is one of this
// package's constants, never caller input.
func (s *Store) reencrypt(ctx context.Context, table, noun, first string, col sealedColumns,
	fn func(aad, ciphertext []byte, keyID string) ([]byte, string, error)) (int, error) {
	op := "re-encrypt " + noun + " " + col.what
	changed := 0
	after := first
	for {
		var batch []struct {
			ID         string `db:"id"`
			Ciphertext []byte `db:"ciphertext"`
			KeyID      string `db:"key_id"`
		}
		n := 0
		err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
			n = 0
			err := namedSelect(ctx, tx, &batch, `
				SELECT id, `+col.ciphertext+` AS ciphertext, `+col.keyID+` AS key_id FROM `+table+`
				WHERE `+col.ciphertext+` IS NOT NULL AND id > :after
				ORDER BY id
				LIMIT :limit
				FOR UPDATE`,
				map[string]any{"after": after, "limit": reencryptBatch})
			if err != nil {
				return s.fail(op, err)
			}
			for _, r := range batch {
				aad, err := col.aad(r.ID)
				if err != nil {
					return fmt.Errorf("re-encrypt %s of %s %s: %w", col.what, noun, r.ID, err)
				}
				ciphertext, keyID, err := fn(aad, r.Ciphertext, r.KeyID)
				if err != nil {
					return fmt.Errorf("re-encrypt %s of %s %s: %w", col.what, noun, r.ID, err)
				}
				if keyID == r.KeyID {
					continue
				}
				if len(ciphertext) == 0 || keyID == "" {
					return fmt.Errorf("re-encrypt %s of %s %s: the new ciphertext or key id is empty", col.what, noun, r.ID)
				}
				// updated_at stays: the record as the API shows it did not
				// change. The ciphertext changes, so a check that read the
				// row before is not stored over it (its guard compares
				// ciphertexts); the next one is.
				if _, err := namedExec(ctx, tx, `
					UPDATE `+table+` SET `+col.ciphertext+` = :ciphertext, `+col.keyID+` = :key_id
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
