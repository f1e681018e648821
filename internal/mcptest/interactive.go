package mcptest

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Interactive is an MCP server whose tools talk back to the client while a
// call is in progress — progress notifications, a sampling request — and
// one that waits until it is cancelled: for tests of a proxy, which must
// carry each of those to the right session.
type Interactive struct {
	// Server has the tools "echo", "progress" (sends the notifications
	// numbered 1..steps, steps an argument, then answers "done"), "sample"
	// (asks the client to sample a message with the argument "text" and
	// answers with what it got) and "wait" (answers when cancelled).
	Server *mcp.Server
	// Cancelled receives the name of the tool whose call was cancelled.
	Cancelled chan string
	// Started receives "wait" when a wait call has begun.
	Started chan string
}

// NewInteractive builds an Interactive server named name.
func NewInteractive(name string) *Interactive {
	it := &Interactive{Cancelled: make(chan string, 16), Started: make(chan string, 16)}
	srv := mcp.NewServer(&mcp.Implementation{Name: name, Version: "1.0.0"}, nil)
	AddEchoTool(srv, "echo", "Returns its input.")
	mcp.AddTool(srv, &mcp.Tool{Name: "progress", Description: "Reports progress, then answers."},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct {
			Steps int `json:"steps"`
		}) (*mcp.CallToolResult, struct{}, error) {
			tok := req.Params.GetProgressToken()
			for i := 1; i <= in.Steps && tok != nil; i++ {
				err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
					ProgressToken: tok, Progress: float64(i), Total: float64(in.Steps), Message: fmt.Sprintf("%s step %d", name, i)})
				if err != nil {
					return nil, struct{}{}, err
				}
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, struct{}{}, nil
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "sample", Description: "Asks the client to sample."},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct {
			Text string `json:"text"`
		}) (*mcp.CallToolResult, struct{}, error) {
			//nolint:staticcheck // sampling is what is tested
			res, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{
				MaxTokens: 16,
				Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Text}}},
			})
			if err != nil {
				return nil, struct{}{}, err
			}
			text := ""
			if tc, ok := res.Content.(*mcp.TextContent); ok {
				text = tc.Text
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, struct{}{}, nil
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "wait", Description: "Answers when cancelled."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, struct{}, error) {
			it.Started <- "wait"
			<-ctx.Done()
			it.Cancelled <- "wait"
			return nil, struct{}{}, ctx.Err()
		})
	it.Server = srv
	return it
}
