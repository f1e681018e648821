package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// SecretRef is where a record's secret is, as its sealed columns keep it:
// the key id column and the ciphertext column (for an outside secret store,
// what the store needs to find it).
type SecretRef struct {
	KeyID string `db:"key_id"`
	Data  []byte `db:"data"`
}

// SecretWrites is what one write of a record does to the secret cleanup
// queue, in the write's own transaction. A handler puts one in the write's
// context (WithSecretWrites).
type SecretWrites struct {
	// Adopted are the pending entries (PendSecret) of the secrets the write
	// Put and the row now points at: they leave the queue. If one is gone
	// (the cleanup worker took it) the write fails with ErrSecretLost.
	Adopted []int64
	// External reports whether a ref (by its key id) lives outside the row,
	// so that a row no longer pointing at it must queue its cleanup. Nil
	// means none does.
	External func(keyID string) bool
}

type secretWritesKey struct{}

// WithSecretWrites returns ctx carrying w for the store's next write.
func WithSecretWrites(ctx context.Context, w *SecretWrites) context.Context {
	return context.WithValue(ctx, secretWritesKey{}, w)
}

func secretWritesOf(ctx context.Context) (*SecretWrites, bool) {
	w, ok := ctx.Value(secretWritesKey{}).(*SecretWrites)
	return w, ok && w != nil
}

// ErrSecretLost means a write's freshly Put secret was cleaned up before
// the row pointed at it (the write took longer than the cleanup grace):
// nothing was written, and the write can be sent again.
var ErrSecretLost = errors.New("the secret written for this change was cleaned up before the record pointed at it")

// refsOf are the secrets a record's sealed columns point at.
func refsOf(t SealedToken, u UpstreamAuth) []SecretRef {
	var refs []SecretRef
	if t.TokenKeyID != nil {
		refs = append(refs, SecretRef{KeyID: *t.TokenKeyID, Data: t.TokenCiphertext})
	}
	if u.AuthSecretsKeyID != nil {
		refs = append(refs, SecretRef{KeyID: *u.AuthSecretsKeyID, Data: u.AuthSecretsCiphertext})
	}
	return refs
}

