package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// Two tools as a server might send them: members in any order, whitespace,
// escapes, and _meta, which the hash leaves out.
const (
	echoTool = `{
		"_meta": {"io.example/revision": 7},
		"inputSchema": {"required": ["text"], "type": "object",
		                "properties": {"text": {"type": "string"}}},
		"name": "echo",
		"description": "Echo \u0062ack"
	}`
	addTool = `{"name":"add","title":"Add","annotations":{"readOnlyHint":true},
		"inputSchema":{"type":"object","properties":{"b":{"type":"number"},"a":{"type":"number"}}}}`
)

// independentHash recomputes a hash from canonical bytes written out by hand,
// without this package's canonicaliser.
func independentHash(canonical string) string {
	h := sha256.Sum256([]byte(canonical))
	return "sha256:" + hex.EncodeToString(h[:])
}

func TestToolHashRecomputedIndependently(t *testing.T) {
	// The canonical forms, written by hand from RFC 8785's rules.
	echoCanonical := `{"description":"Echo back","inputSchema":{"properties":{"text":{"type":"string"}},"required":["text"],"type":"object"},"name":"echo"}`
	addCanonical := `{"annotations":{"readOnlyHint":true},"inputSchema":{"properties":{"a":{"type":"number"},"b":{"type":"number"}},"type":"object"},"name":"add","title":"Add"}`
	// The same digests, computed once with Python's hashlib over
	// json.dumps(sort_keys=True, separators=(",", ":")), which agrees with
	// RFC 8785 for ASCII text and integers.
	const (
		echoHash  = "sha256:15bb8a04636956be1f00422dfa095fa641d531df73056e54eccab44bbe10c010"
		addHash   = "sha256:1e4d7eaf0970375720cb561d116c0039ff85ef76abab99a51f95dc830e176185"
		toolsHash = "sha256:7ee06508de4a542c472c0a363972a7f831edcbceace0ca7bdcabdcc0917d4517"
	)
	if got := independentHash(echoCanonical); got != echoHash {
		t.Fatalf("test data: hand-written echo canonical form hashes to %s", got)
	}
	if got := independentHash(addCanonical); got != addHash {
		t.Fatalf("test data: hand-written add canonical form hashes to %s", got)
	}

	for _, tt := range []struct{ raw, want string }{{echoTool, echoHash}, {addTool, addHash}} {
		got, err := ToolHash(json.RawMessage(tt.raw))
		if err != nil {
			t.Fatalf("ToolHash: %v", err)
		}
		if got != tt.want {
			t.Errorf("ToolHash(%s) = %s, want %s", tt.raw, got, tt.want)
		}
	}

	lines := "add " + addHash + "\n" + "echo " + echoHash // sorted, no final newline
	if got := independentHash(lines); got != toolsHash {
		t.Fatalf("test data: toolsHash lines hash to %s", got)
	}
	got := ToolsHash([]Tool{{Name: "echo", Hash: echoHash}, {Name: "add", Hash: addHash}})
	if got != toolsHash {
		t.Errorf("ToolsHash = %s, want %s", got, toolsHash)
	}
}

func TestToolsHashEmpty(t *testing.T) {
	const emptySHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	for _, tools := range [][]Tool{nil, {}} {
		if got := ToolsHash(tools); got != emptySHA256 {
			t.Errorf("ToolsHash(%#v) = %s, want the hash of the empty string", tools, got)
		}
	}
}

func TestToolHash(t *testing.T) {
	base := `{"name":"t","description":"d","inputSchema":{"type":"object"}}`
	baseHash := mustToolHash(t, base)
	tests := []struct {
		name string
		raw  string
		same bool
	}{
		{"member order", `{"inputSchema":{"type":"object"},"description":"d","name":"t"}`, true},
		{"whitespace", "{ \"name\" : \"t\" ,\n\t\"description\":\"d\", \"inputSchema\": { \"type\": \"object\" } }", true},
		{"escapes", `{"name":"\u0074","description":"\u0064","inputSchema":{"type":"obj\u0065ct"}}`, true},
		{"top-level _meta removed", `{"_meta":{"a":1},"name":"t","description":"d","inputSchema":{"type":"object"}}`, true},
		{"null _meta removed", `{"name":"t","description":"d","inputSchema":{"type":"object"},"_meta":null}`, true},
		{"nested _meta kept", `{"name":"t","description":"d","inputSchema":{"type":"object","_meta":{}}}`, false},
		{"unknown member counts", `{"name":"t","description":"d","inputSchema":{"type":"object"},"x-hint":"obey me"}`, false},
		{"description changed", `{"name":"t","description":"d ","inputSchema":{"type":"object"}}`, false},
		{"schema changed", `{"name":"t","description":"d","inputSchema":{"type":"object","additionalProperties":false}}`, false},
		{"null is not absent", `{"name":"t","description":"d","inputSchema":{"type":"object"},"title":null}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustToolHash(t, tt.raw)
			if (got == baseHash) != tt.same {
				t.Errorf("ToolHash(%s) = %s, base %s: same = %v, want %v", tt.raw, got, baseHash, got == baseHash, tt.same)
			}
		})
	}
	// Canonical numbers: a server re-serialising 1 as 1.0 is no change.
	if mustToolHash(t, `{"name":"t","x":1.0}`) != mustToolHash(t, `{"name":"t","x":1}`) {
		t.Error("1.0 and 1 hash differently")
	}
}

func TestToolHashRefuses(t *testing.T) {
	for _, raw := range []string{
		`[]`, `"t"`, `null`, ``,
		`{"name":"t","name":"u"}`,
		`{"name":"t","_meta":{},"_meta":{}}`,
		"{\"name\":\"t\",\"_meta\":\"\xff\"}", // _meta is dropped, not skipped unread
		`{"name":"t"`,
	} {
		if h, err := ToolHash(json.RawMessage(raw)); err == nil {
			t.Errorf("ToolHash(%q) = %s, want an error", raw, h)
		} else if !strings.Contains(err.Error(), "JSON") {
			t.Errorf("ToolHash(%q) error %q does not say what is wrong with the JSON", raw, err)
		}
	}
}

func mustToolHash(t *testing.T, raw string) string {
	t.Helper()
	h, err := ToolHash(json.RawMessage(raw))
	if err != nil {
		t.Fatalf("ToolHash(%s): %v", raw, err)
	}
	return h
}
