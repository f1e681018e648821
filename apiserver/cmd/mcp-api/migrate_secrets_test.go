package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets/infisicalfake"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// TestSecretsMigrateResumesAfterCrash: secrets migrate --to infisical,
// killed midway, then run again, ends with every secret in Infisical (the
// values intact), says how far it got every 100 records, is a no-op the
// third time, and after the cleanup worker Infisical holds only what rows
// point at; --to builtin then brings every secret back and empties
// Infisical.
func TestSecretsMigrateResumesAfterCrash(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	envInfisical := infisicalEnv(t, f)
	envBuiltin := maps.Clone(envInfisical)
	envBuiltin[secrets.EnvBackend] = secrets.BackendBuiltin
	key := envBuiltin["MCP_API_BOOTSTRAP_KEY"]

	s := startServe(t, envBuiltin, "--no-scheduler")
	const conns = 60 // a token and headers each: 120 secrets
	for i := range conns {
		do(t, http.MethodPost, s.url+"/api/mcp-connections", key, fmt.Sprintf(
			`{"name":"c%d","serverUrl":"https://mcp.example.com/mcp","authType":"bearer","bearerToken":"token-%d","headers":{"X-Api-Key":"key-%d"}}`, i, i, i),
			http.StatusCreated)
	}
	st := openTestStore(t, envBuiltin)
	if names, builtin := rowNames(t, st); len(names) != 0 || builtin != 2*conns {
		t.Fatalf("before the migration: %d secrets in Infisical, %d builtin", len(names), builtin)
	}

	crashed := startChild(t, envInfisical, secrets.CrashMigrateAfterPut+":30", "secrets", "migrate", "--to", "infisical")
	crashed.killed(t)
	names, builtin := rowNames(t, st)
	if len(names) != 29 || builtin != 2*conns-29 {
		t.Fatalf("after the crash at the 30th secret: %d rows point into Infisical, %d builtin; want 29 and %d", len(names), builtin, 2*conns-29)
	}

	r := runCmd(t, envInfisical, "secrets", "migrate", "--to", "infisical")
	if r.code != exitOK {
		t.Fatalf("migrate again: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "secrets migrate: 100 records checked") || !strings.Contains(r.stdout, "91 moved to infisical, 29 already there") {
		t.Fatalf("migrate's output does not show progress and what it did:\n%s", r.stdout)
	}
	names, builtin = rowNames(t, st)
	if len(names) != 2*conns || builtin != 0 {
		t.Fatalf("after the resumed migration: %d in Infisical, %d builtin", len(names), builtin)
	}
	// the values made it intact, bound to their rows
	in, err := secrets.NewInfisical(mustInfisicalConfig(t, envInfisical), mustKeyring(t, envInfisical))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = st.EachStoredSecret(context.Background(), func(ss store.StoredSecret) error {
		if ss.What != "token" {
			return nil
		}
		v, err := in.Get(context.Background(), secrets.Ref{KeyID: ss.Ref.KeyID, Data: ss.Ref.Data}, ss.AAD)
		if err != nil || !strings.HasPrefix(string(v), "token-") {
			return fmt.Errorf("token of %s: %q, %v", ss.ID, v, err)
		}
		checked++
		return nil
	})
	if err != nil || checked != conns {
		t.Fatalf("reading the moved tokens: %d, %v", checked, err)
	}

	if r := runCmd(t, envInfisical, "secrets", "migrate", "--to", "infisical"); r.code != exitOK || !strings.Contains(r.stdout, "0 moved to infisical, 120 already there") {
		t.Fatalf("a third run is not a no-op: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// the crashed run's Put left one secret no row points at
	if held := len(f.Secrets()); held != 2*conns+1 {
		t.Fatalf("Infisical holds %d secrets, want %d (one orphan from the crash)", held, 2*conns+1)
	}
	cleanedUp(t, envInfisical, f, st)

	// Reads keep working while the rows point elsewhere.
	do(t, http.MethodGet, s.url+"/api/mcp-connections?limit=5", key, "", http.StatusOK)

	r = runCmd(t, envInfisical, "secrets", "migrate", "--to", "builtin")
	if r.code != exitOK || !strings.Contains(r.stdout, "120 moved to builtin") || !strings.Contains(r.stdout, "120 old copies deleted") {
		t.Fatalf("migrate back: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if names, builtin := rowNames(t, st); len(names) != 0 || builtin != 2*conns {
		t.Fatalf("after migrating back: %d in Infisical, %d builtin", len(names), builtin)
	}
	if held := len(f.Secrets()); held != 0 {
		t.Fatalf("after migrating back Infisical still holds %d secrets", held)
	}
}

func mustInfisicalConfig(t *testing.T, env map[string]string) secrets.InfisicalConfig {
	t.Helper()
	cfg, err := secrets.InfisicalConfigFromEnv(envFunc(env))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func mustKeyring(t *testing.T, env map[string]string) *secrets.Keyring {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(env["MCP_API_SECRET_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	kr, err := secrets.NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}
