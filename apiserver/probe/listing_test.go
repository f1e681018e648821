package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// field reads one string field of each raw item.
func field(t *testing.T, items []json.RawMessage, name string) []string {
	t.Helper()
	out := make([]string, 0, len(items))
	for _, it := range items {
		var m map[string]any
		if err := json.Unmarshal(it, &m); err != nil {
			t.Fatalf("item %s is not a JSON object: %v", it, err)
		}
		s, _ := m[name].(string)
		out = append(out, s)
	}
	return out
}

func seq(n int, name func(int) string) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = name(i)
	}
	return out
}

// count is how often method occurs in methods.
func count(methods []string, method string) int {
	n := 0
	for _, m := range methods {
		if m == method {
			n++
		}
	}
	return n
}

func wantKind(t *testing.T, res Result, kind contract.ErrorKind) {
	t.Helper()
	if res.ErrorKind != kind {
		t.Errorf("ErrorKind = %q, want %q (Err %q)", res.ErrorKind, kind, res.Err)
	}
}

// wantCatalog checks a listing of a Catalog server with 5 tools, 3 prompts and 4 resources.
func wantCatalog(t *testing.T, l Listing) {
	t.Helper()
	if got, want := field(t, l.Tools, "name"), seq(5, mcptest.ToolName); !slices.Equal(got, want) {
		t.Errorf("tools = %q, want %q", got, want)
	}
	if got, want := field(t, l.Prompts, "name"), seq(3, mcptest.PromptName); !slices.Equal(got, want) {
		t.Errorf("prompts = %q, want %q", got, want)
	}
	if got, want := field(t, l.Resources, "uri"), seq(4, mcptest.ResourceURI); !slices.Equal(got, want) {
		t.Errorf("resources = %q, want %q", got, want)
	}
	if l.Truncated {
		t.Error("Truncated = true, want false")
	}
}

var smallCatalog = mcptest.Catalog{Tools: 5, Prompts: 3, Resources: 4, PageSize: 2}

// Every transport and protocol generation lists all pages of all three kinds.
func TestListingEveryTransport(t *testing.T) {
	tests := []struct {
		name        string
		cfg         mcptest.Config
		sse         bool
		wantVersion string
	}{
		{"streamable 2026-07-28 stateless", mcptest.Config{}, false, mcptest.ModernVersion},
		{"streamable 2025-06-18 initialize", mcptest.Config{ProtocolVersions: []string{mcptest.LegacyVersion}, Stateful: true}, false, mcptest.LegacyVersion},
		{"sse", mcptest.Config{}, true, "2025-11-25"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := mcptest.NewCatalogServer(tc.cfg, smallCatalog)
			var hs *mcptest.Server
			target := Target{Transport: contract.TransportHTTP}
			if tc.sse {
				hs, target.Transport = mcptest.ServeSSE(t, srv, tc.cfg), contract.TransportSSE
			} else {
				hs = mcptest.ServeStreamable(t, srv, tc.cfg)
			}
			target.URL = hs.URL
			noLeaks(t)
			res := probe(t, newProber(true), target)
			wantOK(t, res)
			wantKind(t, res, "")
			if res.ProtocolVersion != tc.wantVersion {
				t.Errorf("ProtocolVersion = %q, want %q", res.ProtocolVersion, tc.wantVersion)
			}
			wantCatalog(t, res.Listing)
			// Page size 2: 3 pages of tools, 2 of prompts, 2 of resources.
			m := hs.Methods()
			for method, pages := range map[string]int{"tools/list": 3, "prompts/list": 2, "resources/list": 2} {
				if got := count(m, method); got != pages {
					t.Errorf("server saw %d %s requests, want %d (methods %q)", got, method, pages, m)
				}
			}
		})
	}

	t.Run("stdio", func(t *testing.T) {
		bin := mcptest.BuildStdioServer(t)
		noLeaks(t)
		res := probe(t, newProber(false), stdioTarget(bin, "-tools", "5", "-prompts", "3", "-resources", "4", "-page-size", "2"))
		wantOK(t, res)
		if res.ProtocolVersion != mcptest.ModernVersion {
			t.Errorf("ProtocolVersion = %q, want %q", res.ProtocolVersion, mcptest.ModernVersion)
		}
		wantCatalog(t, res.Listing)
	})
}

