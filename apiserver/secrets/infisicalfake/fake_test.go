package infisicalfake_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets/infisicalfake"
)

// The fake answers as Infisical documents it; these tests pin the shapes the
// secrets package relies on, with raw HTTP and no client of ours.

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type raw struct {
	t     *testing.T
	f     *infisicalfake.Fake
	token string
}

func (r *raw) call(method, path string, query url.Values, body any) (int, map[string]any) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u := r.f.URL + path
	if query != nil {
		u += "?" + query.Encode()
	}
	req, _ := http.NewRequestWithContext(r.t.Context(), method, u, rd)
	req.Header.Set("Content-Type", "application/json")
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (r *raw) login(secret string) (int, map[string]any) {
	return r.call("POST", "/api/v1/auth/universal-auth/login", nil, map[string]string{"clientId": infisicalfake.DefaultClientID, "clientSecret": secret})
}

func (r *raw) mustLogin() {
	r.t.Helper()
	status, out := r.login(infisicalfake.DefaultClientSecret)
	if status != 200 || out["tokenType"] != "Bearer" || out["expiresIn"] == nil || out["accessTokenMaxTTL"] == nil {
		r.t.Fatalf("login = %d %v", status, out)
	}
	r.token, _ = out["accessToken"].(string)
}

func wantError(t *testing.T, status int, out map[string]any, wantStatus int, wantName, wantMessage string) {
	t.Helper()
	msg, _ := json.Marshal(out["message"])
	if status != wantStatus || out["error"] != wantName || !strings.Contains(string(msg), wantMessage) ||
		out["statusCode"] != float64(wantStatus) || out["reqId"] == nil {
		t.Fatalf("answer %d %v; want %d {statusCode, error %q, message ~%q, reqId}", status, out, wantStatus, wantName, wantMessage)
	}
}

func secretBody(value string) map[string]any {
	return map[string]any{"projectId": infisicalfake.DefaultProjectID, "environment": "dev", "secretPath": "/", "secretValue": value}
}

func TestFakeTrimsAndExpands(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	r := &raw{t: t, f: f}
	r.mustLogin()
	if status, out := r.call("POST", "/api/v4/secrets/OTHER", nil, secretBody("world")); status != 200 || out["secret"] == nil {
		t.Fatalf("create = %d %v", status, out)
	}
	r.call("POST", "/api/v4/secrets/GREETING", nil, secretBody("  hello ${OTHER}  \n"))
	r.call("POST", "/api/v4/secrets/PLAIN", nil, secretBody("\t spaced \t"))
	q := url.Values{"projectId": {infisicalfake.DefaultProjectID}, "environment": {"dev"}, "secretPath": {"/"}}
	value := func(name string, expand bool) string {
		q.Set("expandSecretReferences", map[bool]string{true: "true", false: "false"}[expand])
		status, out := r.call("GET", "/api/v4/secrets/"+name, q, nil)
		s, _ := out["secret"].(map[string]any)
		if status != 200 || s == nil {
			t.Fatalf("GET %s = %d %v", name, status, out)
		}
		v, _ := s["secretValue"].(string)
		return v
	}
	if got := value("GREETING", true); got != "hello world\n" {
		t.Fatalf("expanded, trimmed value = %q, want %q", got, "hello world\n")
	}
	if got := value("GREETING", false); got != "hello ${OTHER}\n" {
		t.Fatalf("unexpanded value = %q", got)
	}
	if got := value("PLAIN", false); got != "spaced" {
		t.Fatalf("trimmed value = %q, want %q", got, "spaced")
	}
	status, out := r.call("POST", "/api/v4/secrets/PLAIN", nil, secretBody("again"))
	wantError(t, status, out, 400, "BadRequestError", "already exist")
	status, out = r.call("GET", "/api/v4/secrets/MISSING", q, nil)
	wantError(t, status, out, 404, "NotFoundError", "Secret with name 'MISSING' not found")
	status, out = r.call("DELETE", "/api/v4/secrets/PLAIN", nil, map[string]any{"projectId": infisicalfake.DefaultProjectID, "environment": "dev", "secretPath": "/"})
	if status != 200 || out["secret"] == nil {
		t.Fatalf("DELETE = %d %v", status, out)
	}
	b := secretBody("x")
	b["secretPath"] = "/no/such"
	status, out = r.call("POST", "/api/v4/secrets/X", nil, b)
	wantError(t, status, out, 404, "NotFoundError", "Folder with path '/no/such'")
}

