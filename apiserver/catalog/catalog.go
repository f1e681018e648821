// Package catalog turns what an MCP server lists (tools, prompts, resources)
// into the catalog a check stores, with the hashes of SPEC §8: each tool's
// hash over its RFC 8785 canonical JSON, the catalog's toolsHash over all of
// them, and the difference between two catalogs. It does no I/O; the probe
// lists, the store keeps.
package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// Limits of SPEC §8. A probe may stop listing once it has reached either.
const (
	// MaxItemsPerKind is how many tools, prompts and resources a catalog
	// keeps of each kind.
	MaxItemsPerKind = 1000
	// MaxCatalogBytes is how many bytes of items, as the server sent them,
	// a catalog keeps in all.
	MaxCatalogBytes = 4 << 20
)

// Catalog is what a server offered at a passing check.
type Catalog struct {
	Tools     []Tool     `json:"tools"`
	Prompts   []Prompt   `json:"prompts"`
	Resources []Resource `json:"resources"`
	ToolsHash string     `json:"toolsHash"`
	Truncated bool       `json:"truncated"` // the server offered more than the limits keep
}

// Tool is one tool of a catalog, as the API returns it; its JSON members
// are in canonical form and Hash is ToolHash of the tool as sent.
type Tool = contract.CatalogTool

// Prompt is one prompt of a catalog.
type Prompt = contract.CatalogPrompt

// Resource is one resource of a catalog.
type Resource = contract.CatalogResource

// ToolHashes returns each tool's hash by name, the input of Diff.
func (c Catalog) ToolHashes() map[string]string {
	m := make(map[string]string, len(c.Tools))
	for _, t := range c.Tools {
		m[t.Name] = t.Hash
	}
	return m
}

// Build makes a catalog from the items a server listed, each as the raw JSON
// object it sent; truncated says the lister already stopped early.
//
// Limits: each kind keeps its first MaxItemsPerKind items, and all kinds
// together (tools, then prompts, then resources) keep the longest prefix whose
// raw size fits in MaxCatalogBytes; an item that does not fit ends the
// catalog there, so one oversized item never gets parsed. Either limit sets
// Truncated, and toolsHash covers the tools kept.
//
// Build fails, naming the item, on anything a conforming server would not
// send: invalid JSON (see Canonicalize), a tool or prompt without a non-empty
// string name, a resource without a uri, a name containing a control
// character, a known member of the wrong type, or two tools with one name.
// Duplicate names are refused rather than resolved because clients disagree
// on which one an agent gets, so any choice here could hide the tool a
// "rug pull" swapped in; a check that fails says so plainly.
func Build(tools, prompts, resources []json.RawMessage, truncated bool) (Catalog, error) {
	b := budget{left: MaxCatalogBytes, truncated: truncated}
	c := Catalog{Tools: []Tool{}, Prompts: []Prompt{}, Resources: []Resource{}}

	first := make(map[string]int)
	for i, raw := range b.take(tools) {
		t, err := buildTool(raw)
		if err != nil {
			return Catalog{}, fmt.Errorf("tool %d: %w", i, err)
		}
		if j, dup := first[t.Name]; dup {
			return Catalog{}, fmt.Errorf("tools %d and %d are both named %s: tool names must be unique", j, i, quote(t.Name))
		}
		first[t.Name] = i
		c.Tools = append(c.Tools, t)
	}
	for i, raw := range b.take(prompts) {
		p, err := buildPrompt(raw)
		if err != nil {
			return Catalog{}, fmt.Errorf("prompt %d: %w", i, err)
		}
		c.Prompts = append(c.Prompts, p)
	}
	for i, raw := range b.take(resources) {
		r, err := buildResource(raw)
		if err != nil {
			return Catalog{}, fmt.Errorf("resource %d: %w", i, err)
		}
		c.Resources = append(c.Resources, r)
	}
	c.ToolsHash = ToolsHash(c.Tools)
	c.Truncated = b.truncated
	return c, nil
}

