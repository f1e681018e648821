package contract

import (
	"strings"
	"testing"
)

func TestValidateCommand(t *testing.T) {
	for _, ok := range []string{"node", "uvx", "python3.12", "g++", "mcp-server_x", "N0de", strings.Repeat("a", CommandMaxLength)} {
		if err := ValidateCommand(ok); err != nil {
			t.Errorf("ValidateCommand(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "../bin/x", "/usr/bin/env", "node;rm", "node --x", "node\t", " node", "./node", "bin/node",
		".", "..", "-e", "--help", "$(id)", "`id`", "node|sh", "a&b", "a>b", "a<b", "*", "?", "~", "'node'", `"node"`, "nöde",
		"node\x00", "a\\b", strings.Repeat("a", CommandMaxLength+1)} {
		if err := ValidateCommand(bad); err == nil {
			t.Errorf("ValidateCommand(%q) accepted it", bad)
		}
	}
	if err := ValidateCommand("node;rm"); !strings.Contains(err.Error(), "put arguments in args") {
		t.Errorf("error %q does not say where arguments go", err)
	}
}

func TestValidateArgs(t *testing.T) {
	if err := ValidateArgs([]string{"-y", "a; rm -rf /", "$(id)", "", "ü"}); err != nil {
		t.Errorf("shell-looking args are data and must pass: %v", err)
	}
	for name, args := range map[string][]string{
		"too many": make([]string, MaxArgs+1),
		"too long": {strings.Repeat("a", ArgMaxLength+1)},
		"NUL":      {"a\x00"},
		"bad utf8": {"\xff"},
	} {
		if err := ValidateArgs(args); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestValidateDescription(t *testing.T) {
	if err := ValidateDescription("two\nlines\twith tab\r\n"); err != nil {
		t.Errorf("line breaks and tabs: %v", err)
	}
	for _, bad := range []string{"a\x07", "\xff", strings.Repeat("é", DescriptionMaxLength+1)} {
		if err := ValidateDescription(bad); err == nil {
			t.Errorf("ValidateDescription(%q) accepted it", bad)
		}
	}
	if err := ValidateDescription(strings.Repeat("é", DescriptionMaxLength)); err != nil {
		t.Errorf("the limit counts characters, not bytes: %v", err)
	}
}

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
