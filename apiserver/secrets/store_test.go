package secrets_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets/infisicalfake"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets/secretstest"
)

func newKeyring(t testing.TB) *secrets.Keyring {
	t.Helper()
	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	kr, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// clock is a settable clock shared by a fake and a client, so token expiry
// and login backoff are tested without waiting.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// fakeConfig is an InfisicalConfig for f.
func fakeConfig(f *infisicalfake.Fake, path string) secrets.InfisicalConfig {
	o := f.Options()
	return secrets.InfisicalConfig{URL: f.URL, ClientID: o.ClientID, ClientSecret: o.ClientSecret, ProjectID: o.ProjectID,
		Environment: o.Environments[0], SecretPath: path, RetryWait: time.Millisecond, Now: o.Now}
}

func newInfisical(t testing.TB, cfg secrets.InfisicalConfig) *secrets.Infisical {
	t.Helper()
	s, err := secrets.NewInfisical(cfg, newKeyring(t))
	if err != nil {
		t.Fatalf("NewInfisical: %v", err)
	}
	return s
}

func TestBuiltinContract(t *testing.T) {
	kr := newKeyring(t)
	secretstest.Run(t, secretstest.Backend{New: func(*testing.T) secrets.Store { return secrets.NewBuiltin(kr) }})
}

func TestInfisicalFakeContract(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	kr := newKeyring(t)
	secretstest.Run(t, secretstest.Backend{KeepsState: true, New: func(t *testing.T) secrets.Store {
		s, err := secrets.NewInfisical(fakeConfig(f, "/mcp-api/contract"), kr)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}})
	// Everything the suite wrote it deleted, and what it stored is
	// base64url: nothing for Infisical to expand or trim.
	for _, s := range f.Secrets() {
		t.Errorf("secret left behind: %+v", s)
	}
	if logins := f.Logins(); logins > 20 {
		t.Errorf("the suite logged in %d times; each store should log in once", logins)
	}
}

// TestInfisicalRealContract runs the contract against a real Infisical when
// INFISICAL_URL and its credentials are set (README, "Secrets in
// Infisical"). It writes and deletes secrets under INFISICAL_SECRET_PATH
// (default /mcp-api-contract-test).
func TestInfisicalRealContract(t *testing.T) {
	if os.Getenv(secrets.EnvInfisicalURL) == "" {
		t.Skip("SKIPPED: NOT TESTED AGAINST A REAL INFISICAL. Set INFISICAL_URL, INFISICAL_CLIENT_ID, INFISICAL_CLIENT_SECRET, " +
			"INFISICAL_PROJECT_ID and INFISICAL_ENVIRONMENT (and optionally INFISICAL_SECRET_PATH) to run the secret store contract against it.")
	}
	env := func(k string) string {
		if k == secrets.EnvInfisicalSecretPath && os.Getenv(k) == "" {
			return "/mcp-api-contract-test"
		}
		return os.Getenv(k)
	}
	cfg, err := secrets.InfisicalConfigFromEnv(env)
	if err != nil {
		t.Fatalf("INFISICAL_URL is set but the configuration is not usable: %v", err)
	}
	kr := newKeyring(t)
	s, err := secrets.NewInfisical(cfg, kr)
	if err != nil {
		t.Fatal(err)
	}
	// One store for the whole suite: one login, never a loop of them.
	secretstest.Run(t, secretstest.Backend{KeepsState: true, New: func(*testing.T) secrets.Store { return s }})
}

func TestFromEnv(t *testing.T) {
	kr := newKeyring(t)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, v := range []string{"", "builtin", " Builtin "} {
		s, err := secrets.FromEnv(env(map[string]string{secrets.EnvBackend: v}), kr)
		if err != nil || s.Backend() != secrets.BackendBuiltin {
			t.Fatalf("FromEnv(%q) = %v, %v; want the builtin store", v, s, err)
		}
	}
	full := map[string]string{
		secrets.EnvBackend: "infisical", secrets.EnvInfisicalURL: "https://infisical.example", secrets.EnvInfisicalClientID: "id",
		secrets.EnvInfisicalClientSecret: "very-secret-value", secrets.EnvInfisicalProjectID: "p", secrets.EnvInfisicalEnvironment: "prod",
	}
	s, err := secrets.FromEnv(env(full), kr)
	if err != nil || s.Backend() != secrets.BackendInfisical {
		t.Fatalf("FromEnv(infisical) = %v, %v", s, err)
	}

	bad := []struct {
		name   string
		change map[string]string
		want   string
	}{
		{"unknown backend", map[string]string{secrets.EnvBackend: "vault"}, `MCP_API_SECRET_BACKEND must be builtin or infisical, got "vault"`},
		{"missing", map[string]string{secrets.EnvInfisicalClientSecret: "", secrets.EnvInfisicalProjectID: ""}, "needs INFISICAL_CLIENT_SECRET, INFISICAL_PROJECT_ID"},
		{"relative url", map[string]string{secrets.EnvInfisicalURL: "infisical.example"}, "INFISICAL_URL must be an absolute http or https URL"},
		{"url with credentials", map[string]string{secrets.EnvInfisicalURL: "https://u:p@infisical.example"}, "INFISICAL_URL must not carry credentials"},
		{"bad folder", map[string]string{secrets.EnvInfisicalSecretPath: "/mcp api"}, "INFISICAL_SECRET_PATH must be a folder path"},
		{"empty folder", map[string]string{secrets.EnvInfisicalSecretPath: "/a//b"}, "empty folder name"},
		{"bad environment", map[string]string{secrets.EnvInfisicalEnvironment: "prod/x"}, "INFISICAL_ENVIRONMENT must be an environment slug"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range full {
				m[k] = v
			}
			for k, v := range tc.change {
				m[k] = v
			}
			_, err := secrets.FromEnv(env(m), kr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("FromEnv error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "very-secret-value") {
				t.Fatalf("error %q shows the client secret", err)
			}
		})
	}
	if _, err := secrets.FromEnv(env(nil), nil); err == nil {
		t.Fatal("FromEnv accepted a missing keyring")
	}
}

func TestFingerprintSurvivesKeyRotation(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte{1}, secrets.KeySize), bytes.Repeat([]byte{2}, secrets.KeySize)
	oldRing, _ := secrets.NewKeyring(oldKey)
	newRing, _ := secrets.NewKeyring(newKey, oldKey)
	aad := []byte("mcp_servers:1")
	f := infisicalfake.New(t, infisicalfake.Options{})
	for _, pair := range []struct{ before, after secrets.Store }{
		{secrets.NewBuiltin(oldRing), secrets.NewBuiltin(newRing)},
	} {
		ref, err := pair.before.Put(t.Context(), "MCP_X", []byte("tok"), aad)
		if err != nil {
			t.Fatal(err)
		}
		if !pair.after.Unchanged(ref, []byte("tok"), aad) {
			t.Fatal("after rotating MCP_API_SECRET_KEY a resent secret looks changed")
		}
	}
	before, _ := secrets.NewInfisical(fakeConfig(f, "/"), oldRing)
	after, _ := secrets.NewInfisical(fakeConfig(f, "/"), newRing)
	ref, err := before.Put(t.Context(), "MCP_Y", []byte("tok"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Unchanged(ref, []byte("tok"), aad) {
		t.Fatal("after rotating MCP_API_SECRET_KEY a resent Infisical secret looks changed")
	}
	if after.Unchanged(ref, []byte("tok2"), aad) {
		t.Fatal("a changed secret looks unchanged")
	}
	// A ref written before fingerprints existed is compared by opening it.
	legacy, keyID, _ := oldRing.Seal([]byte("tok"), aad)
	if !secrets.NewBuiltin(newRing).Unchanged(secrets.Ref{KeyID: keyID, Data: legacy}, []byte("tok"), aad) {
		t.Fatal("a sealed token without a fingerprint does not compare equal to itself")
	}
}

func TestRetryAfter(t *testing.T) {
	err := &secrets.UnavailableError{After: 7 * time.Second, Err: errors.New("down")}
	if !errors.Is(err, secrets.ErrUnavailable) {
		t.Fatal("UnavailableError is not ErrUnavailable")
	}
	if d, ok := secrets.RetryAfter(errors.Join(errors.New("x"), err)); !ok || d != 7*time.Second {
		t.Fatalf("RetryAfter = %v, %v", d, ok)
	}
	if _, ok := secrets.RetryAfter(secrets.ErrRefused); ok {
		t.Fatal("RetryAfter(ErrRefused) says to wait")
	}
}
