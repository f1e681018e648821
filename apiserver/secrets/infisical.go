package secrets

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The environment variables of the Infisical backend.
const (
	EnvInfisicalURL          = "INFISICAL_URL"
	EnvInfisicalClientID     = "INFISICAL_CLIENT_ID"
	EnvInfisicalClientSecret = "INFISICAL_CLIENT_SECRET"
	EnvInfisicalProjectID    = "INFISICAL_PROJECT_ID"
	EnvInfisicalEnvironment  = "INFISICAL_ENVIRONMENT"
	EnvInfisicalSecretPath   = "INFISICAL_SECRET_PATH"
)

// InfisicalKeyID is the KeyID of every Ref the Infisical backend writes; a
// Keyring key id is 16 hex digits, so the two never collide.
const InfisicalKeyID = "infisical"

// InfisicalConfig is how to reach Infisical and where to keep secrets there.
type InfisicalConfig struct {
	// URL is Infisical's base URL, such as https://app.infisical.com.
	URL string
	// ClientID and ClientSecret are a Universal Auth machine identity's.
	ClientID, ClientSecret string
	// ProjectID, Environment (a slug, such as "prod") and SecretPath (a
	// folder, such as "/mcp-api", created when missing) say where secrets go.
	ProjectID, Environment, SecretPath string

	// HTTPClient sends requests; nil means a client of our own.
	HTTPClient *http.Client
	// RequestTimeout bounds each request (default 10s).
	RequestTimeout time.Duration
	// LoginBackoff is the wait after a failed login before the next one; it
	// doubles with each further failure up to 10 minutes (default 30s).
	LoginBackoff time.Duration
	// RetryWait is the first wait between tries of an idempotent request;
	// it doubles each try (default 200ms).
	RetryWait time.Duration
	// Now is the clock token lifetimes and login backoff are measured on
	// (default time.Now).
	Now func() time.Time
}

// InfisicalConfigFromEnv reads the INFISICAL_* variables; its error names
// every variable that is missing or wrong.
func InfisicalConfigFromEnv(env func(string) string) (InfisicalConfig, error) {
	cfg := InfisicalConfig{
		URL:          strings.TrimSpace(env(EnvInfisicalURL)),
		ClientID:     strings.TrimSpace(env(EnvInfisicalClientID)),
		ClientSecret: strings.TrimSpace(env(EnvInfisicalClientSecret)),
		ProjectID:    strings.TrimSpace(env(EnvInfisicalProjectID)),
		Environment:  strings.TrimSpace(env(EnvInfisicalEnvironment)),
		SecretPath:   strings.TrimSpace(env(EnvInfisicalSecretPath)),
	}
	return cfg, cfg.validate()
}

