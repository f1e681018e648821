package httpapi

import (
	"crypto/subtle"
	"fmt"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
)

// secretField is a write-only secret of a record, such as a bearer token:
// the API accepts it, keeps it sealed in two of the record's fields, and
// never returns it. Each kind builds one per secret it holds.
type secretField struct {
	keyring *secrets.Keyring
	what    string // "bearer token", for errors
	// ciphertext and keyID point into the record.
	ciphertext *[]byte
	keyID      **string
	// aad binds the ciphertext to its record, so it cannot be moved to another.
	aad []byte
}

// set seals value into the record.
func (s secretField) set(value string) error {
	ct, keyID, err := s.keyring.Seal([]byte(value), s.aad)
	if err != nil {
		return fmt.Errorf("seal %s: %w", s.what, err)
	}
	*s.ciphertext, *s.keyID = ct, &keyID
	return nil
}

// clear removes the secret from the record.
func (s secretField) clear() {
	*s.ciphertext, *s.keyID = nil, nil
}

// is reports whether value is the secret already stored, so a client that
// resends an unchanged secret (as declarative tools do) does not reset the
// record's state.
func (s secretField) is(value string) bool {
	if *s.ciphertext == nil || *s.keyID == nil {
		return false
	}
	stored, err := s.keyring.Open(*s.ciphertext, **s.keyID, s.aad)
	if err != nil {
		// a secret the current keys cannot open is replaced, not compared
		return false
	}
	return subtle.ConstantTimeCompare(stored, []byte(value)) == 1
}

// secretEqual compares two secrets in constant time, so how long a
// comparison takes says nothing of where they differ.
func secretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
