// Package secrets seals credentials at rest with AES-256-GCM under a keyring
// that can rotate, and mints and hashes the API's own keys.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of an encryption key (AES-256).
const KeySize = 32

const nonceSize = 12

// Errors callers branch on with errors.Is.
var (
	// ErrUnknownKey means a ciphertext names a key the keyring does not hold.
	ErrUnknownKey = errors.New("unknown encryption key")
	// ErrDecrypt means a ciphertext did not authenticate: it was altered, is
	// bound to another row, or is not a ciphertext at all.
	ErrDecrypt = errors.New("ciphertext does not authenticate")
)

// ParseKey decodes MCP_API_SECRET_KEY: standard or URL-safe base64, padded or
// not, of exactly KeySize bytes.
func ParseKey(b64 string) ([]byte, error) {
	return ParseNamedKey("MCP_API_SECRET_KEY", b64)
}

// ParseNamedKey is ParseKey with the variable name used in error messages, so
// MCP_API_SECRET_KEY_PREVIOUS is reported under its own name.
func ParseNamedKey(name, b64 string) ([]byte, error) {
	s := strings.TrimSpace(b64)
	if s == "" {
		return nil, fmt.Errorf("%s is empty; set it to base64 of %d random bytes (for example the output of `openssl rand -base64 32`)", name, KeySize)
	}
	// Error messages never include the input: a key that is almost right is
	// still a secret.
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s must be base64 (standard or URL-safe) of %d bytes, but it is not valid base64; generate one with `openssl rand -base64 32`", name, KeySize)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%s must be base64 of %d bytes, got %d bytes; generate one with `openssl rand -base64 32`", name, KeySize, len(key))
	}
	return key, nil
}

// KeyID names a key without revealing it: the first 8 bytes of its SHA-256,
// in hex.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// Keyring seals with the current key and opens with the current or any
// previous key. It is safe for concurrent use.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	// fingerprints are the HMAC keys for Fingerprint, derived from the
	// current key (first) and the previous ones.
	fingerprints [][]byte
}

// NewKeyring builds a keyring from the current key and any previous keys
// that may still have sealed stored values.
func NewKeyring(current []byte, previous ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: make(map[string]cipher.AEAD, 1+len(previous))}
	add := func(what string, key []byte) (string, error) {
		if len(key) != KeySize {
			return "", fmt.Errorf("%s must be %d bytes, got %d bytes", what, KeySize, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		id := KeyID(key)
		k.aeads[id] = aead
		k.fingerprints = append(k.fingerprints, fingerprintKey(key))
		return id, nil
	}
	id, err := add("current encryption key", current)
	if err != nil {
		return nil, err
	}
	k.current = id
	for i, p := range previous {
		if p == nil {
			continue
		}
		if _, err := add(fmt.Sprintf("previous encryption key #%d", i+1), p); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// CurrentKeyID is the id of the key Seal uses.
func (k *Keyring) CurrentKeyID() string { return k.current }

// Seal encrypts plaintext under the current key and returns the ciphertext
// (random nonce first) and the id of the key used. aad binds the ciphertext
// to its row, for example []byte("mcp_connections:"+id), so a ciphertext
// copied onto another row does not open there.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, string, error) {
	aead := k.aeads[k.current]
	// 96-bit random nonces are safe for far more seals than this table will
	// ever see under one key (the bound is around 2^32).
	out := make([]byte, nonceSize, nonceSize+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, "", fmt.Errorf("read random nonce: %w", err)
	}
	return aead.Seal(out, out, plaintext, aad), k.current, nil
}

// Open decrypts a ciphertext that Seal produced under key keyID with the same
// aad. It fails with ErrUnknownKey when keyID is neither the current nor a
// previous key, and with ErrDecrypt when the ciphertext does not authenticate.
func (k *Keyring) Open(ciphertext []byte, keyID string, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w: sealed with key %s, which is neither MCP_API_SECRET_KEY nor MCP_API_SECRET_KEY_PREVIOUS (current key is %s); set MCP_API_SECRET_KEY_PREVIOUS to the key that wrote it", ErrUnknownKey, safeID(keyID), k.current)
	}
	if len(ciphertext) < nonceSize+aead.Overhead() {
		return nil, fmt.Errorf("%w: ciphertext is %d bytes, shorter than any sealed value (%d)", ErrDecrypt, len(ciphertext), nonceSize+aead.Overhead())
	}
	plain, err := aead.Open(nil, ciphertext[:nonceSize], ciphertext[nonceSize:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: value sealed with key %s was altered or belongs to another record", ErrDecrypt, keyID)
	}
	return plain, nil
}

// Reseal re-encrypts a ciphertext under the current key when keyID is not
// already the current key; otherwise it returns its input unchanged.
func (k *Keyring) Reseal(ciphertext []byte, keyID string, aad []byte) ([]byte, string, error) {
	if keyID == k.current {
		return ciphertext, keyID, nil
	}
	plain, err := k.Open(ciphertext, keyID, aad)
	if err != nil {
		return nil, "", err
	}
	defer clear(plain)
	return k.Seal(plain, aad)
}

// safeID shows a well-formed key id as is and quotes anything else, so a
// corrupted key id column cannot garble or flood an error message.
func safeID(id string) string {
	if len(id) == 16 {
		if _, err := hex.DecodeString(id); err == nil {
			return id
		}
	}
	if len(id) > 16 {
		return fmt.Sprintf("%q…", id[:16])
	}
	return fmt.Sprintf("%q", id)
}

// APIKeyPrefix starts every API key, so leaked keys are easy to recognise
// and to scan for.
const APIKeyPrefix = "mcpk_"

// apiKeyEncoding is lowercase base32 without padding: 25 random bytes become
// exactly 40 characters that survive URLs, shells and case-folding UIs.
var apiKeyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewAPIKey mints an API key: APIKeyPrefix followed by 40 base32 characters
// (200 bits) from crypto/rand. It returns the plain key, to show once, and
// the hash to store.
func NewAPIKey() (plain string, hash []byte, err error) {
	b := make([]byte, 25)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("read random key: %w", err)
	}
	plain = APIKeyPrefix + apiKeyEncoding.EncodeToString(b)
	return plain, HashAPIKey(plain), nil
}

// HashAPIKey is the stored form of an API key: its SHA-256. A slow password
// hash (bcrypt, argon2) is for guessable secrets; our keys carry 200 random
// bits, so brute force is hopeless either way, and a fast deterministic hash
// lets the store find a key with one indexed equality lookup per request.
func HashAPIKey(plain string) []byte {
	sum := sha256.Sum256([]byte(plain))
	return sum[:]
}
