package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// hashPrefix names the algorithm in every hash this package produces.
const hashPrefix = "sha256:"

// ToolHash returns a tool's hash as SPEC §8 defines it: "sha256:" and the
// lowercase hex SHA-256 of the RFC 8785 canonical JSON of the tool object as
// the server sent it, with its top-level "_meta" member removed. Every other
// member is kept, including ones no SDK models, so a change hidden in any of
// them changes the hash.
func ToolHash(rawTool json.RawMessage) (string, error) {
	_, hash, err := canonicalTool(rawTool)
	return hash, err
}

// canonicalTool returns the canonical form of a tool without "_meta" and
// its hash.
func canonicalTool(rawTool json.RawMessage) ([]byte, string, error) {
	canonical, err := canonicalize(rawTool, "_meta")
	if err != nil {
		return nil, "", err
	}
	if canonical[0] != '{' {
		return nil, "", errors.New("a tool must be a JSON object")
	}
	return canonical, sum(canonical), nil
}

// ToolsHash returns a catalog's toolsHash as SPEC §8 defines it: "sha256:"
// and the lowercase hex SHA-256 of the lines "<name> <hash>", one per tool,
// sorted (by their UTF-8 bytes, which is Unicode code point order) and joined
// by "\n" with no trailing newline. No tools hash the empty string.
func ToolsHash(tools []Tool) string {
	lines := make([]string, len(tools))
	for i, t := range tools {
		lines[i] = t.Name + " " + t.Hash
	}
	slices.Sort(lines)
	return sum([]byte(strings.Join(lines, "\n")))
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hashPrefix + hex.EncodeToString(h[:])
}
