package contract

import "strings"

// Id prefixes of the /api/mcp/servers and /api/projects families.
const (
	ServerIDPrefix  = "mcp_"
	ProjectIDPrefix = "proj_"
)

// idMaxSuffix bounds the random part of an id accepted in a path; the API
// issues 16 characters, the bound leaves room without inviting abuse.
const idMaxSuffix = 64

// ValidServerID reports whether id has the shape of an MCP server id
// (ServerIDPrefix and letters and digits); it says nothing of whether one exists.
func ValidServerID(id string) bool { return validID(id, ServerIDPrefix) }

// ValidProjectID reports whether id has the shape of a project id.
func ValidProjectID(id string) bool { return validID(id, ProjectIDPrefix) }

func validID(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok || rest == "" || len(rest) > idMaxSuffix {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !isBase62(rest[i]) {
			return false
		}
	}
	return true
}

func isBase62(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
