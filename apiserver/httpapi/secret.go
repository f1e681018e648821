package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// vault is the one place a request's secrets go through the secret store
// (SPEC §11): a changed secret is Put under a fresh name, its cleanup
// queued as pending before the Put, and the write that points the row at
// it adopts the entry in the row's own transaction; the row's old secret
// is queued for cleanup there too (store.SecretWrites). Each request that
// writes secrets has its own vault.
type vault struct {
	secrets secrets.Store
	store   *store.Store
	log     *slog.Logger
	// ctx is the request's, for the calls made from inside a store update.
	ctx    context.Context
	writes store.SecretWrites
	// reserved are names queued as pending before a store update began
	// (reserve), for the Puts made while it holds the row lock.
	reserved []reservation
}

// reservation is a secret name whose cleanup is queued as pending.
type reservation struct {
	name string
	id   int64
}

// maxPutsPerWrite is how many secrets one write may Put: the bearer token
// and the upstream auth secrets.
const maxPutsPerWrite = 2

// reserve queues the cleanup of the names the next writes will Put before
// a store update takes its row lock and a connection of the pool: queueing
// one from inside the update would need a second connection while holding
// the first, and a burst of such updates would wait on each other forever.
// It does nothing when the backend keeps secrets in the row or carries is
// false (the request holds no secret).
func (v *vault) reserve(carries bool) error {
	if !carries {
		return nil
	}
	for range maxPutsPerWrite {
		name, err := secrets.NewName()
		if err != nil {
			return err
		}
		loc := v.secrets.Locate(name)
		if !secrets.External(loc.KeyID) {
			return nil
		}
		id, err := v.store.PendSecret(v.ctx, store.SecretRef{KeyID: loc.KeyID, Data: loc.Data})
		if err != nil {
			return err
		}
		v.reserved = append(v.reserved, reservation{name: name, id: id})
	}
	secrets.CrashPoint(secrets.CrashAfterPend)
	return nil
}

// newVault returns a vault for one request.
func newVault(ctx context.Context, st secrets.Store, db *store.Store, log *slog.Logger) *vault {
	return &vault{secrets: st, store: db, log: log, ctx: ctx, writes: store.SecretWrites{External: secrets.External}}
}

// bind returns ctx carrying the vault's writes for the store's next write.
func (v *vault) bind(ctx context.Context) context.Context {
	return store.WithSecretWrites(ctx, &v.writes)
}

// done ends the request's writes: when the write failed (err), the secrets
// it Put are left to the cleanup worker at once. It returns err, with a
// secret lost to cleanup turned into a 503 that asks for a retry.
func (v *vault) done(err error) error {
	if len(v.reserved) > 0 {
		// Nothing was Put under the names left: their entries just go.
		ids := make([]int64, len(v.reserved))
		for i, r := range v.reserved {
			ids[i] = r.id
		}
		v.reserved = nil
		if derr := v.store.DropPendingSecrets(context.WithoutCancel(v.ctx), ids); derr != nil {
			v.log.Warn("cannot drop unused secret reservations; the cleanup worker takes them after its grace", "error", derr.Error())
		}
	}
	if err == nil {
		return nil
	}
	if len(v.writes.Adopted) > 0 {
		if rerr := v.store.ReleaseSecrets(context.WithoutCancel(v.ctx), v.writes.Adopted); rerr != nil {
			v.log.Warn("cannot release the secrets of a failed write; the cleanup worker takes them after its grace", "error", rerr.Error())
		}
	}
	if errors.Is(err, store.ErrSecretLost) {
		return &apiError{status: http.StatusServiceUnavailable, retryAfter: 1,
			msg: "the write took too long and the secret store's copy of its new secret was cleaned up meanwhile; nothing was changed: send the request again"}
	}
	return err
}

// put stores value (the record's what, bound to it by aad) as a new
// secret and returns its Ref.
func (v *vault) put(what string, value, aad []byte) (secrets.Ref, error) {
	if len(v.reserved) > 0 {
		r := v.reserved[0]
		v.reserved = v.reserved[1:]
		v.writes.Adopted = append(v.writes.Adopted, r.id)
		return v.putAs(r.name, what, value, aad)
	}
	name, err := secrets.NewName()
	if err != nil {
		return secrets.Ref{}, err
	}
	if loc := v.secrets.Locate(name); secrets.External(loc.KeyID) {
		id, err := v.store.PendSecret(v.ctx, store.SecretRef{KeyID: loc.KeyID, Data: loc.Data})
		if err != nil {
			return secrets.Ref{}, err
		}
		v.writes.Adopted = append(v.writes.Adopted, id)
		secrets.CrashPoint(secrets.CrashAfterPend)
	}
	return v.putAs(name, what, value, aad)
}

