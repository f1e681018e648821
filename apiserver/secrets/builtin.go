package secrets

import (
	"context"
	"crypto/subtle"
	"fmt"
)

// Builtin is the default Store: it seals values with a Keyring and the Ref
// it returns is the ciphertext and key id themselves, so the row holds the
// whole secret (encrypted) and no other table or service is involved.
type Builtin struct {
	keyring *Keyring
}

var _ Store = (*Builtin)(nil)

// NewBuiltin returns the builtin store over keyring.
func NewBuiltin(keyring *Keyring) *Builtin { return &Builtin{keyring: keyring} }

// Backend implements Store.
func (*Builtin) Backend() string { return BackendBuiltin }

// Put seals value; name only has to be valid, since the ciphertext needs no
// name to be found again.
func (b *Builtin) Put(ctx context.Context, name string, value, aad []byte) (Ref, error) {
	if err := ctx.Err(); err != nil {
		return Ref{}, err
	}
	if err := validName(name); err != nil {
		return Ref{}, err
	}
	ct, keyID, err := b.keyring.Seal(value, aad)
	if err != nil {
		return Ref{}, err
	}
	return Ref{KeyID: keyID, Data: ct, Fingerprint: b.keyring.Fingerprint(value, aad)}, nil
}

// Get opens the ciphertext ref carries.
func (b *Builtin) Get(ctx context.Context, ref Ref, aad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ref.IsZero() {
		return nil, fmt.Errorf("%w: the record holds no sealed value", ErrNotFound)
	}
	return b.keyring.Open(ref.Data, ref.KeyID, aad)
}

// Delete has nothing to remove: the secret lives only in the row, and goes
// with it.
func (b *Builtin) Delete(ctx context.Context, _ Ref) error { return ctx.Err() }

// Owns reports whether ref was sealed by a key of this keyring.
func (b *Builtin) Owns(ref Ref) bool {
	_, ok := b.keyring.aeads[ref.KeyID]
	return ok
}

// Unchanged compares by fingerprint, and for rows sealed before fingerprints
// existed by opening the ciphertext; a value the keys cannot open counts as
// changed, so it gets replaced rather than compared.
func (b *Builtin) Unchanged(ref Ref, value, aad []byte) bool {
	if ref.IsZero() {
		return false
	}
	if b.keyring.fingerprintMatches(ref.Fingerprint, value, aad) {
		return true
	}
	stored, err := b.keyring.Open(ref.Data, ref.KeyID, aad)
	if err != nil {
		return false
	}
	defer clear(stored)
	return subtle.ConstantTimeCompare(stored, value) == 1
}

// Check is always ready: the keyring is in memory.
func (*Builtin) Check(ctx context.Context) error { return ctx.Err() }
