package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

// external is how the tests tell outside refs from builtin ones, as
// secrets.External does.
func external(keyID string) bool { return keyID == "infisical" }

func outsideRef(name string) SecretRef {
	return SecretRef{KeyID: "infisical", Data: []byte("name=" + name)}
}

// deleter records what the cleanup deletes.
type deleter struct{ deleted []SecretRef }

func (d *deleter) del(_ context.Context, r SecretRef) error {
	d.deleted = append(d.deleted, r)
	return nil
}

func (d *deleter) has(r SecretRef) bool {
	for _, x := range d.deleted {
		if x.KeyID == r.KeyID && bytes.Equal(x.Data, r.Data) {
			return true
		}
	}
	return false
}

func queued(t *testing.T, s *Store) []SecretCleanup {
	t.Helper()
	q, err := s.SecretCleanups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestSecretWritesLifecycle: a create adopts its pending secret, an update
// that replaces it queues the old one, a delete queues the last one, and
// the cleanup deletes exactly the queued ones.
func TestSecretWritesLifecycle(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	first, second := outsideRef("FIRST"), outsideRef("SECOND")

	id, err := s.PendSecret(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	c := Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Name: "c", ServerURL: "https://x.example", AuthType: "bearer",
		SealedToken: SealedToken{TokenCiphertext: first.Data, TokenKeyID: new(first.KeyID), TokenFingerprint: []byte("fp1")}}
	if err := s.CreateConnection(WithSecretWrites(ctx, &SecretWrites{Adopted: []int64{id}, External: external}), &c); err != nil {
		t.Fatal(err)
	}
	if q := queued(t, s); len(q) != 0 {
		t.Fatalf("after create the queue holds %+v, want nothing (the entry was adopted)", q)
	}
	if !bytes.Equal(c.TokenFingerprint, []byte("fp1")) {
		t.Fatalf("fingerprint not stored: %q", c.TokenFingerprint)
	}

	id2, err := s.PendSecret(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateConnection(WithSecretWrites(ctx, &SecretWrites{Adopted: []int64{id2}, External: external}), tenant, c.ID, func(cur *Connection) error {
		cur.TokenCiphertext, cur.TokenKeyID = second.Data, new(second.KeyID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := queued(t, s)
	if len(q) != 1 || q[0].Pending || !bytes.Equal(q[0].Data, first.Data) {
		t.Fatalf("after the update the queue holds %+v, want the first secret, due", q)
	}

	if err := s.DeleteConnection(WithSecretWrites(ctx, &SecretWrites{External: external}), tenant, c.ID); err != nil {
		t.Fatal(err)
	}
	if q := queued(t, s); len(q) != 2 {
		t.Fatalf("after the delete the queue holds %d entries, want 2", len(q))
	}
	var d deleter
	n, err := s.CleanupSecrets(ctx, defaultGraceForTests, 100, d.del)
	if err != nil || n != 2 || !d.has(first) || !d.has(second) {
		t.Fatalf("cleanup deleted %d (%v): %+v, want both secrets", n, err, d.deleted)
	}
	if q := queued(t, s); len(q) != 0 {
		t.Fatalf("after cleanup the queue holds %+v", q)
	}
}

const defaultGraceForTests = time.Hour // pending entries are left alone

// TestSecretPendingGraceAndLoss: a pending entry is left alone within its
// grace and cleaned after it; a write that then tries to adopt it fails
// with ErrSecretLost and writes no row.
func TestSecretPendingGraceAndLoss(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	ref := outsideRef("ORPHAN")
	id, err := s.PendSecret(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	var d deleter
	if n, err := s.CleanupSecrets(ctx, defaultGraceForTests, 100, d.del); err != nil || n != 0 {
		t.Fatalf("within its grace the pending secret was cleaned (%d, %v)", n, err)
	}
	if n, err := s.CleanupSecrets(ctx, 0, 100, d.del); err != nil || n != 1 || !d.has(ref) {
		t.Fatalf("past its grace the pending secret was not cleaned (%d, %v)", n, err)
	}
	c := Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Name: "c", ServerURL: "https://x.example", AuthType: "bearer",
		SealedToken: SealedToken{TokenCiphertext: ref.Data, TokenKeyID: new(ref.KeyID)}}
	err = s.CreateConnection(WithSecretWrites(ctx, &SecretWrites{Adopted: []int64{id}, External: external}), &c)
	if !errors.Is(err, ErrSecretLost) {
		t.Fatalf("create adopting a cleaned secret: %v, want ErrSecretLost", err)
	}
	if _, err := s.GetConnection(ctx, tenant, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a row was written pointing at a deleted secret: %v", err)
	}
}

// TestSecretCleanupRetries: a failed delete keeps the entry, counts the
// attempt and says why; released pending entries are due at once.
func TestSecretCleanupRetries(t *testing.T) {
	ctx, s, _ := newTenantStore(t, "a")
	id, err := s.PendSecret(ctx, outsideRef("X"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseSecrets(ctx, []int64{id}); err != nil {
		t.Fatal(err)
	}
	n, err := s.CleanupSecrets(ctx, defaultGraceForTests, 100, func(context.Context, SecretRef) error { return errors.New("backend down") })
	if err != nil || n != 0 {
		t.Fatalf("cleanup with a failing backend: %d, %v", n, err)
	}
	q := queued(t, s)
	if len(q) != 1 || q[0].Attempts != 1 || q[0].LastError == nil || *q[0].LastError != "backend down" || q[0].Pending {
		t.Fatalf("queue after a failed delete: %+v", q)
	}
	// backed off: not due again at once
	var d deleter
	if n, err := s.CleanupSecrets(ctx, 0, 100, d.del); err != nil || n != 0 {
		t.Fatalf("a failed entry was retried at once: %d, %v", n, err)
	}
}

// TestReplaceStoredSecret: secrets migrate's step points a row at a new
// ref only while it still holds the one read, and queues the old one.
func TestReplaceStoredSecret(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	c := Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Name: "c", ServerURL: "https://x.example", AuthType: "bearer",
		SealedToken: SealedToken{TokenCiphertext: []byte("ct"), TokenKeyID: new("0123456789abcdef")}}
	if err := s.CreateConnection(ctx, &c); err != nil {
		t.Fatal(err)
	}
	var found []StoredSecret
	if err := s.EachStoredSecret(ctx, func(ss StoredSecret) error { found = append(found, ss); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].ID != c.ID.String() || found[0].What != "token" || !bytes.Equal(found[0].AAD, ConnectionTokenAAD(c.ID)) {
		t.Fatalf("stored secrets: %+v", found)
	}
	target := outsideRef("MOVED")
	ok, err := s.ReplaceStoredSecret(WithSecretWrites(ctx, &SecretWrites{External: external}), found[0], target, []byte("fp"))
	if err != nil || !ok {
		t.Fatalf("replace: %v, %v", ok, err)
	}
	got, err := s.GetConnection(ctx, tenant, c.ID)
	if err != nil || *got.TokenKeyID != "infisical" || !bytes.Equal(got.TokenCiphertext, target.Data) || !bytes.Equal(got.TokenFingerprint, []byte("fp")) {
		t.Fatalf("after replace: %+v, %v", got.SealedToken, err)
	}
	if q := queued(t, s); len(q) != 0 {
		t.Fatalf("a builtin ciphertext was queued for cleanup: %+v", q)
	}
	// The row no longer holds what was read: nothing is written.
	ok, err = s.ReplaceStoredSecret(ctx, found[0], outsideRef("AGAIN"), nil)
	if err != nil || ok {
		t.Fatalf("replace of a changed row: %v, %v, want false", ok, err)
	}
}
