package store

import (
	"crypto/rand"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// Id prefixes; they match contract.ServerIDPrefix and contract.ProjectIDPrefix.
const (
	serverIDPrefix  = "mcp_"
	projectIDPrefix = "proj_"
	// idRandomChars of base62 carry about 95 bits: ids cannot be guessed.
	idRandomChars = 16
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// IDFormat is what the ids of one kind of record look like; DecodeCursor
// refuses a cursor whose id has another form.
type IDFormat struct {
	uuid   bool   // a UUID in its canonical form
	digits bool   // a decimal sequence number
	prefix string // otherwise: prefix and base62 characters
}

// The id formats of the kinds of record.
var (
	// ConnectionIDs are UUIDs.
	ConnectionIDs = IDFormat{uuid: true}
	// ServerIDs are "mcp_" and base62 characters.
	ServerIDs = IDFormat{prefix: serverIDPrefix}
	// ProjectIDs are "proj_" and base62 characters.
	ProjectIDs = IDFormat{prefix: projectIDPrefix}
)

// NewServerID returns a fresh MCP server id: "mcp_" and 16 random base62 characters.
func NewServerID() string { return randomID(serverIDPrefix) }

// NewProjectID returns a fresh project id: "proj_" and 16 random base62 characters.
func NewProjectID() string { return randomID(projectIDPrefix) }

// AgentTokenRandomChars of base62 carry about 256 bits.
const AgentTokenRandomChars = 43

// NewAgentToken mints an agent token: contract.AgentTokenPrefix and
// AgentTokenRandomChars base62 characters from crypto/rand. Only its hash
// is stored.
func NewAgentToken() string { return randomString(contract.AgentTokenPrefix, AgentTokenRandomChars) }

func randomID(prefix string) string { return randomString(prefix, idRandomChars) }

// randomString is prefix and n random base62 characters.
func randomString(prefix string, n int) string {
	out := make([]byte, 0, len(prefix)+n)
	out = append(out, prefix...)
	buf := make([]byte, 2*n)
	for len(out) < cap(out) {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails on supported platforms
		for _, b := range buf {
			// 248 = 4*62: rejecting the rest keeps every character equally likely.
			if b < 248 && len(out) < cap(out) {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}
