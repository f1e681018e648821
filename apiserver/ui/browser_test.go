package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// RequireBrowserEnv, set to 1 (make test does), turns a missing Chromium
// into a failure: there the setup (scripts/ensure-chromium.sh) installs
// it, so its absence is a broken setup, not a reason to pass.
const RequireBrowserEnv = "MCP_TEST_REQUIRE_BROWSER"

// hostile is markup that would run, or at least show as bold, if the page
// ever parsed record data as HTML.
const hostile = `<script>window.pwned=1</script><img src=x onerror="window.pwned=2"><b>bold</b>`

// chromium is the browser binary: $CHROMIUM, else Debian's.
func chromium(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("CHROMIUM")
	if bin == "" {
		bin = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(bin); err != nil {
		msg := fmt.Sprintf("no Chromium at %s (%v): run scripts/ensure-chromium.sh, or set CHROMIUM to a Chromium binary", bin, err)
		if os.Getenv(RequireBrowserEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg + "; " + RequireBrowserEnv + "=1 makes this a failure, as in make test")
	}
	return bin
}

// artifacts is the folder screenshots go to: $ARTIFACTS_DIR/ui, else
// testdata/artifacts (git-ignored).
func artifacts(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("testdata", "artifacts")
	if d := os.Getenv("ARTIFACTS_DIR"); d != "" {
		dir = filepath.Join(d, "ui")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser drives one headless Chromium tab; every wait is bounded by the
// test's overall deadline only, never by a time of its own.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string
	// exceptions gathers the uncaught JavaScript errors of the page
	exceptions chan string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin := chromium(t)
	// the deadline turns a hang into a failure; the steps take seconds
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	b := &browser{t: t, ctx: tabCtx, shots: artifacts(t), exceptions: make(chan string, 100)}
	// starts the browser, then listens before any page loads
	if err := chromedp.Do(tabCtx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		for ev, err := range chromedp.Events(tabCtx, runtime.ExceptionThrown) {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := fmt.Sprintf("%s at %s:%d:%d", d.Text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
			if d.Exception != nil && d.Exception.Description != "" {
				msg += ": " + d.Exception.Description
			}
			select {
			case b.exceptions <- msg:
			default:
			}
		}
	}()
	// a policy violation (an inline script or style, a load from
	// elsewhere) is recorded where the test can read it
	if _, err := chromedp.Call(tabCtx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__violations = []; document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));`,
	}); err != nil {
		t.Fatalf("install the policy listener: %v", err)
	}
	return b
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until a JavaScript expression is truthy.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil {
		body, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		b.t.Fatalf("waiting for %s (%s): %v\npage text:\n%s", what, expr, err, body)
	}
}

// text is the textContent of the element sel selects.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%s) || {textContent: %s}).textContent`, js(sel), js("<no element "+sel+">")))
}

// screenshot saves the whole page as name.png at the current width.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

// phone and desktop are the widths the screenshots are taken at.
func (b *browser) phone()   { b.do("phone width", chromedp.EmulateViewport(390, 844)) }
func (b *browser) desktop() { b.do("desktop width", chromedp.EmulateViewport(1280, 900)) }

