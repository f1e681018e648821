package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets/infisicalfake"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
)

// TestServeGatewayWithInfisicalDown: serve with MCP_API_SECRET_BACKEND=
// infisical keeps the secrets it wrote in memory, so a proxied server
// whose upstream wants its bearer token still answers through the gateway
// while Infisical is down, and /readyz stays ready saying degraded.
func TestServeGatewayWithInfisicalDown(t *testing.T) {
	f := infisicalfake.New(t, infisicalfake.Options{})
	env := infisicalEnv(t, f)
	env["MCP_API_ALLOW_PRIVATE_TARGETS"] = "true"
	key := env["MCP_API_BOOTSTRAP_KEY"]
	upstream := mcptest.StartHTTP(t, mcptest.Config{Name: "guarded", Tools: true, BearerToken: "upstream-token-4411"})
	s := startServe(t, env, "--no-scheduler")

	var project struct {
		Project struct{ ID string } `json:"project"`
	}
	if err := json.Unmarshal([]byte(post(t, s.url+"/api/projects", key, `{"name":"gw"}`)), &project); err != nil {
		t.Fatal(err)
	}
	var srv struct {
		Server struct {
			GatewayURL string `json:"gatewayUrl"`
		} `json:"server"`
	}
	body := post(t, s.url+"/api/mcp/servers", key, `{"projectId":"`+project.Project.ID+`","name":"guarded","url":"`+upstream.URL+
		`","connectionType":"proxy","bearerToken":"upstream-token-4411"}`)
	if err := json.Unmarshal([]byte(body), &srv); err != nil || srv.Server.GatewayURL == "" {
		t.Fatalf("create: %s (%v)", body, err)
	}
	if len(f.Secrets()) != 1 {
		t.Fatalf("Infisical holds %d secrets, want the token", len(f.Secrets()))
	}

	f.SetDown(true)
	if body := get(t, s.url+"/readyz", "", http.StatusOK); !strings.Contains(body, `"status":"degraded"`) {
		t.Fatalf("/readyz with Infisical down: %s", body)
	}
	ctx := context.Background()
	session := connectThroughGateway(t, ctx, "infisical-down", srv.Server.GatewayURL, key)
	defer session.Close()
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "still here"}})
	if err != nil || res.IsError {
		t.Fatalf("call through the gateway with Infisical down: %+v, %v", res, err)
	}
}
