// Package infisicalfake is an in-test Infisical: the Universal Auth, token
// renewal, v2 folders and v4 secrets routes the API uses, answering with the
// status codes and bodies Infisical documents (errors as {reqId, statusCode,
// message, error}, approvals as {approval}), with Infisical's habits the API
// must survive (${...} expansion on read, trimmed values, a lockout after
// three failed logins, expiring tokens), and with knobs that make it fail
// (down, slow, 5xx) for crash and degraded-mode tests.
//
// Infisical's server cannot run on these machines; the contract tests run
// against this fake and, when INFISICAL_URL is set, against a real one.
package infisicalfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults of Options, as Infisical's own for a new Universal Auth identity
// (lockout) and short enough for tests (token lifetimes).
const (
	DefaultClientID     = "fake-client-id"
	DefaultClientSecret = "fake-client-secret"
	DefaultProjectID    = "fake-project"
	DefaultEnvironment  = "dev"
)

// Options configure a Fake; zero values take the defaults.
type Options struct {
	// ClientID and ClientSecret are the one machine identity's credentials.
	ClientID, ClientSecret string
	// ProjectID and Environments are the project and its environment slugs.
	ProjectID    string
	Environments []string
	// TokenTTL and TokenMaxTTL are accessToken lifetimes: expiresIn and
	// accessTokenMaxTTL (defaults 10 minutes and 1 hour).
	TokenTTL, TokenMaxTTL time.Duration
	// LockoutThreshold failed logins within LockoutCounterReset lock the
	// identity for LockoutDuration (defaults 3, 30s, 5 minutes: Infisical's).
	LockoutThreshold    int
	LockoutCounterReset time.Duration
	LockoutDuration     time.Duration
	// Now is the fake's clock (default time.Now); share it with the client
	// to test expiry without sleeping.
	Now func() time.Time
}

// Secret is one stored secret, as a test sees it.
type Secret struct {
	Environment, Path, Name string
	// Value is what Infisical stores: the value after its trimming.
	Value   string
	Comment string
	Version int
}

type secretKey struct{ env, path, name string }

type token struct {
	expires, maxAt time.Time
	revoked        bool
}

// Fake is a running fake Infisical. Its methods are safe for concurrent use.
type Fake struct {
	// URL is the fake's base URL, for INFISICAL_URL.
	URL  string
	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	reqs     int
	secrets  map[secretKey]*Secret
	folders  map[string]bool // env + path
	tokens   map[string]*token
	failures int
	lastFail time.Time
	locked   time.Time

	// knobs
	down       bool
	delay      time.Duration
	failNext   int
	failStatus int
	approval   bool
	hidden     bool
	denied     bool

	// counters
	logins, failedLogins, renewals int
	calls                          map[string]int
}

// New starts a fake Infisical, closed when the test ends.
func New(tb testing.TB, opts Options) *Fake {
	tb.Helper()
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.ProjectID == "" {
		opts.ProjectID = DefaultProjectID
	}
	if len(opts.Environments) == 0 {
		opts.Environments = []string{DefaultEnvironment}
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = 10 * time.Minute
	}
	if opts.TokenMaxTTL == 0 {
		opts.TokenMaxTTL = time.Hour
	}
	if opts.LockoutThreshold == 0 {
		opts.LockoutThreshold = 3
	}
	if opts.LockoutCounterReset == 0 {
		opts.LockoutCounterReset = 30 * time.Second
	}
	if opts.LockoutDuration == 0 {
		opts.LockoutDuration = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &Fake{opts: opts, secrets: map[secretKey]*Secret{}, folders: map[string]bool{}, tokens: map[string]*token{}, calls: map[string]int{}}
	for _, env := range opts.Environments {
		f.folders[env+"/"] = true
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL
	tb.Cleanup(f.srv.Close)
	return f
}

// Options returns the fake's options with defaults filled in.
func (f *Fake) Options() Options { return f.opts }

// SetDown makes every request end with a dropped connection (true) or be
// served again (false).
func (f *Fake) SetDown(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

// SetDelay makes every answer wait d first (or until the client gives up).
func (f *Fake) SetDelay(d time.Duration) { f.mu.Lock(); f.delay = d; f.mu.Unlock() }

// FailNext makes the next n requests answer status (such as 500, 503 or
// 429) with Infisical's error body.
func (f *Fake) FailNext(n, status int) {
	f.mu.Lock()
	f.failNext, f.failStatus = n, status
	f.mu.Unlock()
}

// SetApprovalRequired puts every secret change under a change policy: writes
// and deletes answer with an approval request and change nothing.
func (f *Fake) SetApprovalRequired(on bool) { f.mu.Lock(); f.approval = on; f.mu.Unlock() }

// SetPermissionDenied answers every folder and secret request as to an
// identity whose role does not allow it (403 PermissionDenied).
func (f *Fake) SetPermissionDenied(on bool) { f.mu.Lock(); f.denied = on; f.mu.Unlock() }

// SetValuesHidden answers reads as to an identity without the permission to
// read values (secretValueHidden).
func (f *Fake) SetValuesHidden(on bool) { f.mu.Lock(); f.hidden = on; f.mu.Unlock() }

// ExpireTokens makes every access token issued so far expired.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tokens {
		t.expires = f.opts.Now().Add(-time.Second)
	}
}

// RevokeTokens revokes every access token issued so far.
func (f *Fake) RevokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tokens {
		t.revoked = true
	}
}