// validate fills defaults and names what is wrong, never echoing the client
// secret.
func (c *InfisicalConfig) validate() error {
	var missing []string
	for _, v := range []struct{ name, value string }{
		{EnvInfisicalURL, c.URL}, {EnvInfisicalClientID, c.ClientID}, {EnvInfisicalClientSecret, c.ClientSecret},
		{EnvInfisicalProjectID, c.ProjectID}, {EnvInfisicalEnvironment, c.Environment},
	} {
		if v.value == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s=%s needs %s: set them to Infisical's URL, a Universal Auth machine identity's client id and secret, the project id and the environment slug", EnvBackend, BackendInfisical, strings.Join(missing, ", "))
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s must be an absolute http or https URL such as https://app.infisical.com, got %q", EnvInfisicalURL, c.URL)
	}
	if u.User != nil {
		return fmt.Errorf("%s must not carry credentials; use %s and %s", EnvInfisicalURL, EnvInfisicalClientID, EnvInfisicalClientSecret)
	}
	c.URL = strings.TrimRight(c.URL, "/")
	if strings.ContainsAny(c.Environment, "/?#& ") {
		return fmt.Errorf("%s must be an environment slug such as prod, got %q", EnvInfisicalEnvironment, c.Environment)
	}
	path, err := cleanSecretPath(c.SecretPath)
	if err != nil {
		return err
	}
	c.SecretPath = path
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = defaultRequestTimeout
	}
	if c.LoginBackoff <= 0 {
		c.LoginBackoff = defaultLoginBackoff
	}
	if c.RetryWait <= 0 {
		c.RetryWait = defaultRetryWait
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// cleanSecretPath turns INFISICAL_SECRET_PATH into "/" or "/a/b": folder
// names Infisical accepts (letters, digits, dashes, underscores).
func cleanSecretPath(p string) (string, error) {
	if p == "" || p == "/" {
		return "/", nil
	}
	var segs []string
	for _, s := range strings.Split(strings.Trim(p, "/"), "/") {
		if s == "" {
			return "", fmt.Errorf("%s must be a folder path such as /mcp-api, got %q (empty folder name)", EnvInfisicalSecretPath, p)
		}
		for _, r := range s {
			if r != '-' && !isNameChar(r) {
				return "", fmt.Errorf("%s must be a folder path such as /mcp-api whose folder names hold only letters, digits, dashes and underscores (Infisical's rule), got %q", EnvInfisicalSecretPath, p)
			}
		}
		segs = append(segs, s)
	}
	return "/" + strings.Join(segs, "/"), nil
}

// Infisical is the Store that keeps each secret in Infisical, one Infisical
// secret per write, named by the caller (NewName), with the record's aad as
// its comment. Values are stored base64url-encoded: Infisical expands ${...}
// references and trims whitespace, and neither may touch a credential.
type Infisical struct {
	cfg     InfisicalConfig
	base    *url.URL
	http    *http.Client
	keyring *Keyring // for fingerprints only

	// authSem (one slot) guards auth and lets waiters give up with ctx.
	authSem chan struct{}
	auth    struct {
		token            string
		expires, renewAt time.Time
		maxAt            time.Time
		failures         int
		nextLogin        time.Time
		lastErr          error
		renews           int
	}

	foldersMu sync.Mutex
	folders   map[string]bool // folder paths known to exist
}

var _ Store = (*Infisical)(nil)

// NewInfisical returns the Infisical store. keyring keys the fingerprints
// Unchanged compares (MCP_API_SECRET_KEY stays required). It does not call
// Infisical: the first call logs in.
func NewInfisical(cfg InfisicalConfig, keyring *Keyring) (*Infisical, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if keyring == nil {
		return nil, errors.New("the Infisical secret store needs the keyring (MCP_API_SECRET_KEY) to fingerprint secrets")
	}
	base, _ := url.Parse(cfg.URL)
	hc := cfg.HTTPClient
	if hc == nil {
		tr, _ := http.DefaultTransport.(*http.Transport)
		if tr != nil {
			tr = tr.Clone()
		}
		hc = &http.Client{Transport: tr}
	}
	// A redirect would replay a POST as a GET, or send the token on to
	// another host: refuse it and say where Infisical seems to be.
	own := *hc
	own.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		return fmt.Errorf("Infisical at %s redirected to %s://%s%s; set %s to the address it redirects to", cfg.URL, req.URL.Scheme, req.URL.Host, req.URL.Path, EnvInfisicalURL)
	}
	return &Infisical{cfg: cfg, base: base, http: &own, keyring: keyring, authSem: make(chan struct{}, 1), folders: map[string]bool{}}, nil
}

// Backend implements Store.
func (*Infisical) Backend() string { return BackendInfisical }

// location is where in Infisical one secret lives; a Ref's Data is its
// query encoding, so a later change of INFISICAL_SECRET_PATH or
// INFISICAL_ENVIRONMENT does not lose the secrets already written.
type location struct {
	project, environment, path, name string
}

func (l location) encode() []byte {
	return []byte(url.Values{"project": {l.project}, "environment": {l.environment}, "path": {l.path}, "name": {l.name}}.Encode())
}

func parseLocation(ref Ref) (location, error) {
	if ref.KeyID != InfisicalKeyID {
		return location{}, fmt.Errorf("%w: the record's secret is not in Infisical (key id %s); run `mcp-api secrets migrate --to infisical` or set %s to the backend that wrote it", ErrUnknownKey, safeID(ref.KeyID), EnvBackend)
	}
	v, err := url.ParseQuery(string(ref.Data))
	l := location{project: v.Get("project"), environment: v.Get("environment"), path: v.Get("path"), name: v.Get("name")}
	if err != nil || l.project == "" || l.environment == "" || l.path == "" || validName(l.name) != nil {
		return location{}, fmt.Errorf("%w: the record's Infisical reference is malformed", ErrDecrypt)
	}
	return l, nil
}