// putAs Puts value under name, whose cleanup is queued.
func (v *vault) putAs(name, what string, value, aad []byte) (secrets.Ref, error) {
	ref, err := v.secrets.Put(v.ctx, name, value, aad)
	if err != nil {
		return secrets.Ref{}, v.failure("store the "+what, err)
	}
	secrets.CrashPoint(secrets.CrashAfterPut)
	return ref, nil
}

// get opens what ref points at.
func (v *vault) get(what string, ref secrets.Ref, aad []byte) ([]byte, error) {
	value, err := v.secrets.Get(v.ctx, ref, aad)
	if _, temporary := secrets.RetryAfter(err); temporary {
		return nil, v.failure("read the stored "+what, err)
	}
	return value, err
}

// unchanged reports whether value is the secret ref already holds, so a
// client that resends an unchanged secret (as declarative tools do) does
// not reset the record's state or touch the backend.
func (v *vault) unchanged(ref secrets.Ref, value, aad []byte) bool {
	return !ref.IsZero() && v.secrets.Unchanged(ref, value, aad)
}

// failure is the answer to a secret store call that failed: 503 with
// Retry-After when waiting helps, 503 naming the operator's part when the
// backend refused; the details (paths, project ids) go to the log only.
func (v *vault) failure(op string, err error) error {
	backend := v.secrets.Backend()
	if after, temporary := secrets.RetryAfter(err); temporary {
		v.log.Warn("secret store unavailable", "backend", backend, "op", op, "error", err.Error())
		return &apiError{status: http.StatusServiceUnavailable, retryAfter: int(math.Ceil(after.Seconds())),
			msg: fmt.Sprintf("the secret store (%s) is unavailable, so the API cannot %s now; nothing was changed: retry later", backend, op)}
	}
	if errors.Is(err, secrets.ErrRefused) {
		v.log.Error("secret store refused a request", "backend", backend, "op", op, "error", err.Error())
		return &apiError{status: http.StatusServiceUnavailable, retryAfter: refusedRetryAfter,
			msg: fmt.Sprintf("the secret store (%s) refused to let the API %s; nothing was changed: the operator must fix the secret store's configuration (the API server's log says what)", backend, op)}
	}
	return fmt.Errorf("%s in the secret store (%s): %w", op, backend, err)
}

// carriesSecrets reports whether a PATCH may Put a secret: it sends one,
// or changes what the stored secrets hold (an auth type change drops the
// OAuth 2.0 client secret, a tls or headers change rewrites the rest).
func carriesSecrets(req contract.UpstreamAuthRequest, token *string, authType *contract.AuthType) bool {
	return token != nil || authType != nil || req.Headers != nil || req.OAuth2 != nil || req.TLS != nil
}

// refusedRetryAfter is the Retry-After of a write the secret store refused:
// waiting does not fix its configuration, but a 503 always says when to
// come back.
const refusedRetryAfter = 60

// withExternal returns ctx saying which secrets live outside their rows,
// so deleting a record queues their cleanup.
func withExternal(ctx context.Context) context.Context {
	return store.WithSecretWrites(ctx, &store.SecretWrites{External: secrets.External})
}

// refOf is the Ref the sealed columns of a record keep.
func refOf(data []byte, keyID *string, fingerprint []byte) secrets.Ref {
	if keyID == nil {
		return secrets.Ref{}
	}
	return secrets.Ref{KeyID: *keyID, Data: data, Fingerprint: fingerprint}
}

// secretField is a write-only secret of a record, such as a bearer token:
// the API accepts it, keeps its Ref in three of the record's fields, and
// never returns it. Each kind builds one per secret it holds.
type secretField struct {
	vault *vault
	what  string // "bearer token", for errors
	// ciphertext, keyID and fingerprint point into the record.
	ciphertext  *[]byte
	keyID       **string
	fingerprint *[]byte
	// aad binds the secret to its record, so it cannot be moved to another.
	aad []byte
}

// set stores value as the record's secret.
func (s secretField) set(value string) error {
	ref, err := s.vault.put(s.what, []byte(value), s.aad)
	if err != nil {
		return err
	}
	*s.ciphertext, *s.keyID, *s.fingerprint = ref.Data, &ref.KeyID, ref.Fingerprint
	return nil
}

// clear removes the secret from the record.
func (s secretField) clear() {
	*s.ciphertext, *s.keyID, *s.fingerprint = nil, nil, nil
}

// is reports whether value is the secret already stored.
func (s secretField) is(value string) bool {
	return s.vault.unchanged(refOf(*s.ciphertext, *s.keyID, *s.fingerprint), []byte(value), s.aad)
}

// secretEqual compares two secrets in constant time, so how long a
// comparison takes says nothing of where they differ.
func secretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
