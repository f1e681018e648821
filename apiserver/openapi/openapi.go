// Package openapi holds the OpenAPI 3.1 description of the API (SPEC §12):
// every /api call with its parameters, bodies, status codes and error
// bodies. It is written by hand in openapi.yaml, embedded in the binary and
// served as JSON at /openapi.json; the API's tests validate every response
// they receive against it (package openapitest), so it cannot drift from
// the handlers unnoticed.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"
)

// Path is where the API serves the document.
const Path = "/openapi.json"

//go:embed openapi.yaml
var source []byte

// YAML is the document as written.
func YAML() []byte { return bytes.Clone(source) }

var document = sync.OnceValues(func() ([]byte, error) { return toJSON(source) })

// JSON is the document as JSON, its keys in the order they are written (a
// reader of the served document meets info before paths, paths before
// components). It fails only if openapi.yaml is not valid YAML, which the
// package's tests rule out.
func JSON() ([]byte, error) {
	b, err := document()
	return bytes.Clone(b), err
}

// toJSON converts YAML to JSON keeping the order of mapping keys, which
// decoding into Go maps would lose.
func toJSON(src []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	var buf bytes.Buffer
	if err := writeNode(&buf, &root); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return buf.Bytes(), nil
}

func writeNode(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("line %d: want one document, got %d", n.Line, len(n.Content))
		}
		return writeNode(buf, n.Content[0])
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: a mapping key must be a scalar", k.Line)
			}
			key, _ := json.Marshal(k.Value)
			buf.Write(key)
			buf.WriteByte(':')
			if err := writeNode(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeNode(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		return writeScalar(buf, n)
	default:
		// anchors and aliases would make one schema mean two things to two
		// readers (YAML tools and JSON ones); the document uses $ref instead
		return fmt.Errorf("line %d: unsupported YAML node (anchors and aliases are not used here; use $ref)", n.Line)
	}
	return nil
}

func writeScalar(buf *bytes.Buffer, n *yaml.Node) error {
	var v any
	switch n.ShortTag() {
	case "!!null":
		buf.WriteString("null")
		return nil
	case "!!bool", "!!int", "!!float":
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
	default:
		v = n.Value
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	buf.Write(b)
	return nil
}
