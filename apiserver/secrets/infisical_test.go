package secrets_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets/infisicalfake"
)

const (
	routeSecret  = "/api/v4/secrets/{name}"
	routeLogin   = "POST /api/v1/auth/universal-auth/login"
	routeFolders = "/api/v2/folders"
)

func put(t *testing.T, s secrets.Store, value, aad string) (secrets.Ref, error) {
	t.Helper()
	n, err := secrets.NewName()
	if err != nil {
		t.Fatal(err)
	}
	return s.Put(t.Context(), n, []byte(value), []byte(aad))
}

func mustPut(t *testing.T, s secrets.Store, value, aad string) secrets.Ref {
	t.Helper()
	ref, err := put(t, s, value, aad)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	return ref
}

func wantErr(t *testing.T, err error, target error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %v", target)
	}
	if target != nil && !errors.Is(err, target) {
		t.Fatalf("error %q is not %v", err, target)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not say %q", err, p)
		}
	}
}

func TestInfisicalStoresValuesOutOfInfisicalsReach(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	s := newInfisical(t, fakeConfig(f, "/mcp-api/tokens"))
	value := "  ${HOME} and ${OTHER}\n"
	ref := mustPut(t, s, value, "mcp_connections:1")
	got := f.Secrets()
	if len(got) != 1 {
		t.Fatalf("fake holds %d secrets, want 1", len(got))
	}
	stored := got[0]
	if stored.Path != "/mcp-api/tokens" || stored.Comment != "mcp_connections:1" {
		t.Fatalf("stored %+v, want path /mcp-api/tokens and the aad as comment", stored)
	}
	if stored.Value != base64.RawURLEncoding.EncodeToString([]byte(value)) {
		t.Fatalf("stored value %q is not the base64url of the secret", stored.Value)
	}
	if !slices.Equal(f.Folders("dev"), []string{"/", "/mcp-api", "/mcp-api/tokens"}) {
		t.Fatalf("folders = %v, want /mcp-api/tokens created", f.Folders("dev"))
	}
	if v, err := s.Get(t.Context(), ref, []byte("mcp_connections:1")); err != nil || string(v) != value {
		t.Fatalf("Get = %q, %v", v, err)
	}
	// Folders are made once per process, not per write.
	mustPut(t, s, "second", "mcp_connections:2")
	if n := f.Calls("POST " + routeFolders); n != 2 {
		t.Fatalf("folders created %d times, want 2 (one per level, once)", n)
	}
	if strings.Contains(string(ref.Data), value) || strings.Contains(string(ref.Data), stored.Value) {
		t.Fatalf("ref data %q carries the value", ref.Data)
	}
}

func TestInfisicalValueChangedOutsideTheAPI(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	s := newInfisical(t, fakeConfig(f, "/"))
	ref := mustPut(t, s, "tok", "a")
	name := f.Secrets()[0].Name
	f.SetSecret("dev", "/", name, "not base64 at all!", "a")
	_, err := s.Get(t.Context(), ref, []byte("a"))
	wantErr(t, err, secrets.ErrDecrypt, "changed outside the API", name)
	f.SetSecret("dev", "/", name, base64.RawURLEncoding.EncodeToString([]byte("tok")), "b")
	_, err = s.Get(t.Context(), ref, []byte("a"))
	wantErr(t, err, secrets.ErrDecrypt, "belongs to another record")
}

