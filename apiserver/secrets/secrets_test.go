package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestParseKey(t *testing.T) {
	raw := make([]byte, KeySize)
	for i := range raw {
		raw[i] = byte(0xF0 + i%16) // high bytes make std and URL alphabets differ
	}
	good := []struct{ name, in string }{
		{"standard", base64.StdEncoding.EncodeToString(raw)},
		{"standard unpadded", base64.RawStdEncoding.EncodeToString(raw)},
		{"url", base64.URLEncoding.EncodeToString(raw)},
		{"url unpadded", base64.RawURLEncoding.EncodeToString(raw)},
		{"surrounding whitespace", " " + base64.StdEncoding.EncodeToString(raw) + "\n"},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseKey(tc.in)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if !bytes.Equal(got, raw) {
				t.Fatalf("ParseKey = %x, want %x", got, raw)
			}
		})
	}

	secretLooking := "c2VjcmV0c2VjcmV0"
	bad := []struct{ name, in, want string }{
		{"empty", "", "MCP_API_SECRET_KEY is empty"},
		{"blank", "   ", "MCP_API_SECRET_KEY is empty"},
		{"not base64", "not base64 at all!!", "not valid base64"},
		{"12 bytes", secretLooking, "MCP_API_SECRET_KEY must be base64 of 32 bytes, got 12 bytes"},
		{"33 bytes", base64.StdEncoding.EncodeToString(make([]byte, 33)), "got 33 bytes"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKey(tc.in)
			if err == nil {
				t.Fatal("ParseKey accepted a bad key")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			if strings.TrimSpace(tc.in) != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.in)) {
				t.Fatalf("error %q echoes the key", err)
			}
		})
	}

	_, err := ParseNamedKey("MCP_API_SECRET_KEY_PREVIOUS", secretLooking)
	if err == nil || !strings.HasPrefix(err.Error(), "MCP_API_SECRET_KEY_PREVIOUS ") {
		t.Fatalf("ParseNamedKey error = %v, want it to name MCP_API_SECRET_KEY_PREVIOUS", err)
	}
}

func TestNewKeyringRejectsShortKeys(t *testing.T) {
	if _, err := NewKeyring(make([]byte, 16)); err == nil || !strings.Contains(err.Error(), "got 16 bytes") {
		t.Fatalf("NewKeyring(16 bytes) error = %v", err)
	}
	if _, err := NewKeyring(key(1), make([]byte, 31)); err == nil || !strings.Contains(err.Error(), "previous encryption key #1") {
		t.Fatalf("NewKeyring(bad previous) error = %v", err)
	}
}

func TestKeyID(t *testing.T) {
	id := KeyID(key(1))
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		t.Fatalf("KeyID = %q, want 16 hex chars", id)
	}
	if id == KeyID(key(2)) {
		t.Fatal("different keys share an id")
	}
	kr, err := NewKeyring(key(1), key(2))
	if err != nil {
		t.Fatal(err)
	}
	if kr.CurrentKeyID() != id {
		t.Fatalf("CurrentKeyID = %q, want %q", kr.CurrentKeyID(), id)
	}
}