func (c *Infisical) here(name string) location {
	return location{project: c.cfg.ProjectID, environment: c.cfg.Environment, path: c.cfg.SecretPath, name: name}
}

// where says where l is, for messages.
func (l location) where() string {
	return fmt.Sprintf("secret %s at path %s of environment %s in project %s", l.name, l.path, l.environment, l.project)
}

// secretAnswer is the v4 secrets API's answer: the secret, or an approval
// request when a policy holds the change for review.
type secretAnswer struct {
	Secret *struct {
		SecretKey         string `json:"secretKey"`
		SecretValue       string `json:"secretValue"`
		SecretComment     string `json:"secretComment"`
		SecretValueHidden bool   `json:"secretValueHidden"`
		Version           int    `json:"version"`
	} `json:"secret"`
	Approval *struct {
		ID   string `json:"id"`
		Slug string `json:"slug"`
	} `json:"approval"`
}

// approvalError is the failure an approval answer becomes: the change is
// only proposed, and nothing can wait for a reviewer.
func approvalError(op string, l location, id string) error {
	return fmt.Errorf("%w: Infisical holds the %s of %s for approval (request %s) under a change policy; the API cannot wait for reviewers: exempt the machine identity from the policy, or set %s to a folder without one", ErrRefused, op, l.where(), id, EnvInfisicalSecretPath)
}

// refused turns an Infisical refusal into ErrRefused with what to change.
func refused(err error, l location) error {
	ae, ok := errors.AsType[*apiError](err)
	if !ok {
		return err
	}
	switch ae.status {
	case http.StatusForbidden:
		return fmt.Errorf("%w: %w; give the machine identity a role in project %s that may read, create and delete secrets and create folders in environment %s under %s", ErrRefused, err, l.project, l.environment, l.path)
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w; check %s (%s) and %s (%s)", ErrRefused, err, EnvInfisicalProjectID, l.project, EnvInfisicalEnvironment, l.environment)
	}
	return fmt.Errorf("%w: %w", ErrRefused, err)
}

// encodeValue keeps a value out of Infisical's reach: base64url has no $,
// braces or whitespace to expand or trim.
func encodeValue(v []byte) string { return base64.RawURLEncoding.EncodeToString(v) }

func decodeValue(s string) ([]byte, error) {
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.URLEncoding.DecodeString(s)
}

// Put creates the Infisical secret name (folders included) holding value
// base64url-encoded, with aad as its comment. If name already holds the same
// value and aad (a retried Put), that is success.
func (c *Infisical) Put(ctx context.Context, name string, value, aad []byte) (Ref, error) {
	if err := validName(name); err != nil {
		return Ref{}, err
	}
	l := c.here(name)
	call := &callState{}
	if err := c.ensureFolders(ctx, call, l); err != nil {
		return Ref{}, err
	}
	body := map[string]any{
		"projectId": l.project, "environment": l.environment, "secretPath": l.path,
		"secretValue": encodeValue(value), "secretComment": string(aad), "type": "shared", "skipMultilineEncoding": true,
	}
	var ans secretAnswer
	r := request{method: http.MethodPost, path: "/api/v4/secrets/" + url.PathEscape(name), route: "/api/v4/secrets/{name}", body: body}
	err := c.do(ctx, call, r, &ans)
	if ae, ok := errors.AsType[*apiError](err); ok && ae.status == http.StatusNotFound {
		// The folder went away since we made it: make it again, once.
		c.forgetFolders()
		if err := c.ensureFolders(ctx, call, l); err != nil {
			return Ref{}, err
		}
		ans = secretAnswer{}
		err = c.do(ctx, call, r, &ans)
	}
	if ae, ok := errors.AsType[*apiError](err); ok && ae.status == http.StatusBadRequest {
		// Most likely "already exists": a Put retried after a crash or a
		// lost answer. Same value and aad is success.
		stored, comment, gerr := c.read(ctx, call, l)
		if gerr == nil {
			same := subtle.ConstantTimeCompare(stored, value) == 1 && comment == string(aad)
			clear(stored)
			if same {
				return c.ref(l, value, aad), nil
			}
			return Ref{}, fmt.Errorf("%w: Infisical already holds a different %s; every write needs a fresh name (secrets.NewName)", ErrRefused, l.where())
		}
	}
	if err != nil {
		return Ref{}, c.wrap(err, "write", l)
	}
	if ans.Approval != nil {
		return Ref{}, approvalError("creation", l, ans.Approval.ID)
	}
	if ans.Secret == nil {
		return Ref{}, fmt.Errorf("%w: Infisical's answer to creating %s holds neither a secret nor an approval; check that %s points at Infisical itself", ErrRefused, l.where(), EnvInfisicalURL)
	}
	return c.ref(l, value, aad), nil
}

