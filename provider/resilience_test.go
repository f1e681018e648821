package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
)

// Kinds of request the proxy tells apart, so a test can aim failures at one
// phase of a Terraform run.
const (
	kindConfigure = "configure" // GET /api/mcp-connections: only Configure lists here
	kindCreate    = "create"    // POST /api/mcp-connections
	kindRead      = "read"      // GET /api/mcp-connections/{id}
	kindDelete    = "delete"    // DELETE /api/mcp-connections/{id}
	kindOther     = "other"
)

func requestKind(r *http.Request) string {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/api/mcp-connections" && r.Method == http.MethodGet:
		return kindConfigure
	case p == "/api/mcp-connections" && r.Method == http.MethodPost:
		return kindCreate
	case strings.HasPrefix(p, "/api/mcp-connections/") && strings.Count(p, "/") == 3:
		switch r.Method {
		case http.MethodGet:
			return kindRead
		case http.MethodDelete:
			return kindDelete
		}
	}
	return kindOther
}

// fault is an answer the proxy gives instead of forwarding.
type fault struct {
	status     int
	retryAfter string // the Retry-After header; empty sends none
}

// apiProxy is a real reverse proxy in front of the API. It answers the first
// requests of each kind with its faults, forwards the rest, and counts both,
// so a test can prove failures happened and were retried past.
type apiProxy struct {
	// URL is the proxy's base URL, for the provider's endpoint.
	URL string

	// faults are answered, in order, to the first requests of each kind.
	faults map[string][]fault
	// holdCreates, when positive, holds each of the first holdCreates
	// forwarded creates until that many are in flight at once (or
	// holdTimeout passes), so the peak shows how many Terraform runs in
	// parallel rather than how fast the API happens to answer.
	holdCreates int
	holdTimeout time.Duration

	mu           sync.Mutex
	seen         map[string]int         // requests per kind
	injected     map[string]int         // faults answered per kind
	upstream     map[string]map[int]int // the API's statuses per kind
	forwarded    int                    // creates forwarded so far
	creatingNow  int
	peakCreating int
	released     chan struct{}
	releaseOnce  sync.Once
}

// start serves the proxy in front of the API at upstream until the test ends.
func (p *apiProxy) start(t *testing.T, upstream string) {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p.seen = map[string]int{}
	p.injected = map[string]int{}
	p.upstream = map[string]map[int]int{}
	p.released = make(chan struct{})
	// The default transport keeps 2 idle connections per host; Terraform
	// sends 10 to 20 requests at once, which would churn through sockets.
	transport := &http.Transport{MaxIdleConns: 100, MaxIdleConnsPerHost: 100, IdleConnTimeout: 30 * time.Second}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: transport,
		ModifyResponse: func(resp *http.Response) error {
			kind := requestKind(resp.Request)
			p.mu.Lock()
			if p.upstream[kind] == nil {
				p.upstream[kind] = map[int]int{}
			}
			p.upstream[kind][resp.StatusCode]++
			p.mu.Unlock()
			return nil
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := requestKind(r)
		p.mu.Lock()
		n := p.seen[kind]
		p.seen[kind]++
		var f *fault
		if n < len(p.faults[kind]) {
			f = &p.faults[kind][n]
			p.injected[kind]++
		}
		p.mu.Unlock()
		if f != nil {
			p.answer(w, *f)
			return
		}
		if kind == kindCreate {
			defer p.creating(r.Context())()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		transport.CloseIdleConnections()
	})
	p.URL = srv.URL
}

// answer writes f the way the API writes its errors.
func (p *apiProxy) answer(w http.ResponseWriter, f fault) {
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	_ = json.NewEncoder(w).Encode(contract.ErrorBody{Error: fmt.Sprintf("%s (injected by the test proxy)", http.StatusText(f.status))})
}

