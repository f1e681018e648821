package contract

import "encoding/json"

// ErrorKind says, for machines, why a check failed (SPEC §8); the record's
// lastError stays the sentence for people.
type ErrorKind string

// Error kinds of a failed check.
const (
	// ErrorUnreachable: the address did not resolve, or nothing accepted the connection.
	ErrorUnreachable ErrorKind = "unreachable"
	// ErrorTimeout: the server did not answer within the probe timeout.
	ErrorTimeout ErrorKind = "timeout"
	// ErrorTLS: the TLS handshake failed or a certificate was refused.
	ErrorTLS ErrorKind = "tls"
	// ErrorAuth: the server answered 401 or 403, or credentials could not be obtained.
	ErrorAuth ErrorKind = "auth"
	// ErrorBlocked: the outbound address guard refused the address.
	ErrorBlocked ErrorKind = "blocked"
	// ErrorProtocol: the server did not speak MCP correctly, or a listing failed.
	ErrorProtocol ErrorKind = "protocol"
	// ErrorServer: the server answered with an HTTP 5xx status.
	ErrorServer ErrorKind = "server_error"
)

// ErrorKinds lists every valid ErrorKind.
var ErrorKinds = []ErrorKind{ErrorUnreachable, ErrorTimeout, ErrorTLS, ErrorAuth, ErrorBlocked, ErrorProtocol, ErrorServer}

// Valid reports whether k is one of ErrorKinds.
func (k ErrorKind) Valid() bool {
	return oneOf(k, ErrorKinds)
}

// CheckState is what checks tell about a record beyond its status, the
// same on both kinds (SPEC §8). ToolCount and ToolsHash are null before
// the first passing check; ToolsDrift is set when ApprovedToolsHash is and
// differs from ToolsHash.
type CheckState struct {
	ProtocolVersion   *string    `json:"protocolVersion"`
	LastErrorKind     *ErrorKind `json:"lastErrorKind"`
	ToolCount         *int       `json:"toolCount"`
	ToolsHash         *string    `json:"toolsHash"`
	ToolsChangedAt    *Time      `json:"toolsChangedAt"`
	ApprovedToolsHash *string    `json:"approvedToolsHash"`
	ToolsDrift        bool       `json:"toolsDrift"`
}

// HashPrefix starts every tool and catalog hash: "sha256:" and 64 lower-case hex digits.
const HashPrefix = "sha256:"

// ValidHash reports whether s has the shape of a tool or catalog hash.
func ValidHash(s string) bool {
	if len(s) != len(HashPrefix)+64 || s[:len(HashPrefix)] != HashPrefix {
		return false
	}
	for _, r := range s[len(HashPrefix):] {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// CatalogTool is one tool a server offers. InputSchema, OutputSchema and
// Annotations are JSON as the server sent them, in RFC 8785 canonical form
// (null when it sent none); Hash covers every field the server sent but
// _meta. Title and Description are "" when the server sent none.
type CatalogTool struct {
	Name         string          `json:"name"`
	Title        string          `json:"title"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema"`
	Annotations  json.RawMessage `json:"annotations"`
	Hash         string          `json:"hash"`
}

// CatalogPrompt is one prompt a server offers; Arguments is its JSON list of
// arguments (null when it sent none).
type CatalogPrompt struct {
	Name        string          `json:"name"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Arguments   json.RawMessage `json:"arguments"`
}

// CatalogResource is one resource a server lists.
type CatalogResource struct {
	URI         string `json:"uri"`
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description"`
	MIMEType    string `json:"mimeType"`
}

// Catalog is what a record's last passing check found it offers
// (GET …/catalog). Truncated says the server offered more than the
// limits keep (1,000 items of a kind, 4 MiB in all).
type Catalog struct {
	Tools      []CatalogTool     `json:"tools"`
	Prompts    []CatalogPrompt   `json:"prompts"`
	Resources  []CatalogResource `json:"resources"`
	ToolsHash  string            `json:"toolsHash"`
	ObservedAt Time              `json:"observedAt"`
	Truncated  bool              `json:"truncated"`
}

// CheckEntry is one check in a record's history (GET …/checks).
type CheckEntry struct {
	At              Time       `json:"at"`
	OK              bool       `json:"ok"`
	DurationMs      int64      `json:"durationMs"`
	ProtocolVersion *string    `json:"protocolVersion"`
	ErrorKind       *ErrorKind `json:"errorKind"`
	Error           *string    `json:"error"`
	ToolsHash       *string    `json:"toolsHash"`
}

// CatalogChange is one change of a record's tools (GET …/catalog-changes):
// the tools added, removed and changed (same name, another hash), sorted.
// FromHash is null for the first catalog a record had, which adds every tool.
type CatalogChange struct {
	At           Time     `json:"at"`
	FromHash     *string  `json:"fromHash"`
	ToHash       string   `json:"toHash"`
	ToolsAdded   []string `json:"toolsAdded"`
	ToolsRemoved []string `json:"toolsRemoved"`
	ToolsChanged []string `json:"toolsChanged"`
}

// CheckList is one page of a connection's checks, newest first.
type CheckList = Page[CheckEntry]

// CatalogChangeList is one page of a connection's catalog changes, newest first.
type CatalogChangeList = Page[CatalogChange]

// CatalogEnvelope is the success body of GET /api/mcp/servers/{id}/catalog.
type CatalogEnvelope struct {
	Success bool    `json:"success"`
	Catalog Catalog `json:"catalog"`
}

// CheckListEnvelope is the success body of GET /api/mcp/servers/{id}/checks.
type CheckListEnvelope struct {
	Success    bool         `json:"success"`
	Checks     []CheckEntry `json:"checks"`
	NextCursor *string      `json:"nextCursor"`
}

// CatalogChangeListEnvelope is the success body of GET /api/mcp/servers/{id}/catalog-changes.
type CatalogChangeListEnvelope struct {
	Success    bool            `json:"success"`
	Changes    []CatalogChange `json:"changes"`
	NextCursor *string         `json:"nextCursor"`
}