// Logins counts login attempts, FailedLogins the refused ones, Renewals the
// successful token renewals.
func (f *Fake) Logins() int { f.mu.Lock(); defer f.mu.Unlock(); return f.logins }

// FailedLogins counts refused login attempts.
func (f *Fake) FailedLogins() int { f.mu.Lock(); defer f.mu.Unlock(); return f.failedLogins }

// Renewals counts successful token renewals.
func (f *Fake) Renewals() int { f.mu.Lock(); defer f.mu.Unlock(); return f.renewals }

// Calls counts the requests that reached the fake by "METHOD route", such as
// "GET /api/v4/secrets/{name}", those the knobs failed included.
func (f *Fake) Calls(route string) int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls[route] }

// Locked reports whether the identity is locked out now.
func (f *Fake) Locked() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opts.Now().Before(f.locked)
}

// Secrets lists the stored secrets, sorted by environment, path and name.
func (f *Fake) Secrets() []Secret {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Secret, 0, len(f.secrets))
	for _, s := range f.secrets {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Secret) int {
		return strings.Compare(a.Environment+a.Path+"/"+a.Name, b.Environment+b.Path+"/"+b.Name)
	})
	return out
}

// Folders lists the existing folder paths of env, sorted.
func (f *Fake) Folders(env string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.folders {
		if p, ok := strings.CutPrefix(k, env+"/"); ok {
			out = append(out, "/"+p)
		}
	}
	slices.Sort(out)
	return out
}

// SetSecret stores a secret as if written outside the API (by a person in
// Infisical's UI), without trimming; the folder must exist.
func (f *Fake) SetSecret(env, path, name, value, comment string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := secretKey{env, path, name}
	version := 1
	if s, ok := f.secrets[k]; ok {
		version = s.Version + 1
	}
	f.secrets[k] = &Secret{Environment: env, Path: path, Name: name, Value: value, Comment: comment, Version: version}
}

