package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// BenchmarkGetConnection serves GET /api/mcp-connections/{id} through the
// real router, store and PostgreSQL over loopback HTTP, from 16 clients per
// CPU on kept-alive connections, as bench/run.sh does from outside. The
// access log is on at info, a JSON line per request written to a file, as
// in bench/run.sh. Profile the server side with
//
//	go test -run '^$' -bench GetConnection -cpuprofile cpu.out ./apiserver/httpapi/
//	go tool pprof -focus 'net/http.\(\*conn\).serve' cpu.out
func BenchmarkGetConnection(b *testing.B) {
	logFile, err := os.CreateTemp(b.TempDir(), "access-*.log")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = logFile.Close() })
	s := apitest.Start(b, apitest.WithLogger(slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))))

	const perCPU = 16
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64, DisableCompression: true}}
	b.Cleanup(client.CloseIdleConnections)
	url := s.URL + "/api/mcp-connections/" + benchConnection(b, client, s)

	b.SetParallelism(perCPU)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			b.Error(err)
			return
		}
		req.Header.Set("Authorization", "Bearer "+s.APIKey)
		for pb.Next() {
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Errorf("GET %s: status %d, read error %v", url, resp.StatusCode, err)
				return
			}
		}
	})
}

// benchConnection creates the connection the benchmark reads, with a sealed
// token as bench/run.sh's has, and returns its id.
func benchConnection(b *testing.B, client *http.Client, s *apitest.Server) string {
	b.Helper()
	body, err := json.Marshal(contract.CreateConnectionRequest{
		Name: "Order Management System", ServerURL: "https://mcp.example.com/oms",
		AuthType: contract.AuthBearer, BearerToken: ptr("tok-bench"),
	})
	if err != nil {
		b.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api/mcp-connections", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var c contract.Connection
	if resp.StatusCode != http.StatusCreated {
		raw, _ := io.ReadAll(resp.Body)
		b.Fatalf("create connection: status %d: %s", resp.StatusCode, raw)
	}
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		b.Fatal(err)
	}
	return c.ID
}