// budget applies the limits of Build.
type budget struct {
	left      int
	full      bool
	truncated bool
}

// take returns the prefix of items the limits keep.
func (b *budget) take(items []json.RawMessage) []json.RawMessage {
	if b.full {
		b.truncated = b.truncated || len(items) > 0
		return nil
	}
	if len(items) > MaxItemsPerKind {
		items = items[:MaxItemsPerKind]
		b.truncated = true
	}
	for i, raw := range items {
		if len(raw) > b.left {
			b.full, b.truncated = true, true
			return items[:i]
		}
		b.left -= len(raw)
	}
	return items
}

func buildTool(raw json.RawMessage) (Tool, error) {
	canonical, hash, err := canonicalTool(raw)
	if err != nil {
		return Tool{}, err
	}
	m, err := members(canonical)
	if err != nil {
		return Tool{}, err
	}
	t := Tool{
		InputSchema:  m["inputSchema"],
		OutputSchema: m["outputSchema"],
		Annotations:  m["annotations"],
		Hash:         hash,
	}
	if t.Name, err = name(m, "name"); err != nil {
		return Tool{}, err
	}
	err = optionalStrings(m, []field{{"title", &t.Title}, {"description", &t.Description}})
	return t, named(t.Name, err)
}

func buildPrompt(raw json.RawMessage) (Prompt, error) {
	m, err := object(raw)
	if err != nil {
		return Prompt{}, err
	}
	p := Prompt{Arguments: m["arguments"]}
	if p.Name, err = name(m, "name"); err != nil {
		return Prompt{}, err
	}
	err = optionalStrings(m, []field{{"title", &p.Title}, {"description", &p.Description}})
	return p, named(p.Name, err)
}

func buildResource(raw json.RawMessage) (Resource, error) {
	m, err := object(raw)
	if err != nil {
		return Resource{}, err
	}
	var r Resource
	if r.URI, err = name(m, "uri"); err != nil {
		return Resource{}, err
	}
	err = optionalStrings(m, []field{
		{"name", &r.Name}, {"title", &r.Title}, {"description", &r.Description}, {"mimeType", &r.MIMEType},
	})
	return r, named(r.URI, err)
}

// object validates raw as Canonicalize does and returns its members in
// canonical form, without "_meta", which a catalog does not keep.
func object(raw json.RawMessage) (map[string]json.RawMessage, error) {
	canonical, err := canonicalize(raw, "_meta")
	if err != nil {
		return nil, err
	}
	if canonical[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	return members(canonical)
}

// members splits a canonical JSON object; its values stay canonical.
func members(canonical []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(canonical, &m); err != nil {
		return nil, err // unreachable: canonical output is valid JSON
	}
	return m, nil
}

// name reads the identifying member key, which must be a non-empty string
// without control characters: toolsHash lines are separated by "\n", and a
// name that could contain one would make them ambiguous to read.
func name(m map[string]json.RawMessage, key string) (string, error) {
	raw, ok := m[key]
	if !ok {
		return "", fmt.Errorf("no %q member", key)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%q is %.40s, not a string", key, raw)
	}
	if s == "" {
		return "", fmt.Errorf("%q is empty", key)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }); i >= 0 {
		return "", fmt.Errorf("%q %s contains control character %#02x", key, quote(s), s[i])
	}
	return s, nil
}

// field is an optional string member and where it goes.
type field struct {
	key string
	to  *string
}

// optionalStrings reads optional string members into their fields; absent
// or null leaves a field empty.
func optionalStrings(m map[string]json.RawMessage, fields []field) error {
	for _, f := range fields {
		raw, ok := m[f.key]
		if !ok || string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, f.to); err != nil {
			return fmt.Errorf("%q is %.40s, not a string", f.key, raw)
		}
	}
	return nil
}

// named puts the item's name in front of err.
func named(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", quote(name), err)
}
