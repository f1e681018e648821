package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// The secret store's variables (SPEC §11); the INFISICAL_* ones are the
// secrets package's.
const (
	envSecretBackend         = secrets.EnvBackend
	envSecretCacheTTL        = "MCP_API_SECRET_CACHE_TTL"
	envSecretCleanupGrace    = "MCP_API_SECRET_CLEANUP_GRACE"
	envSecretCleanupInterval = "MCP_API_SECRET_CLEANUP_INTERVAL"
	defaultCleanupGrace      = 15 * time.Minute
	defaultCleanupInterval   = time.Minute
	cleanupBatch             = 100
	migrateProgressInterval  = 100
)

// secretConfig is how serve keeps secrets.
type secretConfig struct {
	backend  string
	cacheTTL time.Duration
	// grace is how old a pending cleanup entry must be before the worker
	// deletes its secret: longer than any write takes.
	grace    time.Duration
	interval time.Duration
}

func secretConfigFrom(env func(string) string) (secretConfig, error) {
	cfg := secretConfig{backend: strings.ToLower(strings.TrimSpace(env(envSecretBackend))), cacheTTL: secrets.DefaultCacheTTL,
		grace: defaultCleanupGrace, interval: defaultCleanupInterval}
	if cfg.backend == "" {
		cfg.backend = secrets.BackendBuiltin
	}
	for _, d := range []struct {
		name string
		dest *time.Duration
		min  time.Duration
	}{{envSecretCacheTTL, &cfg.cacheTTL, time.Second}, {envSecretCleanupGrace, &cfg.grace, 0}, {envSecretCleanupInterval, &cfg.interval, 10 * time.Millisecond}} {
		v := strings.TrimSpace(env(d.name))
		if v == "" {
			continue
		}
		parsed, err := time.ParseDuration(v)
		if err != nil || parsed < d.min {
			return cfg, configErrorf("%s must be a duration of at least %s such as 10m, got %q", d.name, d.min, v)
		}
		*d.dest = parsed
	}
	return cfg, nil
}

// secretStore builds the store MCP_API_SECRET_BACKEND chooses; an outside
// one is cached in memory so reads ride out its outages.
func secretStore(env func(string) string, kr *secrets.Keyring, cfg secretConfig) (secrets.Store, error) {
	st, err := secrets.FromEnv(env, kr)
	if err != nil {
		return nil, configErrorf("%v", err)
	}
	if st.Backend() == secrets.BackendBuiltin {
		return st, nil
	}
	return secrets.NewCached(st, cfg.cacheTTL), nil
}

// cleanupDeleter deletes a queued secret through the backend that owns it:
// primary, or Infisical built from the environment for entries left from
// before a migration to builtin.
func cleanupDeleter(env func(string) string, kr *secrets.Keyring, primary secrets.Store) func(context.Context, store.SecretRef) error {
	var other secrets.Store
	return func(ctx context.Context, r store.SecretRef) error {
		ref := secrets.Ref{KeyID: r.KeyID, Data: r.Data}
		if primary.Owns(ref) {
			return primary.Delete(ctx, ref)
		}
		if !secrets.External(r.KeyID) {
			return nil // a builtin ciphertext: it went with its row
		}
		if other == nil {
			cfg, err := secrets.InfisicalConfigFromEnv(env)
			if err != nil {
				return fmt.Errorf("a secret queued for cleanup is in Infisical, which this server is not configured for: %w", err)
			}
			if other, err = secrets.NewInfisical(cfg, kr); err != nil {
				return err
			}
		}
		return other.Delete(ctx, ref)
	}
}