// answer is a response the handlers build under the lock and serve after.
type answer struct {
	status int
	body   any
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down, delay := f.down, f.delay
	f.reqs++
	f.calls[routeKey(r)]++
	reqID := "req-" + strconv.Itoa(f.reqs)
	var fail int
	if f.failNext > 0 {
		f.failNext--
		fail = f.failStatus
	}
	f.mu.Unlock()
	if down {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	// Read the body first: only then does the server notice a client that
	// hangs up, which ends a delay early.
	data, rerr := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	var a answer
	if fail != 0 {
		a = errorAnswer(fail, "InternalServerError", "Something went wrong")
		if fail == http.StatusTooManyRequests {
			a = errorAnswer(fail, "RateLimitExceeded", "Rate limit exceeded. Please try again in 1 second")
			w.Header().Set("Retry-After", "1")
		}
	} else if rerr != nil {
		a = badRequest("cannot read body")
	} else {
		a = f.route(r, data)
	}
	if m, ok := a.body.(map[string]any); ok && a.status >= 400 {
		m["reqId"] = reqID
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(a.body)
}

func errorAnswer(status int, name string, message any) answer {
	return answer{status, map[string]any{"statusCode": status, "message": message, "error": name}}
}

func badRequest(msg string) answer { return errorAnswer(400, "BadRequestError", msg) }
func notFound(msg string) answer   { return errorAnswer(404, "NotFoundError", msg) }

// validation is Infisical's answer to a body its schema rejects: 422 with a
// list of issues as the message.
func validation(path, msg string) answer {
	return errorAnswer(422, "ValidationFailure", []map[string]any{{"code": "custom", "message": msg, "path": []string{path}}})
}

func (f *Fake) route(r *http.Request, data []byte) answer {
	path := r.URL.Path
	var body map[string]any
	if len(data) > 0 && json.Unmarshal(data, &body) != nil {
		return badRequest("Body is not valid JSON")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.opts.Now()
	switch {
	case r.Method == http.MethodPost && path == "/api/v1/auth/universal-auth/login":
		return f.login(body, now)
	case r.Method == http.MethodPost && path == "/api/v1/auth/token/renew":
		return f.renew(body, now)
	case path == "/api/v2/folders":
		if a, ok := f.authorize(r, now); !ok {
			return a
		}
		if f.denied {
			return f.deny(r, "secretFolders")
		}
		return f.foldersRoute(r, body)
	case strings.HasPrefix(path, "/api/v4/secrets/"):
		if a, ok := f.authorize(r, now); !ok {
			return a
		}
		if f.denied {
			return f.deny(r, "secrets")
		}
		return f.secretRoute(r, strings.TrimPrefix(path, "/api/v4/secrets/"), body)
	}
	return errorAnswer(404, "Not Found", fmt.Sprintf("Route %s:%s not found", r.Method, path))
}

// deny is Infisical's answer to an action the identity's role lacks.
func (f *Fake) deny(r *http.Request, subject string) answer {
	action := map[string]string{http.MethodGet: "read", http.MethodPost: "create", http.MethodPatch: "edit", http.MethodDelete: "delete"}[r.Method]
	return answer{403, map[string]any{"statusCode": 403, "error": "PermissionDenied", "message": fmt.Sprintf("You are not allowed to %s on %s", action, subject), "details": []any{}}}
}

// routeKey names r's route for Calls: "METHOD /path", with a secret's name
// as {name}.
func routeKey(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/api/v4/secrets/") {
		return r.Method + " /api/v4/secrets/{name}"
	}
	return r.Method + " " + r.URL.Path
}

func str(body map[string]any, k string) string {
	s, _ := body[k].(string)
	return s
}

func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "fake." + hex.EncodeToString(b)
}

func (f *Fake) login(body map[string]any, now time.Time) answer {
	f.logins++
	id, secret := strings.TrimSpace(str(body, "clientId")), strings.TrimSpace(str(body, "clientSecret"))
	if id != f.opts.ClientID {
		f.failedLogins++
		return errorAnswer(401, "UnauthorizedError", "Invalid credentials")
	}
	if now.Before(f.locked) {
		f.failedLogins++
		return errorAnswer(401, "UnauthorizedError", "This identity auth method is temporarily locked, please try again later")
	}
	if secret != f.opts.ClientSecret {
		f.failedLogins++
		if now.Sub(f.lastFail) > f.opts.LockoutCounterReset {
			f.failures = 0
		}
		f.failures++
		f.lastFail = now
		if f.failures >= f.opts.LockoutThreshold {
			f.locked = now.Add(f.opts.LockoutDuration)
			f.failures = 0
		}
		return errorAnswer(401, "UnauthorizedError", "Invalid credentials")
	}
	f.failures = 0
	tok := newToken()
	f.tokens[tok] = &token{expires: now.Add(f.opts.TokenTTL), maxAt: now.Add(f.opts.TokenMaxTTL)}
	return answer{200, map[string]any{"accessToken": tok, "expiresIn": int(f.opts.TokenTTL / time.Second), "accessTokenMaxTTL": int(f.opts.TokenMaxTTL / time.Second), "tokenType": "Bearer"}}
}

func (f *Fake) renew(body map[string]any, now time.Time) answer {
	tok := str(body, "accessToken")
	t, ok := f.tokens[tok]
	switch {
	case !ok:
		return errorAnswer(403, "TokenError", "The provided access token is malformed. Please use a valid token or generate a new one and try again.")
	case t.revoked:
		return errorAnswer(401, "UnauthorizedError", "Failed to authorize revoked access token")
	case !now.Before(t.expires):
		return errorAnswer(403, "TokenError", "Your token has expired. Please re-authenticate.")
	case !now.Before(t.maxAt):
		return errorAnswer(401, "UnauthorizedError", "Failed to renew access token due to Max TTL expiration")
	}
	t.expires = now.Add(f.opts.TokenTTL)
	if t.expires.After(t.maxAt) {
		t.expires = t.maxAt
	}
	f.renewals++
	return answer{200, map[string]any{"accessToken": tok, "expiresIn": int(t.expires.Sub(now) / time.Second), "accessTokenMaxTTL": int(f.opts.TokenMaxTTL / time.Second), "tokenType": "Bearer"}}
}

func (f *Fake) authorize(r *http.Request, now time.Time) (answer, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return errorAnswer(401, "UnauthorizedError", "Failed to authenticate: missing token"), false
	}
	t, known := f.tokens[tok]
	switch {
	case !known:
		return errorAnswer(403, "TokenError", "The provided access token is malformed. Please use a valid token or generate a new one and try again."), false
	case t.revoked:
		return errorAnswer(401, "UnauthorizedError", "Failed to authorize revoked access token"), false
	case !now.Before(t.expires):
		return errorAnswer(403, "TokenError", "Your token has expired. Please re-authenticate."), false
	}
	return answer{}, true
}

