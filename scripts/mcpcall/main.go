// Command mcpcall calls one tool of an MCP server over Streamable HTTP and
// prints the text of its result: what an agent does with the gateway URL and
// token it is handed. make demo ends with it.
//
//	MCP_TOKEN=mcpa_... mcpcall URL TOOL ['{"arg": "value"}']
//
// The bearer token comes from MCP_TOKEN (never argv, where every process
// listing shows it) and is never printed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mcpcall:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 || len(args) > 3 {
		return errors.New(`usage: MCP_TOKEN=... mcpcall URL TOOL ['{"name": "value"}']`)
	}
	url, tool := args[0], args[1]
	var arguments map[string]any
	if len(args) == 3 {
		if err := json.Unmarshal([]byte(args[2]), &arguments); err != nil {
			return fmt.Errorf("the tool arguments %q are not a JSON object: %v", args[2], err)
		}
	}
	token := os.Getenv("MCP_TOKEN")
	if token == "" {
		return errors.New("MCP_TOKEN is not set: export the agent token (terraform output -raw agent_token) in it")
	}
	rec := &statusRecorder{base: http.DefaultTransport, token: token}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpcall", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: rec}, MaxRetries: -1}, nil)
	if err != nil {
		return explain(url, rec.status, err)
	}
	defer func() { _ = cs.Close() }()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: arguments})
	if err != nil {
		return fmt.Errorf("calling %s at %s: %w", tool, url, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	if res.IsError {
		return fmt.Errorf("tool %s answered an error: %s", tool, b.String())
	}
	fmt.Println(b.String())
	return nil
}

// explain turns a failed handshake into what to do about it.
func explain(url string, status int, err error) error {
	switch status {
	case http.StatusNotFound:
		return fmt.Errorf("%s answered 404: no such MCP endpoint (is the id right, and does this API serve it?)", url)
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%s refused the token (HTTP %d): check MCP_TOKEN is this agent's and not revoked or expired", url, status)
	}
	return fmt.Errorf("connecting to %s: %w", url, err)
}

// statusRecorder adds the bearer token and remembers the last error status,
// which the SDK's errors do not carry.
type statusRecorder struct {
	base   http.RoundTripper
	token  string
	status int
}

func (s *statusRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+s.token)
	res, err := s.base.RoundTrip(r)
	if err == nil && res.StatusCode >= 400 {
		s.status = res.StatusCode
	}
	return res, err
}