func TestInfisicalPutOfAnotherValueUnderAUsedName(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	s := newInfisical(t, fakeConfig(f, "/"))
	if _, err := s.Put(t.Context(), "MCP_SAME", []byte("one"), []byte("a")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Put(t.Context(), "MCP_SAME", []byte("two"), []byte("a"))
	wantErr(t, err, secrets.ErrRefused, "already holds a different secret MCP_SAME", "NewName")
}

// A wrong client secret costs one login attempt per backoff period, however
// many calls come in, and never enough to lock the identity.
func TestInfisicalNoLoginRetryLoop(t *testing.T) {
	c := newClock()
	f := infisicalfake.New(t, infisicalfake.Options{Now: c.Now})
	cfg := fakeConfig(f, "/")
	cfg.ClientSecret = "wrong-client-secret"
	s := newInfisical(t, cfg)

	_, err := put(t, s, "tok", "a")
	wantErr(t, err, secrets.ErrUnavailable, "Infisical answered 401 to POST /api/v1/auth/universal-auth/login", "Invalid credentials",
		"check INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET")
	if strings.Contains(err.Error(), "wrong-client-secret") {
		t.Fatalf("error %q shows the client secret", err)
	}
	if d, ok := secrets.RetryAfter(err); !ok || d != 30*time.Second {
		t.Fatalf("RetryAfter = %v, %v; want the 30s login backoff", d, ok)
	}

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := put(t, s, "tok", "a")
			if !errors.Is(err, secrets.ErrUnavailable) || !strings.Contains(err.Error(), "not logging in to Infisical again") {
				t.Errorf("call during the backoff: %v", err)
			}
		})
	}
	wg.Wait()
	if err := s.Check(t.Context()); err == nil {
		t.Fatal("Check passed with a wrong client secret")
	}
	if n := f.Logins(); n != 1 {
		t.Fatalf("%d login attempts, want 1: a failed login must not be retried within the backoff", n)
	}

	// Each failure doubles the wait; following it never locks the identity.
	wait := 30 * time.Second
	for i := 2; i <= 6; i++ {
		c.advance(wait)
		_, err := put(t, s, "tok", "a")
		d, _ := secrets.RetryAfter(err)
		if f.Logins() != i {
			t.Fatalf("after waiting %v: %d logins, want %d", wait, f.Logins(), i)
		}
		wait = min(wait*2, 10*time.Minute)
		if d != wait {
			t.Fatalf("failure %d: RetryAfter %v, want %v", i, d, wait)
		}
		if f.Locked() {
			t.Fatalf("the identity got locked after %d spaced-out failed logins", i)
		}
	}
}

