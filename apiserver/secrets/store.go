package secrets

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Store keeps write-only secrets (bearer tokens, header values, OAuth client
// secrets, TLS client keys) somewhere and hands back a Ref for the record's row
// to keep in their place. Implementations are safe for concurrent use.
//
// A Ref never changes once written: a changed secret is Put under a new name,
// the row is pointed at the new Ref, and only then is the old one Deleted. So a
// crash at any step leaves the row pointing at a secret that exists, and at
// worst a secret no row points at, whose name the caller recorded before the
// Put (see NewName) so that cleanup can find it.
type Store interface {
	// Backend names the implementation: BackendBuiltin or BackendInfisical.
	Backend() string
	// Put stores value under name, bound to aad (the record it belongs to,
	// such as "mcp_connections:<id>"), and returns the reference the row
	// keeps. name is unique per write (NewName); putting the same name and
	// value again is not an error, so a Put retried after a crash succeeds.
	Put(ctx context.Context, name string, value, aad []byte) (Ref, error)
	// Get returns the value ref points at. It fails with ErrNotFound when the
	// backend holds nothing for ref and ErrDecrypt when ref belongs to
	// another aad.
	Get(ctx context.Context, ref Ref, aad []byte) ([]byte, error)
	// Delete removes what ref points at. Deleting what is already gone is
	// not an error, so a cleanup retried after a crash succeeds.
	Delete(ctx context.Context, ref Ref) error
	// Owns reports whether ref was written by this kind of backend, so a
	// migration can tell which rows still point elsewhere.
	Owns(ref Ref) bool
	// Unchanged reports whether value (for aad) is the secret ref already
	// holds, from the Ref alone when it carries a fingerprint: a PATCH that
	// resends the same secret, as declarative tools do, then skips the
	// backend entirely.
	Unchanged(ref Ref, value, aad []byte) bool
	// Check reports whether the backend can serve reads and writes now;
	// nil means ready. Its error is meant for /readyz and logs.
	Check(ctx context.Context) error
}

// The values of MCP_API_SECRET_BACKEND.
const (
	// BackendBuiltin seals secrets with the Keyring and keeps the ciphertext
	// in the row itself (the default).
	BackendBuiltin = "builtin"
	// BackendInfisical keeps secrets in Infisical and only a reference in
	// the row.
	BackendInfisical = "infisical"
)

// EnvBackend chooses the secret store.
const EnvBackend = "MCP_API_SECRET_BACKEND"

// Ref is what a row keeps in place of a secret. It fits today's two sealed
// columns: KeyID in the key id column and Data in the ciphertext column, plus
// a fingerprint for Unchanged.
type Ref struct {
	// KeyID says who can open Data: for the builtin backend the id of the
	// Keyring key that sealed it, for Infisical InfisicalKeyID.
	KeyID string
	// Data is the builtin backend's ciphertext, or where in Infisical the
	// secret lives. It never holds the secret in the clear.
	Data []byte
	// Fingerprint is a keyed hash of the value and its aad (see
	// Keyring.Fingerprint): equal values give equal fingerprints, and
	// nothing about the value can be learnt from it without the key.
	Fingerprint []byte
}

// IsZero reports whether r points at nothing (the record holds no secret).
func (r Ref) IsZero() bool { return r.KeyID == "" && len(r.Data) == 0 }

// Errors callers branch on with errors.Is, beside ErrUnknownKey and ErrDecrypt.
var (
	// ErrNotFound means the backend holds nothing for a Ref.
	ErrNotFound = errors.New("secret not found in the secret store")
	// ErrUnavailable means the backend could not be reached or answered that
	// it cannot serve now (timeouts, 5xx, 429, a locked-out identity): the
	// same call may succeed later. RetryAfter says when to try.
	ErrUnavailable = errors.New("secret store unavailable")
	// ErrRefused means the backend answered and refused for a reason that
	// waiting will not fix (an approval policy, a missing permission, a
	// wrong project or environment): the configuration must change.
	ErrRefused = errors.New("secret store refused the request")
)

// UnavailableError is an ErrUnavailable carrying how long to wait.
type UnavailableError struct {
	// After is how long the caller should wait before trying again, never
	// zero.
	After time.Duration
	// Err says what happened.
	Err error
}

// Error implements error.
func (e *UnavailableError) Error() string { return e.Err.Error() }

// Unwrap lets errors.Is see both ErrUnavailable and the cause.
func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// RetryAfter returns how long to wait before retrying a call that failed with
// err, and false when waiting would not help.
func RetryAfter(err error) (time.Duration, bool) {
	if ue, ok := errors.AsType[*UnavailableError](err); ok {
		return ue.After, true
	}
	return 0, false
}

// NewName returns a fresh secret name for one write: "MCP_" and 32 random
// uppercase hex digits, safe as an Infisical secret key. Callers record it
// (for example in a cleanup queue) before Put so that a crash after the
// write cannot leave a secret nobody can find.
func NewName() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random secret name: %w", err)
	}
	return "MCP_" + strings.ToUpper(hex.EncodeToString(b)), nil
}

