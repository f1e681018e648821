//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // the profiles, on http.DefaultServeMux
	"os"
)

// A binary built with -tags pprof (never a release) serves Go's profiles on
// MCP_API_PPROF_LISTEN, for profiling the benchmarks (bench/README.md).
func init() {
	if addr := os.Getenv("MCP_API_PPROF_LISTEN"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }() //nolint:gosec // a profiling build, on the address its user chose
	}
}
