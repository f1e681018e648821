package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

func migrateCommand() *command {
	return &command{
		name:    "migrate",
		summary: "apply database migrations and exit",
		about:   "Applies the database migrations that are not applied yet, then exits. Safe to run again and\nconcurrently with other replicas.",
		env:     []string{envDatabaseURL, envLogLevel},
		setup: func(fs *flag.FlagSet) func(context.Context, *cli) error {
			return func(ctx context.Context, c *cli) error {
				return withMigrated(ctx, c, func(*store.Store) error {
					c.log.Info("database schema is up to date")
					return nil
				})
			}
		},
	}
}

func tenantCreateCommand() *command {
	return &command{
		name:     "tenant create",
		synopsis: "--name NAME",
		summary:  "create a tenant; prints its UUID",
		about:    "Creates a tenant and prints its UUID, alone, on stdout. Applies pending migrations first.",
		env:      []string{envDatabaseURL, envLogLevel},
		setup: func(fs *flag.FlagSet) func(context.Context, *cli) error {
			name := fs.String("name", "", "the tenant's `NAME`, 1-200 characters (required)")
			return func(ctx context.Context, c *cli) error {
				if *name == "" {
					return configErrorf(`tenant create: --name is required, as in "mcp-api tenant create --name acme"`)
				}
				if err := contract.ValidateName(*name); err != nil {
					return configErrorf("tenant create: --name %v", err)
				}
				return withMigrated(ctx, c, func(st *store.Store) error {
					t, err := st.CreateTenant(ctx, *name)
					if err != nil {
						return fmt.Errorf("tenant create: %w", err)
					}
					fmt.Fprintln(c.stdout, t.ID)
					return nil
				})
			}
		},
	}
}

func keyCreateCommand() *command {
	return &command{
		name:     "key create",
		synopsis: "--tenant UUID",
		summary:  "create an API key for a tenant; prints the key",
		about: "Creates an API key for the tenant and prints it, alone, on stdout. Only its hash is stored:\n" +
			"this is the one time the key is shown. Applies pending migrations first.",
		env: []string{envDatabaseURL, envLogLevel},
		setup: func(fs *flag.FlagSet) func(context.Context, *cli) error {
			tenant := fs.String("tenant", "", "the `UUID` of the tenant the key authenticates as (required)")
			return func(ctx context.Context, c *cli) error {
				if *tenant == "" {
					return configErrorf(`key create: --tenant is required: the UUID "mcp-api tenant create" printed`)
				}
				tenantID, err := uuid.Parse(*tenant)
				if err != nil {
					return configErrorf("key create: --tenant must be a tenant UUID, got %q", *tenant)
				}
				return withMigrated(ctx, c, func(st *store.Store) error {
					plain, hash, err := secrets.NewAPIKey()
					if err != nil {
						return fmt.Errorf("key create: %w", err)
					}
					if err := st.CreateAPIKey(ctx, tenantID, hash); err != nil {
						if errors.Is(err, store.ErrNotFound) {
							return fmt.Errorf("key create: tenant %s does not exist; create one with \"mcp-api tenant create --name NAME\"", tenantID)
						}
						return fmt.Errorf("key create: %w", err)
					}
					fmt.Fprintln(c.stdout, plain)
					return nil
				})
			}
		},
	}
}

func secretsRotateCommand() *command {
	return &command{
		name:    "secrets rotate",
		summary: "re-encrypt stored secrets (bearer tokens, headers, client secrets and keys) under " + envSecretKey,
		about: "Re-encrypts every stored bearer token that an older key sealed under the current MCP_API_SECRET_KEY,\n" +
			"and prints how many it changed. Set MCP_API_SECRET_KEY to the new key and MCP_API_SECRET_KEY_PREVIOUS\n" +
			"to the old one(s); once this has run, the previous keys can be dropped. Running servers keep working\n" +
			"throughout as long as they also know both keys. Applies pending migrations first.",
		env: []string{envDatabaseURL, envSecretKey, envSecretKeyPrevious, envLogLevel},
		setup: func(fs *flag.FlagSet) func(context.Context, *cli) error {
			return func(ctx context.Context, c *cli) error {
				kr, err := keyring(c.env)
				if err != nil {
					return err
				}
				return withMigrated(ctx, c, func(st *store.Store) error {
					conns, err := st.ReencryptConnectionSecrets(ctx, func(aad, ciphertext []byte, keyID string) ([]byte, string, error) {
						return kr.Reseal(ciphertext, keyID, aad)
					})
					if err != nil {
						return fmt.Errorf("secrets rotate: re-encrypted %d connection secrets, then failed: %w", conns, err)
					}
					servers, err := st.ReencryptServerSecrets(ctx, func(aad, ciphertext []byte, keyID string) ([]byte, string, error) {
						return kr.Reseal(ciphertext, keyID, aad)
					})
					if err != nil {
						return fmt.Errorf("secrets rotate: re-encrypted %d connection and %d server secrets, then failed: %w", conns, servers, err)
					}
					fmt.Fprintf(c.stdout, "re-encrypted %d stored secrets (bearer tokens, header values, client secrets and keys) under key %s\n", conns+servers, kr.CurrentKeyID())
					return nil
				})
			}
		},
	}
}

// openStore opens the database DATABASE_URL names; it does not connect yet.
func openStore(c *cli) (*store.Store, error) {
	url := c.env(envDatabaseURL)
	if strings.TrimSpace(url) == "" {
		return nil, configErrorf("%s is not set; set it to a PostgreSQL URL such as postgres://user:password@localhost:5432/mcp?sslmode=disable", envDatabaseURL)
	}
	st, err := store.Open(url)
	if err != nil {
		return nil, configErrorf("%s: %v", envDatabaseURL, err)
	}
	return st, nil
}

// withMigrated opens the store, applies pending migrations once and runs
// do on it, for the admin commands: a fresh database works without a
// separate migrate step. The store is closed when do returns.
func withMigrated(ctx context.Context, c *cli, do func(st *store.Store) error) error {
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	return do(st)
}

// keyring builds the token keyring from MCP_API_SECRET_KEY and
// MCP_API_SECRET_KEY_PREVIOUS.
func keyring(env func(string) string) (*secrets.Keyring, error) {
	raw := env(envSecretKey)
	if strings.TrimSpace(raw) == "" {
		return nil, configErrorf("%s is not set; it encrypts stored bearer tokens: set it to base64 of 32 random bytes, for example from `openssl rand -base64 32`", envSecretKey)
	}
	current, err := secrets.ParseKey(raw)
	if err != nil {
		return nil, configErrorf("%v", err)
	}
	var previous [][]byte
	if prev := env(envSecretKeyPrevious); strings.TrimSpace(prev) != "" {
		for _, p := range strings.Split(prev, ",") {
			key, err := secrets.ParseNamedKey(envSecretKeyPrevious, p)
			if err != nil {
				return nil, configErrorf("%v", err)
			}
			previous = append(previous, key)
		}
	}
	kr, err := secrets.NewKeyring(current, previous...)
	if err != nil {
		return nil, configErrorf("%v", err)
	}
	return kr, nil
}