// validName reports whether name can be stored under by every backend: 1 to
// 200 ASCII letters, digits and underscores.
func validName(name string) error {
	if name == "" || len(name) > 200 {
		return fmt.Errorf("secret name must be 1 to 200 characters, got %d", len(name))
	}
	for _, c := range name {
		if !isNameChar(c) {
			return fmt.Errorf("secret name %q may hold only ASCII letters, digits and underscores (use NewName)", name)
		}
	}
	return nil
}

// isNameChar reports whether c is an ASCII letter, digit or underscore.
func isNameChar(c rune) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// fingerprintLabel separates fingerprint keys from the encryption keys they
// are derived from.
const fingerprintLabel = "mcp-api secret fingerprint v1"

// fingerprintKey derives the HMAC key for fingerprints from an encryption key.
func fingerprintKey(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(fingerprintLabel))
	return m.Sum(nil)
}

// fingerprint is HMAC-SHA256 over aad's length, aad and value, so that no
// split of the same bytes into another aad and value collides.
func fingerprint(fk, value, aad []byte) []byte {
	m := hmac.New(sha256.New, fk)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(aad)))
	m.Write(n[:])
	m.Write(aad)
	m.Write(value)
	return m.Sum(nil)
}

// Fingerprint is the keyed hash a Ref carries for value and aad, under the
// current key.
func (k *Keyring) Fingerprint(value, aad []byte) []byte {
	return fingerprint(k.fingerprints[0], value, aad)
}

// fingerprintMatches reports whether fp is value's fingerprint under the
// current or any previous key, so rotating keys does not make every resent
// secret look changed.
func (k *Keyring) fingerprintMatches(fp, value, aad []byte) bool {
	if len(fp) == 0 {
		return false
	}
	for _, fk := range k.fingerprints {
		if hmac.Equal(fp, fingerprint(fk, value, aad)) {
			return true
		}
	}
	return false
}

// FromEnv builds the Store MCP_API_SECRET_BACKEND chooses: builtin (the
// default) over keyring, or Infisical from the INFISICAL_* variables.
func FromEnv(env func(string) string, keyring *Keyring) (Store, error) {
	switch b := strings.ToLower(strings.TrimSpace(env(EnvBackend))); b {
	case "", BackendBuiltin:
		if keyring == nil {
			return nil, errors.New("the builtin secret store needs the keyring (MCP_API_SECRET_KEY)")
		}
		return NewBuiltin(keyring), nil
	case BackendInfisical:
		cfg, err := InfisicalConfigFromEnv(env)
		if err != nil {
			return nil, err
		}
		return NewInfisical(cfg, keyring)
	default:
		return nil, fmt.Errorf("%s must be %s or %s, got %q", EnvBackend, BackendBuiltin, BackendInfisical, b)
	}
}