// creating counts a forwarded create in flight, holding it if the test asked
// to, and returns the function that counts it out.
func (p *apiProxy) creating(ctx context.Context) func() {
	p.mu.Lock()
	p.forwarded++
	held := p.forwarded <= p.holdCreates
	p.creatingNow++
	p.peakCreating = max(p.peakCreating, p.creatingNow)
	if p.holdCreates > 0 && p.creatingNow >= p.holdCreates {
		p.releaseOnce.Do(func() { close(p.released) })
	}
	p.mu.Unlock()
	if held {
		timer := time.NewTimer(p.holdTimeout)
		select {
		case <-p.released:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
	}
	return func() {
		p.mu.Lock()
		p.creatingNow--
		p.mu.Unlock()
	}
}

// counts returns how many requests of kind arrived and how many got a fault.
func (p *apiProxy) counts(kind string) (seen, injected int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[kind], p.injected[kind]
}

// upstreamStatuses returns how often the API answered each status to kind.
func (p *apiProxy) upstreamStatuses(kind string) map[int]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[int]int{}
	for status, n := range p.upstream[kind] {
		out[status] = n
	}
	return out
}

// peak returns the most creates that were in flight at once.
func (p *apiProxy) peak() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peakCreating
}

// connectionSet configures one mcp_connection per name. The health check is
// off: these tests are about the API's CRUD calls, and an API without
// probes would answer each check with a 404 and a warning.
func connectionSet(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	// count, not for_each: the testing framework's state shim rejects
	// string instance keys.
	return fmt.Sprintf(`
locals {
  names = [%s]
}

resource "mcp_connection" "set" {
  count          = length(local.names)
  name           = local.names[count.index]
  server_url     = "https://mcp.example.com/${local.names[count.index]}"
  check_on_apply = false
}
`, strings.Join(quoted, ", "))
}

func connectionNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return names
}

// checkExactlyOnce asks the API itself, not through any proxy, whether it
// holds each of names exactly once and nothing else, and whether those are
// the records Terraform put in its state.
func (e *accEnv) checkExactlyOnce(names []string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		inState := map[string]bool{}
		for _, rs := range s.RootModule().Resources {
			if rs.Type == "mcp_connection" {
				inState[rs.Primary.ID] = true
			}
		}
		return e.holdsExactlyOnce(names, inState)
	}
}