// applySecretWrites runs in the transaction of a write whose row went from
// pointing at before to pointing at after: it adopts ctx's pending entries
// and queues the external secrets of before that after no longer has.
func applySecretWrites(ctx context.Context, s *Store, q sqlx.ExtContext, op string, before, after []SecretRef) error {
	w, ok := secretWritesOf(ctx)
	if !ok {
		return nil
	}
	if len(w.Adopted) > 0 {
		res, err := namedExec(ctx, q, `DELETE FROM secret_cleanup WHERE id = ANY(CAST(:ids AS bigint[]))`,
			map[string]any{"ids": int64Array(w.Adopted)})
		if err != nil {
			return s.fail(op+": adopt secrets", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(len(w.Adopted)) {
			return ErrSecretLost
		}
	}
	if w.External == nil {
		return nil
	}
	var dropped []SecretRef
	for _, old := range before {
		kept := false
		for _, now := range after {
			kept = kept || now.KeyID == old.KeyID && bytes.Equal(now.Data, old.Data)
		}
		if !kept && w.External(old.KeyID) {
			dropped = append(dropped, old)
		}
	}
	return queueSecrets(ctx, s, q, op, dropped)
}

// queueSecrets queues refs for cleanup now.
func queueSecrets(ctx context.Context, s *Store, q sqlx.ExtContext, op string, refs []SecretRef) error {
	for _, r := range refs {
		if _, err := namedExec(ctx, q, `INSERT INTO secret_cleanup (key_id, data, pending) VALUES (:key_id, :data, false)`, r); err != nil {
			return s.fail(op+": queue secret cleanup", err)
		}
	}
	return nil
}

// int64Array is a bigint[] literal for lib/pq.
func int64Array(ids []int64) string {
	b := []byte{'{'}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", id)
	}
	return string(append(b, '}'))
}

// PendSecret queues ref, a secret about to be Put, as pending, in its own
// short transaction, and returns the entry's id for SecretWrites.Adopted.
// Until a write adopts it, the cleanup worker deletes the secret once the
// entry is older than its grace, so a crash between the Put and the row
// leaves no secret behind.
func (s *Store) PendSecret(ctx context.Context, ref SecretRef) (int64, error) {
	var id int64
	err := namedGet(ctx, s.db, &id, `INSERT INTO secret_cleanup (key_id, data, pending) VALUES (:key_id, :data, true) RETURNING id`, ref)
	if err != nil {
		return 0, s.fail("queue secret cleanup", err)
	}
	return id, nil
}

// ReleaseSecrets makes pending entries due now: the write that Put them
// failed, so nothing will point at their secrets.
func (s *Store) ReleaseSecrets(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := namedExec(ctx, s.db, `UPDATE secret_cleanup SET pending = false, due_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))`,
		map[string]any{"ids": int64Array(ids)})
	if err != nil {
		return s.fail("release secrets", err)
	}
	return nil
}

// DropPendingSecrets removes pending entries under whose names nothing was
// Put (a write reserved more names than it used).
func (s *Store) DropPendingSecrets(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := namedExec(ctx, s.db, `DELETE FROM secret_cleanup WHERE pending AND id = ANY(CAST(:ids AS bigint[]))`,
		map[string]any{"ids": int64Array(ids)})
	if err != nil {
		return s.fail("drop secret reservations", err)
	}
	return nil
}

// SecretCleanup is one entry of the cleanup queue.
type SecretCleanup struct {
	ID        int64     `db:"id"`
	Pending   bool      `db:"pending"`
	Attempts  int       `db:"attempts"`
	LastError *string   `db:"last_error"`
	CreatedAt time.Time `db:"created_at"`
	SecretRef
}

// SecretCleanups lists the queue in id order, for tests and operators.
func (s *Store) SecretCleanups(ctx context.Context) ([]SecretCleanup, error) {
	out := []SecretCleanup{}
	if err := namedSelect(ctx, s.db, &out, `SELECT id, key_id, data, pending, attempts, last_error, created_at FROM secret_cleanup ORDER BY id`, map[string]any{}); err != nil {
		return nil, s.fail("list secret cleanups", err)
	}
	return out, nil
}

// CleanupSecrets takes due entries one at a time (FOR UPDATE SKIP LOCKED,
// so replicas take different ones), calls del with each entry's ref while
// the entry is locked (a write adopting it waits, then fails with
// ErrSecretLost rather than point at a deleted secret), and removes the
// entry when del succeeds; when it fails the entry is due again after a
// backoff that doubles per attempt up to an hour. Pending entries are due
// only once older than grace. It stops after limit entries and returns
// how many secrets it deleted.
func (s *Store) CleanupSecrets(ctx context.Context, grace time.Duration, limit int, del func(context.Context, SecretRef) error) (int, error) {
	done := 0
	for range limit {
		found := false
		err := s.inTx(ctx, "clean up secrets", func(tx *sqlx.Tx) error {
			var e SecretCleanup
			err := namedGet(ctx, tx, &e, `
				SELECT id, key_id, data, pending, attempts, last_error, created_at FROM secret_cleanup
				WHERE due_at <= now() AND (NOT pending OR created_at <= now() - make_interval(secs => :grace_s))
				ORDER BY due_at, id
				LIMIT 1
				FOR UPDATE SKIP LOCKED`, map[string]any{"grace_s": grace.Seconds()})
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return s.fail("clean up secrets", err)
			}
			found = true
			if derr := del(ctx, e.SecretRef); derr != nil {
				_, err := namedExec(ctx, tx, `
					UPDATE secret_cleanup SET attempts = attempts + 1, last_error = :err,
						due_at = now() + make_interval(secs => least(3600, 5 * power(2, least(attempts, 20))))
					WHERE id = :id`, map[string]any{"id": e.ID, "err": derr.Error()})
				if err != nil {
					return s.fail("clean up secrets", err)
				}
				return nil
			}
			if _, err := namedExec(ctx, tx, `DELETE FROM secret_cleanup WHERE id = :id`, map[string]any{"id": e.ID}); err != nil {
				return s.fail("clean up secrets", err)
			}
			done++
			return nil
		})
		if err != nil || !found {
			return done, err
		}
	}
	return done, nil
}

// deleteWithSecrets deletes the tenant's row id of table (mcp_connections
// or mcp_servers) with the audit event ctx carries, and queues the row's
// external secrets (SecretWrites.External) for cleanup in the same
// transaction; ErrNotFound when there is no such row.
func (s *Store) deleteWithSecrets(ctx context.Context, op, table string, tenantID, id any) error {
	return s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var rows []struct {
			SealedToken
			UpstreamAuth
		}
		err := namedSelect(ctx, tx, &rows, `DELETE FROM `+table+` WHERE tenant_id = :tenant_id AND id = :id
			RETURNING `+sealedTokenColumns+`, `+upstreamAuthColumns,
			map[string]any{"tenant_id": tenantID, "id": id})
		if err != nil {
			return s.fail(op, err)
		}
		if len(rows) == 0 {
			return ErrNotFound
		}
		if err := applySecretWrites(ctx, s, tx, op, refsOf(rows[0].SealedToken, rows[0].UpstreamAuth), nil); err != nil {
			return err
		}
		return s.audit(ctx, tx, op)
	})
}