// runSecretCleanup deletes queued secrets every interval until ctx ends;
// replicas share the queue (the store takes entries with SKIP LOCKED).
func runSecretCleanup(ctx context.Context, st *store.Store, cfg secretConfig, del func(context.Context, store.SecretRef) error, log *slog.Logger) {
	t := time.NewTicker(cfg.interval)
	defer t.Stop()
	for {
		for {
			n, err := st.CleanupSecrets(ctx, cfg.grace, cleanupBatch, del)
			if err != nil && ctx.Err() == nil {
				log.Warn("secret cleanup failed; it is retried", "error", err.Error())
			}
			if n > 0 {
				log.Info("deleted secrets no record points at", "count", n)
			}
			if err != nil || n < cleanupBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func secretsMigrateCommand() *command {
	return &command{
		name:     "secrets migrate",
		synopsis: "--to infisical|builtin",
		summary:  "move every stored secret to another secret backend",
		about: "Moves every stored secret (bearer tokens, header values, client secrets and keys of connections and\n" +
			"MCP servers) to the backend --to names, row by row: the secret is written there, then the row is pointed at\n" +
			"it and its old copy queued for cleanup in one transaction. Rows already on the target are skipped, so the\n" +
			"command is idempotent and resumes where a crash stopped it. It prints a progress line per 100 records.\n" +
			"Secrets left in Infisical after a move to builtin are deleted at the end (and by serve's cleanup worker).\n" +
			"Running servers keep working throughout; set " + envSecretBackend + " to the target afterwards.",
		env: []string{envDatabaseURL, envSecretKey, envSecretKeyPrevious, secrets.EnvInfisicalURL, secrets.EnvInfisicalClientID,
			secrets.EnvInfisicalClientSecret, secrets.EnvInfisicalProjectID, secrets.EnvInfisicalEnvironment, secrets.EnvInfisicalSecretPath, envLogLevel},
		setup: func(fs *flag.FlagSet) func(context.Context, *cli) error {
			to := fs.String("to", "", "the backend to move secrets to: infisical or builtin")
			return func(ctx context.Context, c *cli) error {
				kr, err := keyring(c.env)
				if err != nil {
					return err
				}
				builtin := secrets.NewBuiltin(kr)
				var infisical secrets.Store
				cfg, infisicalErr := secrets.InfisicalConfigFromEnv(c.env)
				if infisicalErr == nil {
					in, err := secrets.NewInfisical(cfg, kr)
					if err != nil {
						return configErrorf("secrets migrate: %v", err)
					}
					infisical = in
				}
				var target secrets.Store
				switch *to {
				case secrets.BackendBuiltin:
					target = builtin
				case secrets.BackendInfisical:
					if infisical == nil {
						return configErrorf("secrets migrate --to infisical: %v", infisicalErr)
					}
					target = infisical
				default:
					return configErrorf("secrets migrate: --to must be infisical or builtin, got %q", *to)
				}
				return withMigrated(ctx, c, func(st *store.Store) error {
					m := migration{st: st, target: target, builtin: builtin, infisical: infisical, infisicalErr: infisicalErr, out: c}
					if err := m.run(ctx); err != nil {
						return fmt.Errorf("secrets migrate: %s; then: %w", m.summary(), err)
					}
					n, err := st.CleanupSecrets(ctx, defaultCleanupGrace, 1<<30, cleanupDeleter(c.env, kr, target))
					if err != nil {
						c.log.Warn("secrets migrate: cleaning up the old copies failed; serve's cleanup worker retries", "error", err.Error())
					}
					fmt.Fprintf(c.stdout, "secrets migrate: done: %s; %d old copies deleted\n", m.summary(), n)
					return nil
				})
			}
		},
	}
}

// migration moves stored secrets to target.
type migration struct {
	st                             *store.Store
	target, builtin, infisical     secrets.Store
	infisicalErr                   error
	out                            *cli
	checked, moved, skipped, raced int
}

func (m *migration) summary() string {
	return fmt.Sprintf("%d records checked, %d moved to %s, %d already there, %d changed meanwhile (left as written)",
		m.checked, m.moved, m.target.Backend(), m.skipped, m.raced)
}

func (m *migration) run(ctx context.Context) error {
	return m.st.EachStoredSecret(ctx, func(s store.StoredSecret) error {
		if err := m.move(ctx, s); err != nil {
			return fmt.Errorf("%s %s of %s: %w", s.Table, s.What, s.ID, err)
		}
		m.checked++
		if m.checked%migrateProgressInterval == 0 {
			fmt.Fprintf(m.out.stdout, "secrets migrate: %s\n", m.summary())
		}
		return nil
	})
}

// move moves one secret: read it where it is, Put it on the target (its
// cleanup queued first, when the target is outside the row), then point the
// row at it, adopting the entry and queueing the old copy, in one
// transaction.
func (m *migration) move(ctx context.Context, s store.StoredSecret) error {
	old := secrets.Ref{KeyID: s.Ref.KeyID, Data: s.Ref.Data, Fingerprint: s.Fingerprint}
	if m.target.Owns(old) {
		m.skipped++
		return nil
	}
	source := m.builtin
	if !m.builtin.Owns(old) {
		if m.infisical == nil || !m.infisical.Owns(old) {
			if secrets.External(old.KeyID) {
				return fmt.Errorf("the secret is in Infisical, which is not configured: %w", m.infisicalErr)
			}
			return fmt.Errorf("%w: the secret was encrypted with a key this command does not have; set %s to it", secrets.ErrUnknownKey, envSecretKeyPrevious)
		}
		source = m.infisical
	}
	value, err := source.Get(ctx, old, s.AAD)
	if err != nil {
		return err
	}
	defer clear(value)
	name, err := secrets.NewName()
	if err != nil {
		return err
	}
	writes := &store.SecretWrites{External: secrets.External}
	if loc := m.target.Locate(name); secrets.External(loc.KeyID) {
		id, err := m.st.PendSecret(ctx, store.SecretRef{KeyID: loc.KeyID, Data: loc.Data})
		if err != nil {
			return err
		}
		writes.Adopted = []int64{id}
	}
	ref, err := m.target.Put(ctx, name, value, s.AAD)
	if err != nil {
		_ = m.st.ReleaseSecrets(context.WithoutCancel(ctx), writes.Adopted)
		return err
	}
	secrets.CrashPoint(secrets.CrashMigrateAfterPut)
	replaced, err := m.st.ReplaceStoredSecret(store.WithSecretWrites(ctx, writes), s, store.SecretRef{KeyID: ref.KeyID, Data: ref.Data}, ref.Fingerprint)
	if err != nil || !replaced {
		_ = m.st.ReleaseSecrets(context.WithoutCancel(ctx), writes.Adopted)
	}
	if err != nil {
		return err
	}
	if replaced {
		m.moved++
	} else {
		m.raced++
	}
	return nil
}