func (c *Infisical) ref(l location, value, aad []byte) Ref {
	return Ref{KeyID: InfisicalKeyID, Data: l.encode(), Fingerprint: c.keyring.Fingerprint(value, aad)}
}

// wrap keeps unavailability as is (with Retry-After) and turns a refusal
// into ErrRefused naming what to change.
func (c *Infisical) wrap(err error, op string, l location) error {
	if _, ok := RetryAfter(err); ok {
		return fmt.Errorf("%s %s in Infisical: %w", op, l.where(), err)
	}
	if errors.Is(err, ErrRefused) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return refused(err, l)
}

// read fetches l's value and comment, without expanding references.
func (c *Infisical) read(ctx context.Context, call *callState, l location) ([]byte, string, error) {
	var ans secretAnswer
	q := url.Values{
		"projectId": {l.project}, "environment": {l.environment}, "secretPath": {l.path}, "type": {"shared"},
		"viewSecretValue": {"true"}, "expandSecretReferences": {"false"}, "include_imports": {"false"},
	}
	err := c.do(ctx, call, request{method: http.MethodGet, path: "/api/v4/secrets/" + url.PathEscape(l.name), route: "/api/v4/secrets/{name}", query: q, idempotent: true}, &ans)
	if ae, ok := errors.AsType[*apiError](err); ok && ae.status == http.StatusNotFound {
		return nil, "", fmt.Errorf("%w: Infisical has no %s (%s)", ErrNotFound, l.where(), ae.message)
	}
	if err != nil {
		return nil, "", c.wrap(err, "read", l)
	}
	if ans.Secret == nil {
		return nil, "", fmt.Errorf("%w: Infisical's answer for %s holds no secret; check that %s points at Infisical itself", ErrRefused, l.where(), EnvInfisicalURL)
	}
	if ans.Secret.SecretValueHidden {
		return nil, "", fmt.Errorf("%w: Infisical hides the value of %s from the machine identity; give its role permission to read secret values", ErrRefused, l.where())
	}
	v, err := decodeValue(ans.Secret.SecretValue)
	if err != nil {
		return nil, "", fmt.Errorf("%w: Infisical's %s is not base64url as the API writes it; it was changed outside the API: set the credential again through the API", ErrDecrypt, l.where())
	}
	return v, ans.Secret.SecretComment, nil
}

// Get reads ref's value from Infisical; its comment must be aad.
func (c *Infisical) Get(ctx context.Context, ref Ref, aad []byte) ([]byte, error) {
	l, err := parseLocation(ref)
	if err != nil {
		return nil, err
	}
	v, comment, err := c.read(ctx, &callState{}, l)
	if err != nil {
		return nil, err
	}
	if comment != string(aad) {
		clear(v)
		return nil, fmt.Errorf("%w: Infisical's %s belongs to another record", ErrDecrypt, l.where())
	}
	return v, nil
}