// fitsWidth fails the test when the page scrolls sideways.
func (b *browser) fitsWidth(where string) {
	b.t.Helper()
	if wide := eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth`); wide {
		w := eval[int](b, `document.documentElement.scrollWidth`)
		b.t.Errorf("%s: the page is %d px wide at a viewport of %d px: it scrolls sideways", where, w, eval[int](b, `window.innerWidth`))
	}
}

// clean fails the test on an uncaught script error or a blocked load.
func (b *browser) clean(where string) {
	b.t.Helper()
	for {
		select {
		case e := <-b.exceptions:
			b.t.Errorf("%s: uncaught JavaScript error: %s", where, e)
			continue
		default:
		}
		break
	}
	if v := eval[[]string](b, `window.__violations || []`); len(v) > 0 {
		b.t.Errorf("%s: Content-Security-Policy violations: %v", where, v)
	}
	if eval[bool](b, `window.pwned !== undefined`) {
		b.t.Errorf("%s: record data ran as script (window.pwned = %v)", where, eval[any](b, `window.pwned`))
	}
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}

// card selects the overview's card of a record.
func card(id string) string { return fmt.Sprintf(`[data-id=%s]`, js(id)) }

// closedURL is an MCP URL on a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr + mcptest.Path
}

// records is what the browser test arranges through the API.
type records struct {
	healthy, failing, hostile *contract.Connection
	server                    *contract.Server
	agent                     *contract.Agent
}

func arrange(t *testing.T, s *apitest.Server, c *client.Client) records {
	t.Helper()
	ctx := context.Background()
	mcpSrv := mcptest.NewCatalogServer(mcptest.Config{Name: "weather"}, mcptest.Catalog{Tools: 2})
	mcptest.AddEchoTool(mcpSrv, "annotate", "Describes things. "+hostile)
	up := mcptest.ServeStreamable(t, mcpSrv, mcptest.Config{})

	var r records
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	r.healthy, err = c.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "weather", ServerURL: up.URL})
	must(err)
	r.healthy, err = c.CheckConnection(ctx, r.healthy.ID)
	must(err)
	if r.healthy.Status != contract.ConnectionActive {
		t.Fatalf("the healthy connection's check failed: %v", r.healthy.LastError)
	}
	r.failing, err = c.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "billing", ServerURL: closedURL(t)})
	must(err)
	r.failing, err = c.CheckConnection(ctx, r.failing.ID)
	must(err)
	if r.failing.Status != contract.ConnectionError || r.failing.LastError == nil || r.failing.LastErrorKind == nil {
		t.Fatalf("the failing connection's check: status %s, error %v", r.failing.Status, r.failing.LastError)
	}
	r.hostile, err = c.CreateConnection(ctx, contract.CreateConnectionRequest{Name: hostile, ServerURL: closedURL(t)})
	must(err)

	// a server whose catalog changes after it was approved: drift
	searchSrv := mcptest.NewCatalogServer(mcptest.Config{Name: "search"}, mcptest.Catalog{Tools: 1})
	search := mcptest.ServeStreamable(t, searchSrv, mcptest.Config{})
	p, err := c.CreateProject(ctx, contract.CreateProjectRequest{Name: "search"})
	must(err)
	r.server, err = c.CreateServer(ctx, contract.CreateServerRequest{ProjectID: p.ID, Name: "search-server", URL: new(search.URL)})
	must(err)
	s.ServerChecker.Wait() // its first check runs in the background
	r.server, err = c.GetServer(ctx, r.server.ID)
	must(err)
	if r.server.ToolsHash == nil {
		t.Fatalf("the server's first check found no catalog: %v", r.server.LastError)
	}
	_, err = c.UpdateServer(ctx, r.server.ID, contract.UpdateServerRequest{ApprovedToolsHash: r.server.ToolsHash})
	must(err)
	mcptest.AddEchoTool(searchSrv, "search-more", "A tool nobody approved.")
	r.server, err = c.ConnectServer(ctx, r.server.ID)
	must(err)
	if !r.server.ToolsDrift {
		t.Fatalf("the server's changed catalog is not drift: toolsHash %v, approved %v", r.server.ToolsHash, r.server.ApprovedToolsHash)
	}

	r.agent, err = c.CreateAgent(ctx, contract.CreateAgentRequest{Name: "assistant", Assignments: []contract.Assignment{
		{ConnectionID: &r.healthy.ID}, {ConnectionID: &r.failing.ID},
	}})
	must(err)
	return r
}

// TestStatusPageInChromium drives the status page in headless Chromium
// against the real API: a wrong key, signing in with Enter, the overview
// with a healthy and a failing record, a record's page with its tools,
// hostile record data shown as text, the page refreshing itself, phone
// width, and signing out.
func TestStatusPageInChromium(t *testing.T) {
	b := newBrowser(t)
	s := apitest.Start(t, apitest.WithProbes())
	c, err := client.New(s.URL, s.APIKey, client.WithRetryMax(0))
	if err != nil {
		t.Fatal(err)
	}
	r := arrange(t, s, c)

	b.do("open the page", chromedp.Navigate(s.URL+"/ui/"))
	b.waitFor("the sign-in form", `!document.getElementById("signin").hidden`)
	b.screenshot("signin-desktop")

	// a wrong key: a clear message and nothing else
	b.do("send a wrong key", chromedp.SendKeys(chromedp.ID("apikey"), "mcpk_wrong_key"+kb.Enter))
	b.waitFor("the wrong-key message", `!document.getElementById("signin-error").hidden`)
	if msg := b.text("#signin-error"); !strings.Contains(msg, "API key was not accepted") || !strings.Contains(msg, "invalid API key") {
		t.Errorf("wrong key: message %q, want it to say the key was not accepted and why", msg)
	}
	if eval[bool](b, `!document.getElementById("main").hidden || document.getElementById("main").childElementCount > 0`) {
		t.Error("wrong key: records are shown")
	}
	if n := eval[int](b, `sessionStorage.length`); n != 0 {
		t.Errorf("wrong key: sessionStorage holds %d items, want none", n)
	}
	b.screenshot("wrong-key-desktop")

	// the right key, submitted with Enter
	b.do("sign in", chromedp.SendKeys(chromedp.ID("apikey"), s.APIKey+kb.Enter))
	b.waitFor("the overview", fmt.Sprintf(`document.querySelector(%s) && document.querySelector(%s)`,
		js(card(r.failing.ID)), js(card(r.agent.ID))))
	if got := eval[string](b, `sessionStorage.getItem("mcp-api-key")`); got != s.APIKey {
		t.Errorf("sessionStorage holds %q, want the key signed in with", got)
	}
	if n := eval[int](b, `localStorage.length`); n != 0 {
		t.Errorf("localStorage holds %d items: the key must live in sessionStorage only", n)
	}

	healthy := b.text(card(r.healthy.ID))
	for _, want := range []string{"weather", "active", "3 tools"} {
		if !strings.Contains(healthy, want) {
			t.Errorf("healthy card %q lacks %q", healthy, want)
		}
	}
	if n := eval[int](b, fmt.Sprintf(`document.querySelectorAll(%s).length`, js(card(r.healthy.ID)+" .tick.tone-ok"))); n != 1 {
		t.Errorf("healthy card: %d passed marks in its strip of checks, want 1", n)
	}
	failing := b.text(card(r.failing.ID))
	for _, want := range []string{"billing", "error", string(*r.failing.LastErrorKind), *r.failing.LastError} {
		if !strings.Contains(failing, want) {
			t.Errorf("failing card %q lacks %q", failing, want)
		}
	}
	if n := eval[int](b, fmt.Sprintf(`document.querySelectorAll(%s).length`, js(card(r.failing.ID)+" .tick.tone-error"))); n != 1 {
		t.Errorf("failing card: %d failed marks in its strip of checks, want 1", n)
	}
	server := b.text(card(r.server.ID))
	for _, want := range []string{"search-server", string(r.server.Status), "2 tools", "catalog changed"} {
		if !strings.Contains(server, want) {
			t.Errorf("server card %q lacks %q", server, want)
		}
	}
	if n := eval[int](b, fmt.Sprintf(`document.querySelectorAll(%s).length`, js(card(r.server.ID)+" .tick"))); n != 2 {
		t.Errorf("server card: %d marks in its strip of checks, want 2", n)
	}
	if strings.Contains(healthy, "catalog changed") {
		t.Errorf("healthy card %q has a drift badge, though it has no approved catalog", healthy)
	}
	if agent := b.text(card(r.agent.ID)); !strings.Contains(agent, "1 of 2 failing") || !strings.Contains(agent, *r.failing.LastError) {
		t.Errorf("agent card %q does not say that one of its records fails and why", agent)
	}

	// the colours come from style.css, which the policy let load
	for id, want := range map[string]string{r.healthy.ID: "rgb(26, 127, 55)", r.failing.ID: "rgb(207, 34, 46)"} {
		if got := eval[string](b, fmt.Sprintf(`getComputedStyle(document.querySelector(%s)).backgroundColor`, js(card(id)+" .dot"))); got != want {
			t.Errorf("status colour of %s: %s, want %s", id, got, want)
		}
	}

	// hostile data is text: the exact string shows, no element was made of it
	hostileName := b.text(card(r.hostile.ID) + " .name")
	if hostileName != hostile {
		t.Errorf("hostile name shown as %q, want the text %q", hostileName, hostile)
	}
	if n := eval[int](b, `document.querySelectorAll("#main script, #main img, #main b").length`); n != 0 {
		t.Errorf("%d elements were made of record data", n)
	}
	b.clean("overview")
	b.fitsWidth("overview at desktop width")
	b.screenshot("overview-desktop")
	b.phone()
	b.fitsWidth("overview at phone width")
	b.screenshot("overview-phone")
	b.desktop()

	// the page refreshes itself: a record created now appears unasked
	late, err := c.CreateConnection(context.Background(), contract.CreateConnectionRequest{Name: "late", ServerURL: closedURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	b.waitFor("the refresh to show a new record", fmt.Sprintf(`document.querySelector(%s)`, js(card(late.ID))))

	// a record's page: catalog, history, catalog changes
	b.do("open the healthy record", chromedp.Click(chromedp.CSS(card(r.healthy.ID)+" a.name")))
	b.waitFor("the record page", `document.getElementById("record-tools")`)
	if got := eval[string](b, `location.hash`); got != "#/connections/"+r.healthy.ID {
		t.Errorf("record page at %q, want #/connections/%s", got, r.healthy.ID)
	}
	cat, err := c.GetConnectionCatalog(context.Background(), r.healthy.ID)
	if err != nil {
		t.Fatal(err)
	}
	tools := b.text("#record-tools")
	for _, tool := range cat.Tools {
		if !strings.Contains(tools, tool.Name) || !strings.Contains(tools, tool.Description) {
			t.Errorf("tools table %q lacks tool %s or its description %q", tools, tool.Name, tool.Description)
		}
	}
	if n := eval[int](b, `document.querySelectorAll("#record-tools tbody tr").length`); n != len(cat.Tools) {
		t.Errorf("tools table has %d rows, want %d", n, len(cat.Tools))
	}
	if n := eval[int](b, `document.querySelectorAll("#record-checks tbody tr").length`); n != 1 {
		t.Errorf("check history has %d rows, want 1", n)
	}
	changes, err := c.ListAllConnectionCatalogChanges(context.Background(), r.healthy.ID, client.PageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) > 0 {
		if n := eval[int](b, `document.querySelectorAll("#record-changes tbody tr").length`); n != len(changes) {
			t.Errorf("catalog changes table has %d rows, want %d", n, len(changes))
		}
	} else if got := b.text("#record-changes"); got != "No catalog changes." {
		t.Errorf("catalog changes %q, want the note that there are none", got)
	}
	if n := eval[int](b, `document.querySelectorAll("#main script, #main img, #main b").length`); n != 0 {
		t.Errorf("record page: %d elements were made of record data", n)
	}
	b.clean("record page")
	b.fitsWidth("record page at desktop width")
	b.screenshot("record-desktop")
	b.phone()
	b.fitsWidth("record page at phone width")
	b.screenshot("record-phone")
	b.desktop()

	// the failing record's page says why
	b.do("open the failing record", chromedp.Navigate(s.URL+"/ui/#/connections/"+r.failing.ID))
	b.waitFor("the failing record page", fmt.Sprintf(`(document.getElementById("record-name") || {}).textContent === %s`, js(r.failing.Name)))
	if got := b.text("#main"); !strings.Contains(got, *r.failing.LastError) || !strings.Contains(got, "No catalog yet") {
		t.Errorf("failing record page %q lacks its error or the note that it has no catalog", got)
	}

	// the agent's page lists its assignments
	b.do("open the agent", chromedp.Navigate(s.URL+"/ui/#/agents/"+r.agent.ID))
	b.waitFor("the agent page", fmt.Sprintf(`(document.getElementById("record-name") || {}).textContent === %s`, js(r.agent.Name)))
	if got := b.text("#agent-assignments"); !strings.Contains(got, "weather") || !strings.Contains(got, "billing") {
		t.Errorf("agent assignments %q lack its two records", got)
	}
	b.clean("agent page")

	// signing out forgets the key and shows nothing but the form
	b.do("sign out", chromedp.Click(chromedp.ID("signout")))
	b.waitFor("the sign-in form after signing out", `!document.getElementById("signin").hidden`)
	if n := eval[int](b, `sessionStorage.length`); n != 0 {
		t.Errorf("after signing out sessionStorage holds %d items, want none", n)
	}
	if n := eval[int](b, `document.getElementById("main").childElementCount`); n != 0 {
		t.Errorf("after signing out %d record elements are left in the page", n)
	}
	b.do("reload", chromedp.Navigate(s.URL+"/ui/"))
	b.waitFor("the sign-in form after a reload", `!document.getElementById("signin").hidden`)
	b.clean("signed out")
	b.screenshot("signed-out-desktop")
}
