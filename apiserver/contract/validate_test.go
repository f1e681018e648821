package contract

import (
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"simple", "Order Management System", false},
		{"unicode at limit", strings.Repeat("é", NameMaxLength), false},
		{"empty", "", true},
		{"blank", "   ", true},
		{"too long", strings.Repeat("a", NameMaxLength+1), true},
		{"control", "a\nb", true},
		{"invalid utf8", "a\xffb", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateName(tt.in); (err != nil) != tt.wantErr {
				t.Fatalf("ValidateName(%q) = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestValidateServerURL(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
	}{
		{"https://mcp.example.com/oms", false},
		{"http://127.0.0.1:8080/mcp", false},
		{"http://[::1]:9/mcp?x=1", false},
		{"", true},
		{"/relative/path", true},
		{"mcp.example.com", true},
		{"ftp://mcp.example.com", true},
		{"file:///etc/passwd", true},
		{"https://", true},
		{"https://user:pw@mcp.example.com", true},
		{"https://mcp.example.com/#frag", true},
		{" https://mcp.example.com", true},
		{"https://mcp.example.com/" + strings.Repeat("a", URLMaxLength), true},
		{"http://%zz", true},
	}
	for _, tt := range tests {
		if err := ValidateServerURL(tt.in); (err != nil) != tt.wantErr {
			t.Errorf("ValidateServerURL(%q) = %v, wantErr %v", tt.in, err, tt.wantErr)
		}
	}
}

func TestValidateToken(t *testing.T) {
	for _, ok := range []string{"abc", "eyJhbGciOi.x-y_z~"} {
		if err := ValidateToken(ok); err != nil {
			t.Errorf("ValidateToken(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a\r\nX-Injected: 1", "é", strings.Repeat("a", TokenMaxLength+1)} {
		if err := ValidateToken(bad); err == nil {
			t.Errorf("ValidateToken(%q) accepted", bad)
		}
	}
}

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

func TestEnumsValid(t *testing.T) {
	if !ConnectionActive.Valid() || ConnectionStatus("ok").Valid() {
		t.Error("ConnectionStatus.Valid")
	}
	if !AuthBearer.Valid() || AuthType("basic").Valid() {
		t.Error("AuthType.Valid")
	}
	if !ServerConnecting.Valid() || ServerStatus("up").Valid() {
		t.Error("ServerStatus.Valid")
	}
	if !TransportSSE.Valid() || TransportType("ws").Valid() {
		t.Error("TransportType.Valid")
	}
	if !ConnectionProxy.Valid() || ConnectionType("tunnel").Valid() {
		t.Error("ConnectionType.Valid")
	}
}

func TestDefaultPrefix(t *testing.T) {
	for name, want := range map[string]string{
		"GitHub Tools":                   "github_tools",
		"--Docs--":                       "docs",
		"Ünïcode & Co.":                  "n_code_co",
		"!!!":                            "tools",
		"a b__c":                         "a_b_c",
		strings.Repeat("ab", 20):         strings.Repeat("ab", 16),
		strings.Repeat("a", 31) + " bcd": strings.Repeat("a", 31),
	} {
		got := DefaultPrefix(name)
		if got != want {
			t.Errorf("DefaultPrefix(%q) = %q, want %q", name, got, want)
		}
		if err := ValidatePrefix(got); err != nil {
			t.Errorf("DefaultPrefix(%q) = %q fails ValidatePrefix: %v", name, got, err)
		}
	}
	for _, bad := range []string{"", "A", "a-b", "a__b", strings.Repeat("a", 33)} {
		if ValidatePrefix(bad) == nil {
			t.Errorf("ValidatePrefix(%q) passed", bad)
		}
	}
}