// scope checks projectId and environment and normalises secretPath.
func (f *Fake) scope(project, env, path string) (string, answer, bool) {
	if project == "" || env == "" {
		return "", badRequest("Missing project id or environment"), false
	}
	if project != f.opts.ProjectID {
		return "", notFound(fmt.Sprintf("Project with ID '%s' not found", project)), false
	}
	if !slices.Contains(f.opts.Environments, env) {
		return "", notFound(fmt.Sprintf("Environment with slug '%s' in project with ID '%s' not found", env, project)), false
	}
	path = strings.TrimSpace(path)
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
	}
	if !f.folders[env+path] {
		return "", notFound(fmt.Sprintf("Folder with path '%s' in environment with slug '%s' not found", path, env)), false
	}
	return path, answer{}, true
}

var folderName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

func (f *Fake) foldersRoute(r *http.Request, body map[string]any) answer {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		path, a, ok := f.scope(q.Get("projectId"), q.Get("environment"), q.Get("path"))
		if !ok {
			return a
		}
		env := q.Get("environment")
		folders := []map[string]any{}
		prefix := env + strings.TrimSuffix(path, "/") + "/"
		for k := range f.folders {
			if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" && !strings.Contains(rest, "/") {
				folders = append(folders, map[string]any{"id": "folder-" + rest, "name": rest})
			}
		}
		return answer{200, map[string]any{"folders": folders}}
	case http.MethodPost:
		name := strings.TrimSpace(str(body, "name"))
		if !folderName.MatchString(name) {
			return validation("name", "Invalid folder name. Only alphanumeric characters, dashes, and underscores are allowed.")
		}
		env := str(body, "environment")
		path, a, ok := f.scope(str(body, "projectId"), env, str(body, "path"))
		if !ok {
			return a
		}
		full := strings.TrimSuffix(path, "/") + "/" + name
		if f.folders[env+full] {
			return badRequest(fmt.Sprintf("Folder with name '%s' already exists", name))
		}
		f.folders[env+full] = true
		return answer{200, map[string]any{"folder": map[string]any{"id": "folder-" + name, "name": name, "path": full}}}
	}
	return errorAnswer(405, "MethodNotAllowed", "method not allowed")
}

// trimValue is Infisical's trimming of a written value: surrounding
// whitespace goes, but a final newline is kept.
func trimValue(v string) string {
	if strings.HasSuffix(v, "\n") {
		return strings.TrimSpace(v) + "\n"
	}
	return strings.TrimSpace(v)
}