func TestInfisicalLockedIdentity(t *testing.T) {
	c := newClock()
	f := infisicalfake.New(t, infisicalfake.Options{Now: c.Now})
	// Three failed logins from elsewhere (a person trying the secret).
	for range 3 {
		resp, err := http.Post(f.URL+"/api/v1/auth/universal-auth/login", "application/json",
			strings.NewReader(`{"clientId":"`+infisicalfake.DefaultClientID+`","clientSecret":"guess"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if !f.Locked() {
		t.Fatal("the fake did not lock the identity after 3 failed logins")
	}
	s := newInfisical(t, fakeConfig(f, "/"))
	_, err := put(t, s, "tok", "a")
	wantErr(t, err, secrets.ErrUnavailable, "temporarily locked", "wait for the lockout to end")
	if d, _ := secrets.RetryAfter(err); d < 5*time.Minute {
		t.Fatalf("RetryAfter %v, want at least the 5 minute lockout", d)
	}
	c.advance(5 * time.Minute)
	if _, err := put(t, s, "tok", "a"); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	if n := f.Logins(); n != 5 {
		t.Fatalf("%d logins, want 5 (3 outside, 1 locked, 1 after)", n)
	}
}

func TestInfisicalTokenRenewal(t *testing.T) {
	c := newClock()
	f := infisicalfake.New(t, infisicalfake.Options{Now: c.Now, TokenTTL: 90 * time.Second, TokenMaxTTL: 300 * time.Second})
	s := newInfisical(t, fakeConfig(f, "/"))
	ref := mustPut(t, s, "tok", "a")
	get := func() {
		t.Helper()
		if v, err := s.Get(t.Context(), ref, []byte("a")); err != nil || string(v) != "tok" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	c.advance(59 * time.Second)
	get()
	if f.Renewals() != 0 || f.Logins() != 1 {
		t.Fatalf("before two thirds of the token's life: %d renewals, %d logins; want 0 and 1", f.Renewals(), f.Logins())
	}
	c.advance(2 * time.Second) // 61s: past two thirds of 90s
	get()
	if f.Renewals() != 1 || f.Logins() != 1 || s.Renewals() != 1 {
		t.Fatalf("after two thirds: %d renewals, %d logins; want 1 and 1", f.Renewals(), f.Logins())
	}
	for range 4 {
		c.advance(61 * time.Second)
		get()
	}
	// 305s: past the max TTL, renewal cannot help; one fresh login.
	if f.Logins() != 2 {
		t.Fatalf("past the max TTL: %d logins, want 2", f.Logins())
	}

	// Infisical ends a token early (expired or revoked): the next call logs
	// in once and goes on.
	f.ExpireTokens()
	get()
	f.RevokeTokens()
	get()
	if f.Logins() != 4 {
		t.Fatalf("after two refused tokens: %d logins, want 4", f.Logins())
	}
}

func TestInfisicalApprovalIsAFailure(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	s := newInfisical(t, fakeConfig(f, "/"))
	kept := mustPut(t, s, "tok", "a")
	f.SetApprovalRequired(true)
	_, err := put(t, s, "tok2", "a")
	wantErr(t, err, secrets.ErrRefused, "holds the creation of secret", "for approval", "INFISICAL_SECRET_PATH")
	err = s.Delete(t.Context(), kept)
	wantErr(t, err, secrets.ErrRefused, "holds the deletion")
	if n := len(f.Secrets()); n != 1 {
		t.Fatalf("fake holds %d secrets, want the 1 written before the policy", n)
	}
}

func TestInfisicalPermissionDenied(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	s := newInfisical(t, fakeConfig(f, "/mcp"))
	f.SetPermissionDenied(true)
	_, err := put(t, s, "tok", "a")
	wantErr(t, err, secrets.ErrRefused, "Infisical answered 403", "You are not allowed to read on secretFolders",
		"give the machine identity a role in project "+infisicalfake.DefaultProjectID, "environment dev under /mcp")
	if f.Logins() != 1 {
		t.Fatalf("%d logins, want 1: a permission error is not a token error", f.Logins())
	}
}

func TestInfisicalHiddenValues(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	s := newInfisical(t, fakeConfig(f, "/"))
	ref := mustPut(t, s, "tok", "a")
	f.SetValuesHidden(true)
	_, err := s.Get(t.Context(), ref, []byte("a"))
	wantErr(t, err, secrets.ErrRefused, "hides the value", "permission to read secret values")
}

func TestInfisicalWrongProjectOrEnvironment(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	cfg := fakeConfig(f, "/x")
	cfg.ProjectID = "nope"
	_, err := put(t, newInfisical(t, cfg), "tok", "a")
	wantErr(t, err, secrets.ErrRefused, "Infisical answered 404", "Project with ID 'nope' not found", "check INFISICAL_PROJECT_ID (nope)")
	cfg = fakeConfig(f, "/")
	cfg.Environment = "staging"
	err = newInfisical(t, cfg).Check(t.Context())
	wantErr(t, err, secrets.ErrRefused, "Environment with slug 'staging'", "INFISICAL_ENVIRONMENT (staging)")
}

func TestInfisicalDown(t *testing.T) {
	c := newClock()
	f := infisicalfake.New(t, infisicalfake.Options{Now: c.Now})
	s := newInfisical(t, fakeConfig(f, "/"))
	ref := mustPut(t, s, "tok", "a")
	f.SetDown(true)
	_, err := s.Get(t.Context(), ref, []byte("a"))
	wantErr(t, err, secrets.ErrUnavailable, "cannot reach Infisical at "+f.URL, "check INFISICAL_URL")
	if d, ok := secrets.RetryAfter(err); !ok || d <= 0 {
		t.Fatalf("RetryAfter = %v, %v", d, ok)
	}
	wantErr(t, s.Check(t.Context()), secrets.ErrUnavailable)

	// A login that cannot reach Infisical judged no credentials: once it
	// is back, a second later, the next call logs in.
	f.ExpireTokens()
	c.advance(time.Hour)
	_, err = put(t, s, "tok", "a")
	wantErr(t, err, secrets.ErrUnavailable, "cannot reach Infisical")
	f.SetDown(false)
	c.advance(time.Second)
	mustPut(t, s, "tok", "a")
}

func TestInfisicalRetriesOnlyWhatIsSafe(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	s := newInfisical(t, fakeConfig(f, "/"))
	ref := mustPut(t, s, "tok", "a")

	before := f.Calls("GET " + routeSecret)
	f.FailNext(2, http.StatusServiceUnavailable)
	if _, err := s.Get(t.Context(), ref, []byte("a")); err != nil {
		t.Fatalf("Get after two 503s: %v", err)
	}
	if n := f.Calls("GET "+routeSecret) - before; n != 3 {
		t.Fatalf("GET sent %d times, want 3 (two 503s, then the answer)", n)
	}
	f.FailNext(3, http.StatusInternalServerError)
	_, err := s.Get(t.Context(), ref, []byte("a"))
	wantErr(t, err, secrets.ErrUnavailable, "Infisical answered 500 to GET /api/v4/secrets/{name}", "Something went wrong", "request id req-")

	// A write is sent once: a 429 goes back to the caller with its wait.
	posts := f.Calls("POST " + routeSecret)
	f.FailNext(1, http.StatusTooManyRequests)
	_, err = put(t, s, "tok", "a")
	if n := f.Calls("POST "+routeSecret) - posts; n != 1 {
		t.Fatalf("POST sent %d times, want 1: a write is never retried", n)
	}
	wantErr(t, err, secrets.ErrUnavailable, "Infisical answered 429 to POST /api/v4/secrets/{name}")
	if d, _ := secrets.RetryAfter(err); d != time.Second {
		t.Fatalf("RetryAfter = %v, want Infisical's Retry-After of 1s", d)
	}
	f.FailNext(1, http.StatusBadGateway)
	_, err = put(t, s, "tok", "a")
	wantErr(t, err, secrets.ErrUnavailable, "502")
	if n := f.Logins(); n != 1 {
		t.Fatalf("%d logins, want 1: 5xx answers must not cause logins", n)
	}

	// A DELETE is retried like a GET.
	f.FailNext(2, http.StatusServiceUnavailable)
	if err := s.Delete(t.Context(), ref); err != nil {
		t.Fatalf("Delete after two 503s: %v", err)
	}
}

func TestInfisicalSlow(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	cfg := fakeConfig(f, "/")
	cfg.RequestTimeout = 20 * time.Millisecond
	s := newInfisical(t, cfg)
	f.SetDelay(time.Minute)
	_, err := put(t, s, "tok", "a")
	wantErr(t, err, secrets.ErrUnavailable, "no answer within 20ms")

	// The caller's own deadline ends the call too, as the caller's error.
	f.SetDelay(time.Minute)
	cfg.RequestTimeout = time.Minute
	s = newInfisical(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err = s.Put(ctx, "MCP_SLOW", []byte("tok"), []byte("a"))
	wantErr(t, err, context.DeadlineExceeded)
	f.SetDelay(0)
	if _, err := s.Put(t.Context(), "MCP_SLOW", []byte("tok"), []byte("a")); err != nil {
		t.Fatalf("a caller's timeout must not start a login backoff: %v", err)
	}
}

func TestInfisicalRefusesRedirects(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the client followed a redirect to %s", r.URL)
	}))
	t.Cleanup(target.Close)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	s := newInfisical(t, secrets.InfisicalConfig{URL: redirector.URL, ClientID: "id", ClientSecret: "s", ProjectID: "p", Environment: "dev"})
	err := s.Check(t.Context())
	wantErr(t, err, nil, "redirected to "+target.URL, "set INFISICAL_URL")
}

func TestInfisicalNotInfisical(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>hello</html>"))
	}))
	t.Cleanup(srv.Close)
	s := newInfisical(t, secrets.InfisicalConfig{URL: srv.URL, ClientID: "id", ClientSecret: "s", ProjectID: "p", Environment: "dev"})
	wantErr(t, s.Check(t.Context()), nil, "is not the JSON expected", "INFISICAL_URL points at Infisical itself")
}

func TestInfisicalRefOfAnotherBackend(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	s := newInfisical(t, fakeConfig(f, "/"))
	sealed := mustPut(t, secrets.NewBuiltin(newKeyring(t)), "tok", "a")
	_, err := s.Get(t.Context(), sealed, []byte("a"))
	wantErr(t, err, secrets.ErrUnknownKey, "not in Infisical", "secrets migrate --to infisical")
	_, err = s.Get(t.Context(), secrets.Ref{KeyID: secrets.InfisicalKeyID, Data: []byte("garbage")}, nil)
	wantErr(t, err, secrets.ErrDecrypt, "malformed")
	if f.Logins() != 0 {
		t.Fatal("a ref that cannot be in Infisical caused a login")
	}
}
