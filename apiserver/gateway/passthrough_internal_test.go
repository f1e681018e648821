package gateway

import (
	"strings"
	"testing"
)

// The pass-through path reads a message as the Go SDK does: keys matched
// case-sensitively, so a "PARAMS" the SDK ignores cannot name the tool the
// call is routed and audited by.
func TestDecodeJSONMatchesKeysAsTheSDKDoes(t *testing.T) {
	var env passEnvelope
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__echo"},"PARAMS":{"name":"b__echo"}}`
	if err := decodeJSON([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	if env.Params.Name != "a__echo" {
		t.Fatalf("routed by %q, want the name in params (a__echo)", env.Params.Name)
	}
	var req passRequest
	if err := decodeJSON([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","Params":{"name":"b__echo"}}`), &req); err != nil {
		t.Fatal(err)
	}
	if req.Params != nil {
		t.Fatalf("Params read from a key the SDK ignores: %v", req.Params)
	}
}

// What encoding/json refuses, decodeJSON refuses: data after the value and
// invalid JSON nested anywhere; and nesting too deep to decode safely.
func TestDecodeJSONRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"trailing data":  `{"jsonrpc":"2.0","id":1} {"id":2}`,
		"invalid nested": `{"jsonrpc":"2.0","id":1,"params":{"name":"x","arguments":{"a":[1,}}}`,
		"wrong type":     `{"jsonrpc":"2.0","id":1,"params":{"name":5}}`,
		"too deep":       `{"jsonrpc":"2.0","id":1,"params":{"name":"x","arguments":{"a":` + strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20) + `}}}`,
		"too deep, cut":  strings.Repeat("[", 4<<20),
	} {
		var env passEnvelope
		if err := decodeJSON([]byte(body), &env); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	// Brackets inside strings are not nesting.
	var env passEnvelope
	if err := decodeJSON([]byte(`{"jsonrpc":"2.0","id":1,"params":{"name":"`+strings.Repeat("[", 2000)+`\"{"}}`), &env); err != nil {
		t.Errorf("brackets in a string: %v", err)
	}
}