func TestListingManyPages(t *testing.T) {
	const n = 250
	hs := mcptest.ServeStreamable(t, mcptest.NewCatalogServer(mcptest.Config{}, mcptest.Catalog{Tools: n, PageSize: 7}), mcptest.Config{})
	res := probe(t, New(Options{Timeout: 10 * time.Second, AllowPrivate: true}), httpTarget(hs.URL))
	wantOK(t, res)
	if got, want := field(t, res.Listing.Tools, "name"), seq(n, mcptest.ToolName); !slices.Equal(got, want) {
		t.Errorf("got %d tools, want %d in order: %q", len(got), n, got)
	}
	if res.Listing.Truncated {
		t.Error("Truncated = true, want false")
	}
	if got, want := count(hs.Methods(), "tools/list"), (n+6)/7; got != want {
		t.Errorf("server saw %d tools/list requests, want %d", got, want)
	}
}

func TestListingOnlyWhatIsAdvertised(t *testing.T) {
	hs := mcptest.ServeStreamable(t, mcptest.NewCatalogServer(mcptest.Config{}, mcptest.Catalog{Tools: 1}), mcptest.Config{})
	res := probe(t, newProber(true), httpTarget(hs.URL))
	wantOK(t, res)
	if len(res.Listing.Tools) != 1 || res.Listing.Prompts != nil || res.Listing.Resources != nil {
		t.Errorf("Listing = %+v, want one tool and no prompts or resources", res.Listing)
	}
	m := hs.Methods()
	if count(m, "tools/list") != 1 || slices.Contains(m, "prompts/list") || slices.Contains(m, "resources/list") {
		t.Errorf("server saw %q, want one tools/list and no other listing", m)
	}

	none := mcptest.StartModern(t)
	res = probe(t, newProber(true), httpTarget(none.URL))
	wantOK(t, res)
	if res.Listing.Tools != nil || res.Listing.Prompts != nil || res.Listing.Resources != nil {
		t.Errorf("Listing = %+v, want nothing from a server that advertises nothing", res.Listing)
	}
	for _, m := range none.Methods() {
		if strings.HasSuffix(m, "/list") {
			t.Errorf("server that advertises nothing was asked %s", m)
		}
	}

	// Advertised but empty: listed, and empty rather than nil.
	empty := mcptest.StartScript(t, mcptest.Script{Handle: func(string, json.RawMessage) (json.RawMessage, *mcptest.RPCError) {
		return json.RawMessage(`{"tools":[]}`), nil
	}})
	res = probe(t, newProber(true), httpTarget(empty.URL))
	wantOK(t, res)
	if res.Listing.Tools == nil || len(res.Listing.Tools) != 0 {
		t.Errorf("Tools = %#v, want empty and not nil", res.Listing.Tools)
	}
}

// rawTool carries fields the SDK's mcp.Tool does not model; the listing must
// hand it on byte for byte.
const rawTool = `{"name":"vendor","description":"Has extras.","inputSchema":{"type":"object"},"x-vendor":{"risk":"high","n":[1,2.50,3]},"_meta":{"k":"v"},"unknownTop":true}`

