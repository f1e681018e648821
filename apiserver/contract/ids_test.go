package contract

import (
	"strings"
	"testing"
)

func TestValidIDs(t *testing.T) {
	for id, want := range map[string]bool{
		"mcp_abc123":                     true,
		"mcp_" + strings.Repeat("Z", 64): true,
		"mcp_" + strings.Repeat("Z", 65): false,
		"mcp_":                           false,
		"mcp_a-b":                        false,
		"mcp_a b":                        false,
		"MCP_abc":                        false,
		"proj_abc":                       false,
		"abc":                            false,
	} {
		if got := ValidServerID(id); got != want {
			t.Errorf("ValidServerID(%q) = %v, want %v", id, got, want)
		}
	}
	if !ValidProjectID("proj_123") || ValidProjectID("mcp_123") || ValidProjectID("proj_") {
		t.Error("ValidProjectID")
	}
}