func TestFakeLockoutAfterThreeFailedLogins(t *testing.T) {
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	f := infisicalfake.New(t, infisicalfake.Options{Now: c.Now})
	r := &raw{t: t, f: f}
	for range 3 {
		status, out := r.login("wrong")
		wantError(t, status, out, 401, "UnauthorizedError", "Invalid credentials")
	}
	status, out := r.login(infisicalfake.DefaultClientSecret)
	wantError(t, status, out, 401, "UnauthorizedError", "temporarily locked")
	c.advance(5 * time.Minute)
	r.mustLogin()

	// Failures spread wider than the counter reset window do not add up.
	for range 4 {
		r.login("wrong")
		c.advance(31 * time.Second)
	}
	if f.Locked() {
		t.Fatal("spaced-out failures locked the identity")
	}
	if f.Logins() != 9 || f.FailedLogins() != 8 {
		t.Fatalf("logins %d, failed %d; want 9 and 8", f.Logins(), f.FailedLogins())
	}
}

func TestFakeTokens(t *testing.T) {
	c := &clock{now: time.Unix(1_700_000_000, 0)}
	f := infisicalfake.New(t, infisicalfake.Options{Now: c.Now, TokenTTL: time.Minute, TokenMaxTTL: 2 * time.Minute})
	r := &raw{t: t, f: f}
	folders := url.Values{"projectId": {infisicalfake.DefaultProjectID}, "environment": {"dev"}, "path": {"/"}}
	status, out := r.call("GET", "/api/v2/folders", folders, nil)
	wantError(t, status, out, 401, "UnauthorizedError", "missing token")
	r.mustLogin()
	if status, _ := r.call("GET", "/api/v2/folders", folders, nil); status != 200 {
		t.Fatalf("folders with a token = %d", status)
	}
	c.advance(50 * time.Second)
	status, out = r.call("POST", "/api/v1/auth/token/renew", nil, map[string]string{"accessToken": r.token})
	if status != 200 || out["expiresIn"] != float64(60) {
		t.Fatalf("renew = %d %v", status, out)
	}
	c.advance(55 * time.Second) // 105s: alive thanks to the renewal
	if status, _ := r.call("GET", "/api/v2/folders", folders, nil); status != 200 {
		t.Fatalf("renewed token refused: %d", status)
	}
	status, out = r.call("POST", "/api/v1/auth/token/renew", nil, map[string]string{"accessToken": r.token})
	if status != 200 || out["expiresIn"] != float64(15) {
		t.Fatalf("renew near the max TTL = %d %v; want expiresIn cut to 15", status, out)
	}
	c.advance(16 * time.Second)
	status, out = r.call("GET", "/api/v2/folders", folders, nil)
	wantError(t, status, out, 403, "TokenError", "Your token has expired")
}

func TestFakeApprovalsAndFolders(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	r := &raw{t: t, f: f}
	r.mustLogin()
	fb := map[string]any{"projectId": infisicalfake.DefaultProjectID, "environment": "dev", "name": "bad name", "path": "/"}
	status, out := r.call("POST", "/api/v2/folders", nil, fb)
	wantError(t, status, out, 422, "ValidationFailure", "Invalid folder name")
	fb["name"] = "ok"
	if status, out := r.call("POST", "/api/v2/folders", nil, fb); status != 200 || out["folder"] == nil {
		t.Fatalf("create folder = %d %v", status, out)
	}
	status, out = r.call("POST", "/api/v2/folders", nil, fb)
	wantError(t, status, out, 400, "BadRequestError", "already exists")

	f.SetApprovalRequired(true)
	status, out = r.call("POST", "/api/v4/secrets/HELD", nil, secretBody("v"))
	a, _ := out["approval"].(map[string]any)
	if status != 200 || a == nil || a["id"] == nil || out["secret"] != nil {
		t.Fatalf("write under a policy = %d %v; want 200 {approval}", status, out)
	}
	if len(f.Secrets()) != 0 {
		t.Fatal("a write held for approval was stored")
	}
}

func TestFakeKnobs(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	r := &raw{t: t, f: f}
	f.FailNext(1, 503)
	status, out := r.login(infisicalfake.DefaultClientSecret)
	wantError(t, status, out, 503, "InternalServerError", "Something went wrong")
	f.SetDown(true)
	if _, err := http.Post(f.URL+"/api/v1/auth/universal-auth/login", "application/json", strings.NewReader("{}")); err == nil {
		t.Fatal("a down fake answered")
	}
	f.SetDown(false)
	r.mustLogin()
}