func TestListingKeepsTheRawTool(t *testing.T) {
	other := `{"name":"plain","inputSchema":{"type":"object"}}`
	tools := "[" + rawTool + ",\n " + other + "]"
	check := func(t *testing.T, res Result) {
		t.Helper()
		wantOK(t, res)
		if len(res.Listing.Tools) != 2 || string(res.Listing.Tools[0]) != rawTool || string(res.Listing.Tools[1]) != other {
			t.Errorf("Tools = %q, want exactly %q and %q", res.Listing.Tools, rawTool, other)
		}
	}

	t.Run("http", func(t *testing.T) {
		hs := mcptest.StartScript(t, mcptest.Script{Handle: func(method string, _ json.RawMessage) (json.RawMessage, *mcptest.RPCError) {
			return json.RawMessage(`{"tools":` + tools + `}`), nil
		}})
		res := probe(t, newProber(true), httpTarget(hs.URL))
		if res.ProtocolVersion != mcptest.ScriptVersion {
			t.Errorf("ProtocolVersion = %q, want %q", res.ProtocolVersion, mcptest.ScriptVersion)
		}
		check(t, res)
	})
	t.Run("stdio", func(t *testing.T) {
		bin := mcptest.BuildStdioServer(t)
		file := filepath.Join(t.TempDir(), "tools.json")
		if err := os.WriteFile(file, []byte(tools), 0o600); err != nil {
			t.Fatal(err)
		}
		check(t, probe(t, newProber(false), stdioTarget(bin, "-tools-json", file)))
	})
}

// scriptTools serves a tools/list answered by page(cursor).
func scriptTools(t *testing.T, page func(cursor string) (string, *mcptest.RPCError)) *mcptest.Server {
	t.Helper()
	return mcptest.StartScript(t, mcptest.Script{Handle: func(method string, params json.RawMessage) (json.RawMessage, *mcptest.RPCError) {
		if method != "tools/list" {
			return nil, &mcptest.RPCError{Code: -32601, Message: "method not found"}
		}
		var p struct {
			Cursor string `json:"cursor"`
		}
		_ = json.Unmarshal(params, &p)
		res, rpcErr := page(p.Cursor)
		return json.RawMessage(res), rpcErr
	}})
}

func TestListingFailuresAreProtocol(t *testing.T) {
	tests := []struct {
		name  string
		page  func(string) (string, *mcptest.RPCError)
		parts []string
	}{
		{"json-rpc error", func(string) (string, *mcptest.RPCError) {
			return "", &mcptest.RPCError{Code: -32603, Message: "catalog database is down"}
		}, []string{"the MCP server completed the handshake but tools/list failed", "catalog database is down"}},
		{"tools not an array", func(string) (string, *mcptest.RPCError) { return `{"tools":"many"}`, nil },
			[]string{"tools/list failed"}},
		{"an item not an object", func(string) (string, *mcptest.RPCError) { return `{"tools":[null]}`, nil },
			[]string{"tools/list failed", "not a JSON object"}},
		{"invalid UTF-8", func(string) (string, *mcptest.RPCError) {
			return `{"tools":[{"name":"bad","description":"caf` + "\xff\xfe" + `","inputSchema":{"type":"object"}}]}`, nil
		}, []string{"tools/list failed", "not valid UTF-8"}},
		{"schema nested 10,001 deep", func(string) (string, *mcptest.RPCError) {
			deep := strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001)
			return `{"tools":[{"name":"deep","inputSchema":` + deep + `}]}`, nil
		}, []string{"tools/list failed"}},
		{"cursor loop", func(string) (string, *mcptest.RPCError) {
			return `{"tools":[{"name":"again","inputSchema":{"type":"object"}}],"nextCursor":"same-page"}`, nil
		}, []string{"tools/list failed", `its pagination loops: it returned the cursor "same-page" a second time`}},
		{"cursor cycle", func(c string) (string, *mcptest.RPCError) {
			next := map[string]string{"": "a", "a": "b", "b": "a"}[c]
			return `{"tools":[],"nextCursor":"` + next + `"}`, nil
		}, []string{"pagination loops", `"a"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := scriptTools(t, tc.page)
			res := probe(t, newProber(true), httpTarget(hs.URL))
			wantErr(t, res, tc.parts...)
			wantKind(t, res, contract.ErrorProtocol)
			if n := count(hs.Methods(), "tools/list"); n > 3 {
				t.Errorf("server saw %d tools/list requests, want the loop noticed at once", n)
			}
		})
	}
}

// makeTools is a raw JSON array of n small tools.
func makeTools(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"t%05d","inputSchema":{"type":"object"}}`, i)
	}
	b.WriteByte(']')
	return b.String()
}

