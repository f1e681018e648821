package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestRateLimitConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://postgres@127.0.0.1:1/x?sslmode=disable", "MCP_API_SECRET_KEY": newSecretKey(t)}
	tests := []struct {
		name         string
		limit, burst string
		want         string
	}{
		{"not a number", "fast", "", `MCP_API_RATE_LIMIT must be a number of requests per second per tenant, such as 20 or 0.5 (0 or unset: no limit), got "fast"`},
		{"negative", "-1", "", "MCP_API_RATE_LIMIT must be a number"},
		{"infinite", "Inf", "", "MCP_API_RATE_LIMIT must be a number"},
		{"fractional burst", "10", "1.5", `MCP_API_RATE_BURST must be a whole number of requests of at least 1, got "1.5"`},
		{"zero burst", "10", "0", "MCP_API_RATE_BURST must be a whole number"},
		{"burst alone", "", "5", "MCP_API_RATE_BURST is set but MCP_API_RATE_LIMIT is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"MCP_API_RATE_LIMIT": tt.limit, "MCP_API_RATE_BURST": tt.burst}
			for k, v := range base {
				env[k] = v
			}
			r := runCmd(t, env, "serve")
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if line := oneLine(t, "stderr", r.stderr); !strings.Contains(line, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", line, tt.want)
			}
		})
	}

	// The gateway's pair reads alike.
	for _, tt := range []struct{ limit, burst, want string }{
		{"fast", "", `MCP_API_GATEWAY_RATE_LIMIT must be a number of requests per second per agent, such as 20 or 0.5 (0 or unset: no limit), got "fast"`},
		{"10", "0", `MCP_API_GATEWAY_RATE_BURST must be a whole number of requests of at least 1, got "0"`},
		{"", "5", "MCP_API_GATEWAY_RATE_BURST is set but MCP_API_GATEWAY_RATE_LIMIT is not"},
	} {
		env := map[string]string{"MCP_API_GATEWAY_RATE_LIMIT": tt.limit, "MCP_API_GATEWAY_RATE_BURST": tt.burst}
		for k, v := range base {
			env[k] = v
		}
		r := runCmd(t, env, "serve")
		if line := oneLine(t, "stderr", r.stderr); r.code != 2 || !strings.Contains(line, tt.want) {
			t.Errorf("exit %d, stderr = %q, want 2 and %q", r.code, line, tt.want)
		}
	}

	r := runCmd(t, nil, "serve", "--help")
	for _, want := range []string{"MCP_API_RATE_LIMIT", "MCP_API_RATE_BURST", "MCP_API_GATEWAY_RATE_LIMIT", "MCP_API_GATEWAY_RATE_BURST"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("serve --help lacks %s:\n%s", want, r.stdout)
		}
	}
}

// TestServeRateLimit checks the variables reach the server: one request per
// 100s per tenant is a rate no test run can outpace by accident.
func TestServeRateLimit(t *testing.T) {
	env := serveEnv(t)
	env["MCP_API_RATE_LIMIT"] = "0.01"
	env["MCP_API_RATE_BURST"] = "2"
	s := startServe(t, env, "--no-scheduler")
	key := env["MCP_API_BOOTSTRAP_KEY"]
	get(t, s.url+"/api/mcp-connections", key, http.StatusOK)
	get(t, s.url+"/api/mcp-connections", key, http.StatusOK)
	body := get(t, s.url+"/api/mcp-connections", key, http.StatusTooManyRequests)
	if !strings.Contains(body, "rate limit exceeded: 0.01 requests per second per tenant; retry after 100s") {
		t.Errorf("429 body %s", body)
	}
	get(t, s.url+"/readyz", "", http.StatusOK)
}
