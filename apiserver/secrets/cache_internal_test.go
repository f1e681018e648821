package secrets

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets/infisicalfake"
)

func testKeyring(t *testing.T) *Keyring {
	t.Helper()
	key := make([]byte, KeySize)
	_, _ = rand.Read(key)
	kr, err := NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func testInfisical(t *testing.T, f *infisicalfake.Fake, kr *Keyring) *Infisical {
	t.Helper()
	o := f.Options()
	in, err := NewInfisical(InfisicalConfig{URL: f.URL, ClientID: o.ClientID, ClientSecret: o.ClientSecret, ProjectID: o.ProjectID,
		Environment: o.Environments[0], SecretPath: "/cache", RetryWait: time.Millisecond, LoginBackoff: time.Millisecond}, kr)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestCachedRidesOutAnOutage: what was written or read is served from
// memory while Infisical is down, bound to its aad, until the TTL passes;
// after that the outage shows as ErrUnavailable with a Retry-After.
func TestCachedRidesOutAnOutage(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	c := NewCached(testInfisical(t, f, testKeyring(t)), time.Minute)
	now := time.Now()
	c.now = func() time.Time { return now }
	ctx := context.Background()
	name, _ := NewName()
	ref, err := c.Put(ctx, name, []byte("tok"), []byte("row:1"))
	if err != nil {
		t.Fatal(err)
	}
	f.SetDown(true)
	if v, err := c.Get(ctx, ref, []byte("row:1")); err != nil || string(v) != "tok" {
		t.Fatalf("cached Get while down: %q, %v", v, err)
	}
	if _, err := c.Get(ctx, ref, []byte("row:2")); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("cached Get for another record: %v, want ErrDecrypt", err)
	}
	now = now.Add(time.Minute)
	_, err = c.Get(ctx, ref, []byte("row:1"))
	if _, ok := RetryAfter(err); !ok || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get past the TTL while down: %v, want ErrUnavailable", err)
	}
	if c.Len() != 0 {
		t.Fatalf("the expired entry is still cached (%d)", c.Len())
	}
	f.SetDown(false)
	if v, err := c.Get(ctx, ref, []byte("row:1")); err != nil || string(v) != "tok" {
		t.Fatalf("Get once back: %q, %v", v, err)
	}
	if err := c.Delete(ctx, ref); err != nil || c.Len() != 0 {
		t.Fatalf("Delete: %v, %d cached", err, c.Len())
	}
}

// TestCachedStaysBounded: past maxCached entries the oldest go.
func TestCachedStaysBounded(t *testing.T) {
	kr := testKeyring(t)
	c := NewCached(NewBuiltin(kr), time.Hour)
	now := time.Now()
	c.now = func() time.Time { now = now.Add(time.Millisecond); return now }
	for i := range maxCached + 10 {
		name, _ := NewName()
		if _, err := c.Put(context.Background(), name, []byte{byte(i)}, []byte("a")); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Len(); n > maxCached {
		t.Fatalf("%d entries cached, want at most %d", n, maxCached)
	}
}

// TestLocateIsWherePutWrites: the Ref queued before a Put is the one the
// Put returns, so its cleanup finds the secret.
func TestLocateIsWherePutWrites(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	in := testInfisical(t, f, testKeyring(t))
	name, _ := NewName()
	loc := in.Locate(name)
	ref, err := in.Put(context.Background(), name, []byte("v"), []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.KeyID != ref.KeyID || !bytes.Equal(loc.Data, ref.Data) || !External(loc.KeyID) {
		t.Fatalf("Locate = %+v, Put = %+v", loc, ref)
	}
	if b := NewBuiltin(testKeyring(t)).Locate(name); !b.IsZero() || External(b.KeyID) {
		t.Fatalf("builtin Locate = %+v, want nothing outside the row", b)
	}
}

// TestInfisicalReadsRowsNotYetMigrated: a server switched to Infisical
// still opens what the builtin store sealed with its keyring.
func TestInfisicalReadsRowsNotYetMigrated(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	kr := testKeyring(t)
	name, _ := NewName()
	old, err := NewBuiltin(kr).Put(context.Background(), name, []byte("old"), []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	in := testInfisical(t, f, kr)
	if v, err := in.Get(context.Background(), old, []byte("a")); err != nil || string(v) != "old" {
		t.Fatalf("Infisical Get of a builtin ref: %q, %v", v, err)
	}
	if !in.Unchanged(old, []byte("old"), []byte("a")) || in.Unchanged(old, []byte("new"), []byte("a")) {
		t.Fatal("Infisical does not compare a builtin ref as the builtin store does")
	}
	if in.Owns(old) {
		t.Fatal("Infisical owns a builtin ref: secrets migrate would skip it")
	}
}