func TestListingLimits(t *testing.T) {
	t.Run("10,000 tools from an SDK server", func(t *testing.T) {
		hs := mcptest.ServeStreamable(t, mcptest.NewCatalogServer(mcptest.Config{}, mcptest.Catalog{Tools: 10000}), mcptest.Config{})
		res := probe(t, New(Options{Timeout: 10 * time.Second, AllowPrivate: true}), httpTarget(hs.URL))
		wantOK(t, res)
		if got, want := field(t, res.Listing.Tools, "name"), seq(MaxListItems, mcptest.ToolName); !slices.Equal(got, want) || !res.Listing.Truncated {
			t.Errorf("got %d tools, truncated %v; want the first %d, truncated", len(got), res.Listing.Truncated, MaxListItems)
		}
		if n := count(hs.Methods(), "tools/list"); n != 1 {
			t.Errorf("server saw %d tools/list requests, want 1: the first page fills the limit", n)
		}
	})

	t.Run("10,000 tools on one page", func(t *testing.T) {
		all := makeTools(10000)
		hs := scriptTools(t, func(string) (string, *mcptest.RPCError) { return `{"tools":` + all + `,"nextCursor":"more"}`, nil })
		res := probe(t, newProber(true), httpTarget(hs.URL))
		wantOK(t, res)
		if len(res.Listing.Tools) != MaxListItems || !res.Listing.Truncated {
			t.Errorf("got %d tools, truncated %v; want %d, truncated", len(res.Listing.Tools), res.Listing.Truncated, MaxListItems)
		}
	})

	t.Run("exactly 1,000 tools is not truncated", func(t *testing.T) {
		all := makeTools(MaxListItems)
		hs := scriptTools(t, func(string) (string, *mcptest.RPCError) { return `{"tools":` + all + `}`, nil })
		res := probe(t, newProber(true), httpTarget(hs.URL))
		wantOK(t, res)
		if len(res.Listing.Tools) != MaxListItems || res.Listing.Truncated {
			t.Errorf("got %d tools, truncated %v; want %d, not truncated", len(res.Listing.Tools), res.Listing.Truncated, MaxListItems)
		}
	})

	t.Run("4 MiB in all", func(t *testing.T) {
		big := strings.Repeat("d", 1500<<10)
		tool := func(i int) string {
			return `{"name":"big` + strconv.Itoa(i) + `","description":"` + big + `","inputSchema":{"type":"object"}}`
		}
		hs := scriptTools(t, func(string) (string, *mcptest.RPCError) {
			return `{"tools":[` + tool(0) + `,` + tool(1) + `,` + tool(2) + `]}`, nil
		})
		res := probe(t, New(Options{Timeout: 10 * time.Second, AllowPrivate: true}), httpTarget(hs.URL))
		wantOK(t, res)
		if got := field(t, res.Listing.Tools, "name"); !slices.Equal(got, []string{"big0", "big1"}) || !res.Listing.Truncated {
			t.Errorf("got tools %q, truncated %v; want big0 and big1 (3 MiB), truncated", got, res.Listing.Truncated)
		}
	})

	t.Run("a 50 MiB description", func(t *testing.T) {
		huge := `{"tools":[{"name":"huge","description":"` + strings.Repeat("x", 50<<20) + `","inputSchema":{"type":"object"}}]}`
		hs := scriptTools(t, func(string) (string, *mcptest.RPCError) { return huge, nil })
		start := time.Now()
		res := probe(t, New(Options{Timeout: 10 * time.Second, AllowPrivate: true}), httpTarget(hs.URL))
		wantErr(t, res, "the MCP server completed the handshake but its tools/list answer is larger than 8 MiB")
		wantKind(t, res, contract.ErrorProtocol)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the check took %v", d)
		}
	})

	t.Run("endless fresh cursors", func(t *testing.T) {
		hs := scriptTools(t, func(c string) (string, *mcptest.RPCError) {
			n, _ := strconv.Atoi(strings.TrimPrefix(c, "p"))
			return fmt.Sprintf(`{"tools":[{"name":"t%d","inputSchema":{"type":"object"}}],"nextCursor":"p%d"}`, n, n+1), nil
		})
		res := probe(t, New(Options{Timeout: 10 * time.Second, AllowPrivate: true}), httpTarget(hs.URL))
		wantOK(t, res)
		if len(res.Listing.Tools) != MaxListPages || !res.Listing.Truncated {
			t.Errorf("got %d tools, truncated %v; want %d (one a page), truncated", len(res.Listing.Tools), res.Listing.Truncated, MaxListPages)
		}
		if n := count(hs.Methods(), "tools/list"); n != MaxListPages {
			t.Errorf("server saw %d tools/list requests, want %d", n, MaxListPages)
		}
	})

	t.Run("stdio: 10,000 tools", func(t *testing.T) {
		bin := mcptest.BuildStdioServer(t)
		file := filepath.Join(t.TempDir(), "tools.json")
		if err := os.WriteFile(file, []byte(makeTools(10000)), 0o600); err != nil {
			t.Fatal(err)
		}
		res := probe(t, New(Options{Timeout: 10 * time.Second, StdioTerminateDelay: 100 * time.Millisecond}), stdioTarget(bin, "-tools-json", file))
		wantOK(t, res)
		if len(res.Listing.Tools) != MaxListItems || !res.Listing.Truncated {
			t.Errorf("got %d tools, truncated %v; want %d, truncated", len(res.Listing.Tools), res.Listing.Truncated, MaxListItems)
		}
	})
}

