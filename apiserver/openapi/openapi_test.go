package openapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestJSONIsTheYAML: the served JSON says what openapi.yaml says, value
// for value, with the keys in the written order.
func TestJSONIsTheYAML(t *testing.T) {
	raw, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON, fromYAML any
	if err := json.Unmarshal(raw, &fromJSON); err != nil {
		t.Fatalf("JSON() is not JSON: %v", err)
	}
	if err := yaml.Unmarshal(YAML(), &fromYAML); err != nil {
		t.Fatal(err)
	}
	// YAML integers decode as int, JSON ones as float64: compare both as JSON
	y, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	var yamlAsJSON any
	if err := json.Unmarshal(y, &yamlAsJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, yamlAsJSON) {
		t.Fatal("JSON() differs from openapi.yaml")
	}
	if !bytes.HasPrefix(raw, []byte(`{"openapi":"3.1.`)) {
		t.Errorf("JSON() starts %.40s, want the openapi version first, as written", raw)
	}
	if i, j := bytes.Index(raw, []byte(`"paths":`)), bytes.Index(raw, []byte(`"components":`)); i < 0 || j < i {
		t.Errorf("paths at %d, components at %d: the written order is lost", i, j)
	}
}

func TestToJSONRefusesAliases(t *testing.T) {
	_, err := toJSON([]byte("a: &x {b: 1}\nc: *x\n"))
	if err == nil || !strings.Contains(err.Error(), "$ref") {
		t.Fatalf("toJSON = %v, want an error that says to use $ref", err)
	}
}

// TestJSONScalars: YAML's scalars become the JSON values a reader of the
// YAML means (quoted numbers stay strings, as "1" in version: "1").
func TestJSONScalars(t *testing.T) {
	got, err := toJSON([]byte("s: \"1\"\nn: 1\nf: 1.5\nb: true\nz: null\nq: '2026-01-01'\nl: [a, 2]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"s":"1","n":1,"f":1.5,"b":true,"z":null,"q":"2026-01-01","l":["a",2]}`
	if string(got) != want {
		t.Errorf("toJSON = %s, want %s", got, want)
	}
}
