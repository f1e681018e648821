// Command demoserver is the MCP server make demo registers: a small order
// desk speaking Streamable HTTP through the official Go SDK, with
// instructions for agents and one tool, optionally behind a bearer token.
package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const instructions = `Use this server to look up order status, shipping details and return eligibility.
Always pass the order_id as a string, exactly as the customer gave it.
Orders older than 90 days are archived: say so rather than guessing.`

type orderStatusArgs struct {
	OrderID string `json:"order_id" jsonschema:"the order number, as a string"`
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "`ADDR` to listen on")
	token := flag.String("token", os.Getenv("DEMO_MCP_TOKEN"), "bearer `TOKEN` clients must send (default $DEMO_MCP_TOKEN; empty: none)")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(*listen, *token, log); err != nil {
		fmt.Fprintln(os.Stderr, "demoserver:", err)
		os.Exit(1)
	}
}

func run(listen, token string, log *slog.Logger) error {
	server := mcp.NewServer(&mcp.Implementation{Name: "demo-order-desk", Version: "1.0.0"},
		&mcp.ServerOptions{Instructions: instructions})
	mcp.AddTool(server, &mcp.Tool{Name: "order_status", Description: "Look up the status of an order"},
		func(_ context.Context, _ *mcp.CallToolRequest, args orderStatusArgs) (*mcp.CallToolResult, any, error) {
			if args.OrderID == "" {
				return nil, nil, errors.New("order_id is required")
			}
			text := fmt.Sprintf("Order %s: shipped, arriving in 2 days.", args.OrderID)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
		})
	var handler http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server },
		&mcp.StreamableHTTPOptions{Stateless: true})
	if token != "" {
		handler = requireBearer(token, handler)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", handler)

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info("demo MCP server listening", "url", "http://"+ln.Addr().String()+"/mcp", "bearer", token != "")
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// requireBearer answers 401 unless the request carries the token.
func requireBearer(token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