// A listing that runs out of time says which listing it was.
func TestListingTimeout(t *testing.T) {
	release := make(chan struct{})
	hs := mcptest.StartScript(t, mcptest.Script{Handle: func(string, json.RawMessage) (json.RawMessage, *mcptest.RPCError) {
		<-release
		return json.RawMessage(`{"tools":[]}`), nil
	}})
	// Cleanups run last-in first-out: release the handler before the server's Close waits for it.
	t.Cleanup(func() { close(release) })
	res := probe(t, newProber(true), httpTarget(hs.URL))
	wantErr(t, res, "completed the MCP handshake but did not answer tools/list within "+testTimeout.String())
	wantKind(t, res, contract.ErrorTimeout)
}

// The wire problem of a listing outranks the step: a tools/list answered
// with HTTP 503 by a stateful server is server_error, although the session's
// closing DELETE is answered fine afterwards.
func TestListingHTTPFailureKeepsItsKind(t *testing.T) {
	for _, tc := range []struct {
		status int
		kind   contract.ErrorKind
		part   string
	}{
		{http.StatusServiceUnavailable, contract.ErrorServer, "HTTP 503 Service Unavailable"},
		{http.StatusForbidden, contract.ErrorAuth, "HTTP 403 Forbidden"},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			srv := mcptest.NewCatalogServer(mcptest.Config{ProtocolVersions: []string{mcptest.LegacyVersion}}, mcptest.Catalog{Tools: 1})
			sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil)
			hs := mcptest.ServeHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					var body bytes.Buffer
					_, _ = body.ReadFrom(r.Body)
					if strings.Contains(body.String(), `"tools/list"`) {
						http.Error(w, "not now", tc.status)
						return
					}
					r.Body = readCloser{&body}
				}
				sdk.ServeHTTP(w, r)
			}))
			res := probe(t, newProber(true), httpTarget(hs.URL))
			wantErr(t, res, tc.part)
			wantKind(t, res, tc.kind)
			if m := hs.Requests(); len(m) == 0 || m[len(m)-1].Method != http.MethodDelete {
				t.Errorf("the session was not closed with a DELETE: %+v", m)
			}
		})
	}
}

type readCloser struct{ *bytes.Buffer }

func (readCloser) Close() error { return nil }
