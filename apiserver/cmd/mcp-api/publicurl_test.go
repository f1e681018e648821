package main

import (
	"strings"
	"testing"
)

func TestPublicURLFrom(t *testing.T) {
	for raw, want := range map[string]string{
		"":                              "http://127.0.0.1:8080",
		"https://mcp.example.com/":      "https://mcp.example.com",
		"https://mcp.example.com/base/": "https://mcp.example.com/base",
		"http://10.0.0.1:9000":          "http://10.0.0.1:9000",
	} {
		got, err := publicURLFrom(raw, "127.0.0.1:8080")
		if err != nil || got != want {
			t.Errorf("publicURLFrom(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, bad := range []string{"mcp.example.com", "ftp://x", "https://u:p@x", "https://x?a=b", "https://x#f", "https://"} {
		_, err := publicURLFrom(bad, "127.0.0.1:8080")
		if err == nil || !strings.Contains(err.Error(), envPublicURL) {
			t.Errorf("publicURLFrom(%q) = %v, want an error naming %s", bad, err, envPublicURL)
		}
	}
}
