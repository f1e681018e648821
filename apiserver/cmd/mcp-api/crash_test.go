package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets/infisicalfake"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
	"github.com/mcpconn/terraform-provider-mcp/internal/crashpoint"
	"github.com/mcpconn/terraform-provider-mcp/internal/logbuf"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/poll"
)

// infisicalEnv is serveEnv with the secrets in fake f.
func infisicalEnv(t *testing.T, f *infisicalfake.Fake) map[string]string {
	env := serveEnv(t)
	o := f.Options()
	for k, v := range map[string]string{
		secrets.EnvBackend: secrets.BackendInfisical, secrets.EnvInfisicalURL: f.URL,
		secrets.EnvInfisicalClientID: o.ClientID, secrets.EnvInfisicalClientSecret: o.ClientSecret,
		secrets.EnvInfisicalProjectID: o.ProjectID, secrets.EnvInfisicalEnvironment: o.Environments[0],
		secrets.EnvInfisicalSecretPath: "/mcp-api",
	} {
		env[k] = v
	}
	return env
}

// child is this test binary run as an mcp-api command in a process of its
// own, which a crash point can kill.
type child struct {
	cmd  *exec.Cmd
	out  *logbuf.Buffer
	url  string
	done chan error
}

// startChild runs args (serve gets a free --listen address) with env and
// crashpoint.Env set to crashAt.
func startChild(t *testing.T, env map[string]string, crashAt string, args ...string) *child {
	t.Helper()
	c := &child{out: &logbuf.Buffer{}, done: make(chan error, 1)}
	if args[0] == "serve" {
		addr := mcptest.ClosedAddr(t)
		args = append(args, "--listen", addr)
		c.url = "http://" + addr
	}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), serveArgsEnv+"="+strings.Join(args, " "), crashpoint.Env+"="+crashAt)
	for k, v := range env {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		err := <-c.done
		c.done <- err
	})
	if c.url != "" {
		ok := poll.Until(90*time.Second, 20*time.Millisecond, func() bool {
			resp, err := http.Get(c.url + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		if !ok {
			t.Fatalf("%v did not come up:\n%s", args, c.out)
		}
	}
	return c
}

// killed waits for the child to die by its crash point.
func (c *child) killed(t *testing.T) {
	t.Helper()
	select {
	case err := <-c.done:
		c.done <- err
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
			t.Fatalf("the process ended with %v, want killed by SIGKILL; output:\n%s", err, c.out)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the process did not crash; output:\n%s", c.out)
	}
}

// stop ends a child that was not meant to crash.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	err := <-c.done
	c.done <- err
}

// sendRaw sends a request that the child may die answering; the error is the
// point.
func sendRaw(method, u, key, body string) (int, string, error) {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// rowNames are the Infisical secret names rows point at, and how many
// stored secrets are not in Infisical.
func rowNames(t *testing.T, st *store.Store) (names []string, builtin int) {
	t.Helper()
	err := st.EachStoredSecret(context.Background(), func(s store.StoredSecret) error {
		if !secrets.External(s.Ref.KeyID) {
			builtin++
			return nil
		}
		v, err := url.ParseQuery(string(s.Ref.Data))
		if err != nil {
			return err
		}
		names = append(names, v.Get("name"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names, builtin
}

func fakeNames(f *infisicalfake.Fake) []string {
	var names []string
	for _, s := range f.Secrets() {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

func openTestStore(t *testing.T, env map[string]string) *store.Store {
	t.Helper()
	st, err := store.Open(env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// cleanedUp runs serve's cleanup worker (a replica with no grace for
// unfinished writes) until Infisical holds exactly the secrets rows point
// at, and fails if it never does.
func cleanedUp(t *testing.T, env map[string]string, f *infisicalfake.Fake, st *store.Store) {
	t.Helper()
	worker := map[string]string{envSecretCleanupGrace: "0s", envSecretCleanupInterval: "50ms"}
	for k, v := range env {
		worker[k] = v
	}
	c := startChild(t, worker, "", "serve", "--no-scheduler")
	defer c.stop()
	var rows, held []string
	ok := poll.Until(90*time.Second, 50*time.Millisecond, func() bool {
		rows, _ = rowNames(t, st)
		held = fakeNames(f)
		q, err := st.SecretCleanups(context.Background())
		return err == nil && len(q) == 0 && slices.Equal(rows, held)
	})
	if !ok {
		t.Fatalf("after cleanup Infisical holds %v, rows point at %v; worker output:\n%s", held, rows, c.out)
	}
}

// TestCrashBetweenSecretAndRow kills serve at each step of a secret write
// and shows that no row points at a missing secret and that, once the
// cleanup worker has run, Infisical holds no secret no row points at.
func TestCrashBetweenSecretAndRow(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	env := infisicalEnv(t, f)
	key := env["MCP_API_BOOTSTRAP_KEY"]
	// The first serve migrates and creates the tenant.
	base := startChild(t, env, "", "serve", "--no-scheduler")
	st := openTestStore(t, env)
	create := `{"name":"%s","serverUrl":"https://mcp.example.com/mcp","authType":"bearer","bearerToken":"token-%s","headers":{"X-Api-Key":"key-%s"}}`
	code, body, err := sendRaw(http.MethodPost, base.url+"/api/mcp-connections", key, fmt.Sprintf(create, "kept", "kept", "kept"))
	if err != nil || code != http.StatusCreated {
		t.Fatalf("create: %d %s %v", code, body, err)
	}
	var kept struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &kept); err != nil {
		t.Fatal(err)
	}
	base.stop()

	for _, step := range []string{secrets.CrashAfterPend, secrets.CrashAfterPut} {
		t.Run("create/"+step, func(t *testing.T) {
			c := startChild(t, env, step, "serve", "--no-scheduler")
			if code, body, err := sendRaw(http.MethodPost, c.url+"/api/mcp-connections", key, fmt.Sprintf(create, step, step, step)); err == nil {
				t.Fatalf("the create was answered (%d %s), want the process killed", code, body)
			}
			c.killed(t)
			if rows, builtin := rowNames(t, st); len(rows) != 2 || builtin != 0 {
				t.Fatalf("after the crash rows point at %v (and %d builtin secrets), want only the first connection's two", rows, builtin)
			}
			q, err := st.SecretCleanups(context.Background())
			if err != nil || len(q) != 1 || !q[0].Pending {
				t.Fatalf("after the crash the cleanup queue holds %+v (%v), want the pending secret", q, err)
			}
			if held, want := len(fakeNames(f)), map[string]int{secrets.CrashAfterPend: 2, secrets.CrashAfterPut: 3}[step]; held != want {
				t.Fatalf("after the crash Infisical holds %d secrets, want %d", held, want)
			}
			cleanedUp(t, env, f, st)
		})
	}

	t.Run("update/after-row", func(t *testing.T) {
		before := fakeNames(f)
		c := startChild(t, env, secrets.CrashAfterRow, "serve", "--no-scheduler")
		if _, _, err := sendRaw(http.MethodPatch, c.url+"/api/mcp-connections/"+kept.ID, key, `{"bearerToken":"token-changed"}`); err == nil {
			t.Fatal("the update was answered, want the process killed")
		}
		c.killed(t)
		rows, _ := rowNames(t, st)
		held := fakeNames(f)
		for _, r := range rows {
			if !slices.Contains(held, r) {
				t.Fatalf("row points at secret %s, which Infisical does not hold (%v)", r, held)
			}
		}
		if len(held) != len(before)+1 {
			t.Fatalf("Infisical holds %v, want the old secrets and the new token (%v before)", held, before)
		}
		cleanedUp(t, env, f, st)
	})

	t.Run("delete/after-row", func(t *testing.T) {
		c := startChild(t, env, secrets.CrashAfterRow, "serve", "--no-scheduler")
		if _, _, err := sendRaw(http.MethodDelete, c.url+"/api/mcp-connections/"+kept.ID, key, ""); err == nil {
			t.Fatal("the delete was answered, want the process killed")
		}
		c.killed(t)
		cleanedUp(t, env, f, st)
		if held := fakeNames(f); len(held) != 0 {
			t.Fatalf("after the delete and cleanup Infisical holds %v", held)
		}
	})
}
