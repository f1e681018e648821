// Package secretstest is the contract every secrets.Store keeps, as one test
// suite that runs against each backend (builtin, the Infisical fake, a real
// Infisical).
package secretstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
)

// Backend is one backend under test.
type Backend struct {
	// New returns a fresh store (it may share state with earlier ones).
	New func(t *testing.T) secrets.Store
	// KeepsState is true when the store holds secrets outside the Ref (so
	// that a deleted Ref no longer opens), false for the builtin store,
	// whose Ref is the sealed secret itself.
	KeepsState bool
}

// values are the secrets every backend must give back byte for byte: those a
// remote store would expand, trim or mangle included.
var values = map[string][]byte{
	"plain":               []byte("tok-abc123"),
	"reference":           []byte("${HOME} and ${env.prod.OTHER} $HOME"),
	"surrounding spaces":  []byte("  padded token \t"),
	"newlines":            []byte("\nline one\r\nline two\n\n"),
	"pem":                 []byte("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"),
	"not utf-8":           {0x00, 0xff, 0xfe, '\n', ' '},
	"empty":               {},
	"quotes and percents": []byte(`"a" 'b' %s %00 \n`),
	"large":               bytes.Repeat([]byte("0123456789abcdef"), 1024),
}

func name(t *testing.T) string {
	t.Helper()
	n, err := secrets.NewName()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func aadFor(t *testing.T) []byte {
	return []byte("contract:" + strings.ReplaceAll(t.Name(), " ", "_"))
}

// Run runs the contract against b.
func Run(t *testing.T, b Backend) {
	ctx := context.Background()

	t.Run("round trip", func(t *testing.T) {
		s := b.New(t)
		for label, v := range values {
			t.Run(label, func(t *testing.T) {
				aad := aadFor(t)
				ref, err := s.Put(ctx, name(t), v, aad)
				if err != nil {
					t.Fatalf("Put: %v", err)
				}
				if !s.Owns(ref) {
					t.Fatalf("the store does not own its own ref (key id %q)", ref.KeyID)
				}
				if bytes.Contains(ref.Data, v) && len(v) > 3 {
					t.Fatalf("the ref holds the value in the clear")
				}
				got, err := s.Get(ctx, ref, aad)
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if !bytes.Equal(got, v) {
					t.Fatalf("Get = %q, want %q", got, v)
				}
				t.Cleanup(func() { _ = s.Delete(ctx, ref) })
			})
		}
	})

	t.Run("another record's aad does not open", func(t *testing.T) {
		s := b.New(t)
		ref, err := s.Put(ctx, name(t), []byte("tok-bound"), []byte("mcp_connections:one"))
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		t.Cleanup(func() { _ = s.Delete(ctx, ref) })
		got, err := s.Get(ctx, ref, []byte("mcp_connections:two"))
		if !errors.Is(err, secrets.ErrDecrypt) {
			t.Fatalf("Get with another aad = %q, %v; want ErrDecrypt", got, err)
		}
		if strings.Contains(err.Error(), "tok-bound") {
			t.Fatalf("error %q shows the secret", err)
		}
	})

	t.Run("unchanged", func(t *testing.T) {
		s := b.New(t)
		aad := aadFor(t)
		ref, err := s.Put(ctx, name(t), []byte("tok-same"), aad)
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		t.Cleanup(func() { _ = s.Delete(ctx, ref) })
		if len(ref.Fingerprint) == 0 {
			t.Fatal("Put returned a ref without a fingerprint")
		}
		if !s.Unchanged(ref, []byte("tok-same"), aad) {
			t.Fatal("Unchanged(same value) = false")
		}
		if s.Unchanged(ref, []byte("tok-other"), aad) {
			t.Fatal("Unchanged(other value) = true")
		}
		if s.Unchanged(ref, []byte("tok-same"), []byte("another record")) {
			t.Fatal("Unchanged(same value, other aad) = true")
		}
		if s.Unchanged(secrets.Ref{}, []byte("tok-same"), aad) {
			t.Fatal("Unchanged(no ref) = true")
		}
		if bytes.Contains(ref.Fingerprint, []byte("tok-same")) {
			t.Fatal("the fingerprint holds the value")
		}
	})

	t.Run("a new version before the old one goes", func(t *testing.T) {
		s := b.New(t)
		aad := aadFor(t)
		old, err := s.Put(ctx, name(t), []byte("tok-v1"), aad)
		if err != nil {
			t.Fatalf("Put v1: %v", err)
		}
		next, err := s.Put(ctx, name(t), []byte("tok-v2"), aad)
		if err != nil {
			t.Fatalf("Put v2: %v", err)
		}
		t.Cleanup(func() { _ = s.Delete(ctx, next) })
		if bytes.Equal(old.Data, next.Data) {
			t.Fatal("two writes returned the same ref")
		}
		for ref, want := range map[*secrets.Ref]string{&old: "tok-v1", &next: "tok-v2"} {
			if got, err := s.Get(ctx, *ref, aad); err != nil || string(got) != want {
				t.Fatalf("Get = %q, %v; want %q: writing a new version must leave the old one readable", got, err, want)
			}
		}
		if err := s.Delete(ctx, old); err != nil {
			t.Fatalf("Delete old: %v", err)
		}
		if got, err := s.Get(ctx, next, aad); err != nil || string(got) != "tok-v2" {
			t.Fatalf("after deleting the old version Get(new) = %q, %v", got, err)
		}
		if b.KeepsState {
			if _, err := s.Get(ctx, old, aad); !errors.Is(err, secrets.ErrNotFound) {
				t.Fatalf("Get(deleted) error = %v, want ErrNotFound", err)
			}
		}
	})

	t.Run("put is idempotent per name", func(t *testing.T) {
		s := b.New(t)
		aad := aadFor(t)
		n := name(t)
		first, err := s.Put(ctx, n, []byte("tok-retried"), aad)
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		t.Cleanup(func() { _ = s.Delete(ctx, first) })
		again, err := s.Put(ctx, n, []byte("tok-retried"), aad)
		if err != nil {
			t.Fatalf("Put retried with the same name and value: %v", err)
		}
		if got, err := s.Get(ctx, again, aad); err != nil || string(got) != "tok-retried" {
			t.Fatalf("Get after a retried Put = %q, %v", got, err)
		}
	})

	t.Run("delete is idempotent", func(t *testing.T) {
		s := b.New(t)
		ref, err := s.Put(ctx, name(t), []byte("tok-gone"), aadFor(t))
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		for i := range 2 {
			if err := s.Delete(ctx, ref); err != nil {
				t.Fatalf("Delete #%d: %v", i+1, err)
			}
		}
	})

	t.Run("bad names are refused", func(t *testing.T) {
		s := b.New(t)
		for _, n := range []string{"", "has space", "a/b", "${X}", strings.Repeat("A", 201)} {
			if _, err := s.Put(ctx, n, []byte("v"), aadFor(t)); err == nil {
				t.Fatalf("Put accepted the name %q", n)
			}
		}
	})

	t.Run("foreign refs", func(t *testing.T) {
		s := b.New(t)
		foreign := secrets.Ref{KeyID: "0123456789abcdef-not-ours", Data: []byte("x")}
		if s.Owns(foreign) {
			t.Fatal("Owns(a ref of no backend) = true")
		}
		if _, err := s.Get(ctx, foreign, nil); err == nil {
			t.Fatal("Get(foreign ref) succeeded")
		}
	})

	t.Run("canceled context", func(t *testing.T) {
		s := b.New(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Put(cctx, name(t), []byte("v"), aadFor(t)); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put with a canceled context: %v, want context.Canceled", err)
		}
	})

	t.Run("check", func(t *testing.T) {
		if err := b.New(t).Check(ctx); err != nil {
			t.Fatalf("Check: %v", err)
		}
	})

	t.Run("concurrent use", func(t *testing.T) {
		s := b.New(t)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				aad := fmt.Appendf(nil, "concurrent:%d", i)
				v := fmt.Appendf(nil, "tok-%d", i)
				n, err := secrets.NewName()
				if err != nil {
					errs <- err
					return
				}
				ref, err := s.Put(ctx, n, v, aad)
				if err != nil {
					errs <- err
					return
				}
				got, err := s.Get(ctx, ref, aad)
				if err == nil && !bytes.Equal(got, v) {
					err = fmt.Errorf("got %q from Get, want %q", got, v)
				}
				if derr := s.Delete(ctx, ref); err == nil {
					err = derr
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
