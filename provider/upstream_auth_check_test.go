package provider

import (
	"crypto/subtle"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// Tests of §9 end to end: Terraform, the provider, the API and its real
// health check against real MCP servers.

// startHeaderGuard serves a real MCP server behind a guard that answers
// 401 unless a request carries both headers with these values, as an API
// gateway in front of an MCP server would.
func startHeaderGuard(t *testing.T, apiKey, tenant string) string {
	t.Helper()
	upstream := mcptest.StartHTTP(t, mcptest.Config{Instructions: "behind a header guard"})
	target, err := url.Parse(upstream.HTTP.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1 // event streams pass as they come
	guard := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Api-Key")), []byte(apiKey)) != 1 || r.Header.Get("X-Tenant") != tenant {
			http.Error(w, "missing or wrong X-Api-Key or X-Tenant", http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(guard.Close)
	return guard.URL + mcptest.Path
}

// TestAccConnection_headersReachTheServer checks that the headers arrive
// where they are meant to, and that a new value arrives only with a new
// headers_wo_version: the server then refuses it, and the check says so.
func TestAccConnection_headersReachTheServer(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	mcpURL := startHeaderGuard(t, "the-right-key", "acme")
	cfg := func(key string, version int) string {
		return connectionConfig(e, "behind a guard", mcpURL, fmt.Sprintf(`
  headers_wo = {
    "X-Api-Key" = %q
    "X-Tenant"  = "acme"
  }
  headers_wo_version = %d
`, key, version))
	}
	status := func(want string) statecheck.StateCheck {
		return statecheck.ExpectKnownValue(addr, attr("status"), knownvalue.StringExact(want))
	}
	writeOnlyTest(t, e.checkDestroyed, []resource.TestStep{
		{
			Config:            cfg("the-right-key", 1),
			ConfigStateChecks: append(checkedActive("behind a header guard"), absentFromState{"the-right-key"}),
		},
		{
			// A new value without a new version is not sent.
			Config:            cfg("a-wrong-key", 1),
			ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			ConfigStateChecks: []statecheck.StateCheck{status("active")},
		},
		{
			Config:           cfg("a-wrong-key", 2),
			ConfigPlanChecks: planned(addr, plancheck.ResourceActionUpdate, absentFromPlan{"a-wrong-key"}),
			ConfigStateChecks: []statecheck.StateCheck{
				status("error"),
				statecheck.ExpectKnownValue(addr, attr("last_error_kind"), knownvalue.StringExact("auth")),
				absentFromState{"a-wrong-key"},
			},
		},
		{
			Config:            cfg("the-right-key", 3),
			ConfigStateChecks: []statecheck.StateCheck{status("active")},
		},
	})
}

// TestAccConnection_privateCA checks a server whose certificate only a
// private CA vouches for: refused with the system's roots (kind tls),
// accepted with tls.ca_bundle, refused again once tls is removed.
func TestAccConnection_privateCA(t *testing.T) {
	e := newAccEnv(t, apitest.WithProbes())
	srv := mcptest.StartHTTP(t, mcptest.Config{TLS: true, Instructions: "under a private CA"})
	// httptest's certificate is self-signed: it is its own CA.
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.HTTP.Certificate().Raw}))
	withCA := connectionConfig(e, "private CA", srv.URL, fmt.Sprintf("  tls = {\n    ca_bundle = %q\n  }\n", ca))
	without := connectionConfig(e, "private CA", srv.URL, "")
	refused := []statecheck.StateCheck{
		statecheck.ExpectKnownValue(addr, attr("status"), knownvalue.StringExact("error")),
		statecheck.ExpectKnownValue(addr, attr("last_error_kind"), knownvalue.StringExact("tls")),
		statecheck.ExpectKnownValue(addr, attr("tls"), knownvalue.Null()),
	}
	parallelTest(t, e.checkDestroyed, []resource.TestStep{
		{Config: without, ConfigStateChecks: refused},
		{
			Config: withCA,
			ConfigStateChecks: append(checkedActive("under a private CA"),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("tls").AtMapKey("ca_bundle"), knownvalue.StringExact(ca))),
		},
		importStep(addr, "check_on_apply"),
		{Config: without, ConfigStateChecks: refused},
	})
}