func TestSealOpen(t *testing.T) {
	current, previous, stranger := key(1), key(2), key(3)
	kr, err := NewKeyring(current, previous)
	if err != nil {
		t.Fatal(err)
	}
	oldRing, err := NewKeyring(previous)
	if err != nil {
		t.Fatal(err)
	}
	strangerRing, err := NewKeyring(stranger)
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("mcp_connections:1")
	plain := []byte("s3cret-token")

	sealed, id, err := kr.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if id != KeyID(current) {
		t.Fatalf("Seal used key %s, want current %s", id, KeyID(current))
	}
	if bytes.Contains(sealed, plain) {
		t.Fatal("ciphertext contains the plaintext")
	}
	again, _, _ := kr.Seal(plain, aad)
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of the same value are identical: nonce is not random")
	}
	oldSealed, oldID, err := oldRing.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	strangerSealed, strangerID, err := strangerRing.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	tamperedNonce := bytes.Clone(sealed)
	tamperedNonce[0] ^= 1

	tests := []struct {
		name       string
		ciphertext []byte
		keyID      string
		aad        []byte
		wantErr    error
		wantMsg    string
	}{
		{name: "round trip", ciphertext: sealed, keyID: id, aad: aad},
		{name: "previous key decrypts", ciphertext: oldSealed, keyID: oldID, aad: aad},
		{name: "wrong aad", ciphertext: sealed, keyID: id, aad: []byte("mcp_connections:2"), wantErr: ErrDecrypt, wantMsg: "altered or belongs to another record"},
		{name: "nil aad", ciphertext: sealed, keyID: id, aad: nil, wantErr: ErrDecrypt},
		{name: "tampered body", ciphertext: tampered, keyID: id, aad: aad, wantErr: ErrDecrypt},
		{name: "tampered nonce", ciphertext: tamperedNonce, keyID: id, aad: aad, wantErr: ErrDecrypt},
		{name: "truncated", ciphertext: sealed[:10], keyID: id, aad: aad, wantErr: ErrDecrypt, wantMsg: "shorter than any sealed value"},
		{name: "labelled with the wrong known key", ciphertext: sealed, keyID: oldID, aad: aad, wantErr: ErrDecrypt},
		{
			name: "unknown key id", ciphertext: strangerSealed, keyID: strangerID, aad: aad, wantErr: ErrUnknownKey,
			wantMsg: "sealed with key " + strangerID + ", which is neither MCP_API_SECRET_KEY nor MCP_API_SECRET_KEY_PREVIOUS",
		},
		{name: "garbage key id", ciphertext: sealed, keyID: strings.Repeat("z", 500), aad: aad, wantErr: ErrUnknownKey, wantMsg: `"zzzzzzzzzzzzzzzz"…`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kr.Open(tc.ciphertext, tc.keyID, tc.aad)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if !bytes.Equal(got, plain) {
					t.Fatalf("Open = %q, want %q", got, plain)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Open error = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Open error %q does not contain %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), string(plain)) {
				t.Fatalf("error %q leaks the plaintext", err)
			}
		})
	}
}

func TestReseal(t *testing.T) {
	oldKey, newKey := key(1), key(2)
	oldRing, _ := NewKeyring(oldKey)
	rotated, err := NewKeyring(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("mcp_connections:x")
	sealed, oldID, _ := oldRing.Seal([]byte("tok"), aad)

	resealed, newID, err := rotated.Reseal(sealed, oldID, aad)
	if err != nil {
		t.Fatalf("Reseal: %v", err)
	}
	if newID != KeyID(newKey) || newID == oldID {
		t.Fatalf("Reseal key id = %s, want %s", newID, KeyID(newKey))
	}
	newOnly, _ := NewKeyring(newKey)
	if got, err := newOnly.Open(resealed, newID, aad); err != nil || string(got) != "tok" {
		t.Fatalf("Open after Reseal = %q, %v", got, err)
	}

	same, sameID, err := rotated.Reseal(resealed, newID, aad)
	if err != nil {
		t.Fatalf("Reseal under the current key: %v", err)
	}
	if sameID != newID || !bytes.Equal(same, resealed) {
		t.Fatal("Reseal changed a value already sealed under the current key")
	}

	if _, _, err := rotated.Reseal(sealed, oldID, []byte("other")); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Reseal with wrong aad error = %v, want ErrDecrypt", err)
	}
	if _, _, err := newOnly.Reseal(sealed, oldID, aad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Reseal without the old key error = %v, want ErrUnknownKey", err)
	}
}

func TestAPIKey(t *testing.T) {
	format := regexp.MustCompile(`^mcpk_[a-z2-7]{40}$`)
	seen := map[string]bool{}
	for range 50 {
		plain, hash, err := NewAPIKey()
		if err != nil {
			t.Fatal(err)
		}
		if !format.MatchString(plain) {
			t.Fatalf("NewAPIKey = %q, want %s", plain, format)
		}
		if seen[plain] {
			t.Fatalf("NewAPIKey repeated %q", plain)
		}
		seen[plain] = true
		if !bytes.Equal(hash, HashAPIKey(plain)) {
			t.Fatal("NewAPIKey hash differs from HashAPIKey of the plain key")
		}
	}
	// A fixed vector: the stored hashes must never change meaning between releases.
	// It is SHA-256 of the plain key (printf mcpk_example | sha256sum).
	const want = "7b8f315390ea0289b33e7533c5dd4029cebab98266ab1057cfb73ab7068da63b"
	h := HashAPIKey("mcpk_example")
	if got := hex.EncodeToString(h); got != want {
		t.Fatalf("HashAPIKey = %s, want %s", got, want)
	}
	if bytes.Equal(h, HashAPIKey("mcpk_examplf")) {
		t.Fatal("HashAPIKey collides on different keys")
	}
}