var reference = regexp.MustCompile(`\$\{([^}]*)\}`)

// expand resolves ${KEY} (same folder) and ${env.folder.KEY} references as
// Infisical does on reads that ask for it; an unknown reference becomes "".
func (f *Fake) expand(env, path, v string) string {
	return reference.ReplaceAllStringFunc(v, func(m string) string {
		ref := m[2 : len(m)-1]
		parts := strings.Split(ref, ".")
		e, p, k := env, path, parts[len(parts)-1]
		if len(parts) > 1 {
			e = parts[0]
			p = "/" + strings.Join(parts[1:len(parts)-1], "/")
		}
		if s, ok := f.secrets[secretKey{e, p, k}]; ok {
			return s.Value
		}
		return ""
	})
}

func (f *Fake) secretJSON(s *Secret, value string) map[string]any {
	hidden := f.hidden
	if hidden {
		value = "<hidden-by-infisical>"
	}
	return map[string]any{
		"id": "secret-" + s.Name, "_id": "secret-" + s.Name, "workspace": f.opts.ProjectID, "environment": s.Environment,
		"version": s.Version, "type": "shared", "secretKey": s.Name, "secretValue": value, "secretComment": s.Comment,
		"secretPath": s.Path, "secretValueHidden": hidden, "skipMultilineEncoding": true,
	}
}

func (f *Fake) approvalAnswer(name string) answer {
	return answer{200, map[string]any{"approval": map[string]any{"id": "approval-" + name, "slug": "change-" + strings.ToLower(name), "status": "open", "hasMerged": false}}}
}

func (f *Fake) secretRoute(r *http.Request, name string, body map[string]any) answer {
	name = strings.TrimSpace(name)
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		env := q.Get("environment")
		path, a, ok := f.scope(q.Get("projectId"), env, q.Get("secretPath"))
		if !ok {
			return a
		}
		s, ok := f.secrets[secretKey{env, path, name}]
		if !ok {
			return notFound(fmt.Sprintf("Secret with name '%s' not found", name))
		}
		v := s.Value
		if q.Get("expandSecretReferences") == "true" {
			v = f.expand(env, path, v)
		}
		return answer{200, map[string]any{"secret": f.secretJSON(s, v)}}
	}
	env := str(body, "environment")
	path, a, ok := f.scope(str(body, "projectId"), env, str(body, "secretPath"))
	if !ok {
		return a
	}
	k := secretKey{env, path, name}
	switch r.Method {
	case http.MethodPost:
		if name == "" || strings.Contains(name, " ") {
			return validation("secretName", "Secret name cannot contain spaces.")
		}
		if _, exists := f.secrets[k]; exists {
			return badRequest("Secret already exist")
		}
		if f.approval {
			return f.approvalAnswer(name)
		}
		s := &Secret{Environment: env, Path: path, Name: name, Value: trimValue(str(body, "secretValue")), Comment: strings.TrimSpace(str(body, "secretComment")), Version: 1}
		f.secrets[k] = s
		return answer{200, map[string]any{"secret": f.secretJSON(s, s.Value)}}
	case http.MethodPatch:
		s, exists := f.secrets[k]
		if !exists {
			return notFound(fmt.Sprintf("Secret named '%s' not found", name))
		}
		if f.approval {
			return f.approvalAnswer(name)
		}
		if v, ok := body["secretValue"].(string); ok {
			s.Value = trimValue(v)
		}
		if c, ok := body["secretComment"].(string); ok {
			s.Comment = c
		}
		s.Version++
		return answer{200, map[string]any{"secret": f.secretJSON(s, s.Value)}}
	case http.MethodDelete:
		s, exists := f.secrets[k]
		if !exists {
			return notFound(fmt.Sprintf("Secret with name '%s' not found", name))
		}
		if f.approval {
			return f.approvalAnswer(name)
		}
		delete(f.secrets, k)
		return answer{200, map[string]any{"secret": f.secretJSON(s, s.Value)}}
	}
	return errorAnswer(405, "MethodNotAllowed", "method not allowed")
}
