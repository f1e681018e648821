package contract

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
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

func TestTimeJSON(t *testing.T) {
	in := time.Date(2026, 3, 25, 14, 0, 0, 123456789, time.FixedZone("x", 2*3600))
	b, err := json.Marshal(NewTime(in))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `"2026-03-25T12:00:00.123Z"`; got != want {
		t.Fatalf("marshal = %s, want %s", got, want)
	}
	var back Time
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(in.Truncate(time.Millisecond)) {
		t.Fatalf("round trip = %v, want %v", back, in)
	}
	if err := json.Unmarshal([]byte(`"yesterday"`), &back); err == nil {
		t.Fatal("accepted a non-RFC 3339 timestamp")
	}
	if TimePtr(nil) != nil {
		t.Fatal("TimePtr(nil) != nil")
	}
}