// Delete removes ref's secret from Infisical; one already gone is success.
func (c *Infisical) Delete(ctx context.Context, ref Ref) error {
	l, err := parseLocation(ref)
	if err != nil {
		return err
	}
	var ans secretAnswer
	body := map[string]any{"projectId": l.project, "environment": l.environment, "secretPath": l.path, "type": "shared"}
	err = c.do(ctx, &callState{}, request{method: http.MethodDelete, path: "/api/v4/secrets/" + url.PathEscape(l.name), route: "/api/v4/secrets/{name}", body: body, idempotent: true}, &ans)
	if ae, ok := errors.AsType[*apiError](err); ok && ae.status == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return c.wrap(err, "delete", l)
	}
	if ans.Approval != nil {
		return approvalError("deletion", l, ans.Approval.ID)
	}
	return nil
}

// Owns reports whether ref points into Infisical.
func (*Infisical) Owns(ref Ref) bool { return ref.KeyID == InfisicalKeyID }

// Unchanged compares fingerprints only: reading Infisical to compare would
// defeat the point, and a Ref without a fingerprint just gets rewritten.
func (c *Infisical) Unchanged(ref Ref, value, aad []byte) bool {
	return ref.KeyID == InfisicalKeyID && c.keyring.fingerprintMatches(ref.Fingerprint, value, aad)
}

// Check logs in (or renews) and lists the root folders of the environment,
// which proves the URL, the credentials, the project and the environment.
func (c *Infisical) Check(ctx context.Context) error {
	l := c.here("")
	err := c.do(ctx, &callState{}, request{method: http.MethodGet, path: "/api/v2/folders", route: "/api/v2/folders",
		query: url.Values{"projectId": {l.project}, "environment": {l.environment}, "path": {"/"}}, idempotent: true}, nil)
	if _, temporary := RetryAfter(err); temporary {
		return fmt.Errorf("check Infisical: %w", err)
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("check Infisical: %w", refused(err, location{project: l.project, environment: l.environment, path: "/"}))
	}
	return err
}

// ensureFolders creates the folders of l.path that do not exist yet, once
// per process.
func (c *Infisical) ensureFolders(ctx context.Context, call *callState, l location) error {
	c.foldersMu.Lock()
	done := c.folders[l.path]
	c.foldersMu.Unlock()
	if done || l.path == "/" {
		return nil
	}
	parent := "/"
	for _, name := range strings.Split(strings.Trim(l.path, "/"), "/") {
		exists, err := c.folderExists(ctx, call, l, parent, name)
		if err != nil {
			return err
		}
		if !exists {
			body := map[string]any{"projectId": l.project, "environment": l.environment, "name": name, "path": parent}
			err := c.do(ctx, call, request{method: http.MethodPost, path: "/api/v2/folders", route: "/api/v2/folders", body: body}, nil)
			if ae, ok := errors.AsType[*apiError](err); ok && ae.status == http.StatusBadRequest {
				// Another replica may have made it meanwhile.
				if again, gerr := c.folderExists(ctx, call, l, parent, name); gerr == nil && again {
					err = nil
				}
			}
			if err != nil {
				return c.wrap(err, "create the folder "+name+" for", l)
			}
		}
		parent = strings.TrimSuffix(parent, "/") + "/" + name
	}
	c.foldersMu.Lock()
	c.folders[l.path] = true
	c.foldersMu.Unlock()
	return nil
}

func (c *Infisical) folderExists(ctx context.Context, call *callState, l location, parent, name string) (bool, error) {
	var ans struct {
		Folders []struct {
			Name string `json:"name"`
		} `json:"folders"`
	}
	q := url.Values{"projectId": {l.project}, "environment": {l.environment}, "path": {parent}}
	if err := c.do(ctx, call, request{method: http.MethodGet, path: "/api/v2/folders", route: "/api/v2/folders", query: q, idempotent: true}, &ans); err != nil {
		return false, c.wrap(err, "list the folders under "+parent+" for", l)
	}
	for _, f := range ans.Folders {
		if f.Name == name {
			return true, nil
		}
	}
	return false, nil
}

func (c *Infisical) forgetFolders() {
	c.foldersMu.Lock()
	clear(c.folders)
	c.foldersMu.Unlock()
}

// Renewals counts the access token renewals so far, for tests and metrics.
func (c *Infisical) Renewals() int {
	c.authSem <- struct{}{}
	defer func() { <-c.authSem }()
	return c.auth.renews
}