// holdsExactlyOnce lists the tenant's connections and compares them with
// names and with the ids Terraform recorded.
func (e *accEnv) holdsExactlyOnce(names []string, ids map[string]bool) error {
	list, err := e.client.ListAllConnections(context.Background(), client.ConnectionListOptions{})
	if err != nil {
		return fmt.Errorf("list connections: %w", err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	perName := map[string]int{}
	var problems []string
	for _, c := range list {
		perName[c.Name]++
		if !want[c.Name] {
			problems = append(problems, fmt.Sprintf("unexpected connection %q (%s)", c.Name, c.ID))
		}
		if !ids[c.ID] {
			problems = append(problems, fmt.Sprintf("connection %q (%s) is not in the Terraform state", c.Name, c.ID))
		}
	}
	for _, n := range names {
		if perName[n] != 1 {
			problems = append(problems, fmt.Sprintf("%q exists %d times, want once", n, perName[n]))
		}
	}
	if len(list) != len(names) || len(ids) != len(names) {
		problems = append(problems, fmt.Sprintf("the API holds %d connections and the state %d, want %d", len(list), len(ids), len(names)))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// remaining counts the tenant's connections, straight from the API.
func (e *accEnv) remaining(t *testing.T) int {
	t.Helper()
	list, err := e.client.ListAllConnections(context.Background(), client.ConnectionListOptions{})
	if err != nil {
		t.Fatalf("list connections: %v", err)
	}
	return len(list)
}

// TestAccResilience_retriesTransientFailures applies through a proxy that
// refuses the first requests of Configure, create, read and delete with 503
// (with and without Retry-After) and 429: the provider retries, every
// connection is created exactly once, and the refused attempts never reached
// the API.
func TestAccResilience_retriesTransientFailures(t *testing.T) {
	e := newAccEnv(t)
	var (
		unavailable     = fault{status: http.StatusServiceUnavailable}
		unavailableFor1 = fault{status: http.StatusServiceUnavailable, retryAfter: "1"}
		tooMany         = fault{status: http.StatusTooManyRequests, retryAfter: "1"}
	)
	// At most 3 faults per kind: even if one call draws them all it stays
	// within the client's 4 retries, so a failed apply means a real bug.
	p := &apiProxy{faults: map[string][]fault{
		kindConfigure: {unavailable, tooMany},
		kindCreate:    {unavailable, unavailableFor1, tooMany},
		kindRead:      {unavailableFor1, tooMany, unavailable},
		kindDelete:    {tooMany, unavailable},
	}}
	p.start(t, e.srv.URL)
	names := connectionNames("retry", 3)

	parallelTest(t, e.checkDestroyed, []resource.TestStep{{
		Config: providerConfig(p.URL, e.srv.APIKey) + connectionSet(names),
		Check:  e.checkExactlyOnce(names),
	}})

	for kind, faults := range p.faults {
		seen, injected := p.counts(kind)
		if injected != len(faults) {
			t.Errorf("%s: the proxy answered %d of its %d faults; the test did not exercise the retries it means to", kind, injected, len(faults))
		}
		if seen <= injected {
			t.Errorf("%s: %d requests, all refused; nothing was retried past the faults", kind, seen)
		}
	}
	// Refused creates never reached the API, so it saw one per connection.
	if got := p.upstreamStatuses(kindCreate); len(got) != 1 || got[http.StatusCreated] != len(names) {
		t.Errorf("the API answered creates with %v, want %d × 201", got, len(names))
	}
	if n := e.remaining(t); n != 0 {
		t.Errorf("%d connections remain after destroy, want 0", n)
	}
}

// TestAccResilience_rateLimited applies 10 connections against the API's own
// per-tenant rate limit: the provider waits out the 429s it gets and creates
// every connection exactly once.
func TestAccResilience_rateLimited(t *testing.T) {
	// Burst equal to the rate: clients refused together retry together after
	// Retry-After (1s), and then find a full bucket of 5, so 10 parallel
	// calls need 2 rounds, well within the client's 4 retries.
	e := newAccEnv(t, apitest.WithConfig(func(_ *apitest.Server, cfg *httpapi.Config) {
		cfg.RateLimit, cfg.RateBurst = 5, 5
	}))
	p := &apiProxy{} // forwards everything, to count the API's answers
	p.start(t, e.srv.URL)
	names := connectionNames("limited", 10)

	parallelTest(t, e.checkDestroyed, []resource.TestStep{{
		Config: providerConfig(p.URL, e.srv.APIKey) + connectionSet(names),
		Check:  e.checkExactlyOnce(names),
	}})

	limited := 0
	for _, kind := range []string{kindConfigure, kindCreate, kindRead, kindDelete, kindOther} {
		limited += p.upstreamStatuses(kind)[http.StatusTooManyRequests]
	}
	if limited == 0 {
		t.Error("the API never answered 429: the rate limit was not exercised")
	}
	creates := p.upstreamStatuses(kindCreate)
	for status := range creates {
		if status != http.StatusCreated && status != http.StatusTooManyRequests {
			t.Errorf("the API answered creates with %v, want only 201 and 429", creates)
		}
	}
	if creates[http.StatusCreated] != len(names) {
		t.Errorf("the API created %d connections, want %d: one per resource", creates[http.StatusCreated], len(names))
	}
	t.Logf("the API answered 429 %d times; creates: %v", limited, creates)
	if n := e.remaining(t); n != 0 {
		t.Errorf("%d connections remain after destroy, want 0", n)
	}
}

// parallelResources is how many connections TestAccResilience_parallelism20 applies.
const parallelResources = 100

// TestAccResilience_parallelism20 runs the real terraform binary with the
// provider built from main.go: apply -parallelism=20 of 100 connections
// creates each exactly once, a following plan is empty, and destroy removes
// them all. terraform-plugin-testing cannot do this: terraform-exec always
// passes -parallelism=10 after any TF_CLI_ARGS_apply, and the last flag wins.
func TestAccResilience_parallelism20(t *testing.T) {
	e := newAccEnv(t)
	p := &apiProxy{holdCreates: 20, holdTimeout: 10 * time.Second}
	p.start(t, e.srv.URL)
	tf := newTerraformCLI(t, p.URL, e.srv.APIKey)
	tf.write(t, "main.tf", fmt.Sprintf(`
terraform {
  required_providers {
    mcp = { source = "mcpconn/mcp" }
  }
}

provider "mcp" {}

resource "mcp_connection" "many" {
  count          = %d
  name           = format("parallel-%%03d", count.index)
  server_url     = "https://mcp.example.com/parallel/${count.index}"
  check_on_apply = false
}
`, parallelResources))

	start := time.Now()
	tf.run(t, "apply", "-parallelism=20", "-auto-approve", "-input=false", "-no-color")
	t.Logf("apply of %d connections with -parallelism=20 took %s", parallelResources, time.Since(start).Round(time.Millisecond))

	if peak := p.peak(); peak != 20 {
		t.Errorf("at most %d creates were in flight at once, want exactly 20 (-parallelism=20)", peak)
	}
	if got := p.upstreamStatuses(kindCreate); len(got) != 1 || got[http.StatusCreated] != parallelResources {
		t.Errorf("the API answered creates with %v, want %d × 201: one POST per connection", got, parallelResources)
	}
	if err := e.holdsExactlyOnce(connectionNames("parallel", parallelResources), tf.stateIDs(t)); err != nil {
		t.Error(err)
	}

	// Reading all 100 back must agree with what apply stored.
	if code, out := tf.exec(t, "plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		t.Errorf("terraform plan after apply exited %d, want 0 (no changes):\n%s", code, out)
	}

	start = time.Now()
	tf.run(t, "destroy", "-parallelism=20", "-auto-approve", "-input=false", "-no-color")
	t.Logf("destroy took %s", time.Since(start).Round(time.Millisecond))
	if n := e.remaining(t); n != 0 {
		t.Errorf("%d connections remain after destroy, want 0", n)
	}
}

// terraformCLI runs the terraform binary in a working directory of its own,
// against a provider binary built for the test.
type terraformCLI struct {
	dir string
	env []string
}

// newTerraformCLI builds the provider and points a CLI configuration at it
// with dev_overrides, so terraform needs no init and no registry. The
// endpoint and key reach the provider through its environment fallbacks.
func newTerraformCLI(t *testing.T, endpoint, apiKey string) *terraformCLI {
	t.Helper()
	binDir := t.TempDir()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the provider: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goBin, "build", "-o", filepath.Join(binDir, "terraform-provider-mcp"), "github.com/mcpconn/terraform-provider-mcp")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of the provider: %v\n%s", err, out)
	}

	cliConfig := filepath.Join(t.TempDir(), "terraform.rc")
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n", Address, binDir)
	if err := os.WriteFile(cliConfig, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}

	// Only the child sees this configuration; TF_* settings of whoever runs
	// the tests (TF_CLI_ARGS, TF_LOG, a plugin cache) are left out.
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TF_") || k == EnvEndpoint || k == EnvAPIKey {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
		EnvEndpoint+"="+endpoint,
		EnvAPIKey+"="+apiKey,
	)
	return &terraformCLI{dir: t.TempDir(), env: env}
}

func (tf *terraformCLI) write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(tf.dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// exec runs terraform with args and returns its exit code and output.
func (tf *terraformCLI) exec(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "terraform", args...)
	cmd.Dir = tf.dir
	cmd.Env = tf.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		return exitErr.ExitCode(), out.String()
	default:
		t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out.String())
		return -1, ""
	}
}

// run is exec that fails the test unless terraform succeeds.
func (tf *terraformCLI) run(t *testing.T, args ...string) {
	t.Helper()
	if code, out := tf.exec(t, args...); code != 0 {
		t.Fatalf("terraform %s exited %d:\n%s", strings.Join(args, " "), code, out)
	}
}

// stateIDs reads the ids of the mcp_connection instances in the local state.
func (tf *terraformCLI) stateIDs(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(tf.dir, "terraform.tfstate"))
	if err != nil {
		t.Fatalf("read the state: %v", err)
	}
	var state struct {
		Resources []struct {
			Type      string `json:"type"`
			Instances []struct {
				Attributes struct {
					ID string `json:"id"`
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &state); err != nil {
		t.Fatalf("parse the state: %v", err)
	}
	ids := map[string]bool{}
	for _, r := range state.Resources {
		if r.Type != "mcp_connection" {
			continue
		}
		for _, in := range r.Instances {
			ids[in.Attributes.ID] = true
		}
	}
	return ids
}
