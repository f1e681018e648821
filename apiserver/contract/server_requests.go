package contract

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Id prefixes of the /api/mcp/servers and /api/projects families.
const (
	ServerIDPrefix  = "mcp_"
	ProjectIDPrefix = "proj_"
)

// Limits on MCP server and project input.
const (
	// DescriptionMaxLength is the longest allowed description, in characters.
	DescriptionMaxLength = 2000
	// CommandMaxLength is the longest allowed stdio command name, in bytes.
	CommandMaxLength = 128
	// MaxArgs is the most arguments a stdio server may have.
	MaxArgs = 64
	// ArgMaxLength is the longest allowed single argument, in bytes.
	ArgMaxLength = 4096
	// idMaxSuffix bounds the random part of an id accepted in a path; the API
	// issues 16 characters, the bound leaves room without inviting abuse.
	idMaxSuffix = 64
)

// CreateServerRequest is the body of POST /api/mcp/servers.
type CreateServerRequest struct {
	// ProjectID must name one of the caller's projects.
	ProjectID string `json:"projectId"`
	Name      string `json:"name"`
	// Description is optional; an empty one is stored as none (null).
	Description *string `json:"description,omitempty"`
	// URL is required for http and sse, and forbidden for stdio.
	URL *string `json:"url,omitempty"`
	// TransportType defaults to TransportHTTP when empty.
	TransportType TransportType `json:"transportType,omitempty"`
	// ConnectionType defaults to ConnectionDirect when empty.
	ConnectionType ConnectionType `json:"connectionType,omitempty"`
	// Command is required for stdio, and forbidden otherwise: a bare program
	// name on the operator's allowlist, never a path or a shell line.
	Command *string `json:"command,omitempty"`
	// Args are passed to Command as they are (no shell); stdio only.
	Args []string `json:"args,omitempty"`
	// BearerToken is write-only, sent as "Authorization: Bearer <token>" to
	// http and sse servers; forbidden for stdio.
	BearerToken *string `json:"bearerToken,omitempty"`
}

// UpdateServerRequest is the body of PATCH /api/mcp/servers/{id}. Nil fields
// are left unchanged. Changing transportType drops the fields the new
// transport does not use (url, or command and args, and the bearer token
// when switching to stdio). An empty description or bearerToken removes it.
type UpdateServerRequest struct {
	ProjectID      *string         `json:"projectId,omitempty"`
	Name           *string         `json:"name,omitempty"`
	Description    *string         `json:"description,omitempty"`
	URL            *string         `json:"url,omitempty"`
	TransportType  *TransportType  `json:"transportType,omitempty"`
	ConnectionType *ConnectionType `json:"connectionType,omitempty"`
	Command        *string         `json:"command,omitempty"`
	// Args is a pointer so that an empty list (no arguments) can be sent.
	Args        *[]string `json:"args,omitempty"`
	BearerToken *string   `json:"bearerToken,omitempty"`
}

// CreateProjectRequest is the body of POST /api/projects.
type CreateProjectRequest struct {
	Name string `json:"name"`
	// Description is optional; an empty one is stored as none (null).
	Description *string `json:"description,omitempty"`
}

// UpdateProjectRequest is the body of PATCH /api/projects/{id}. Nil fields
// are left unchanged; an empty description removes it.
type UpdateProjectRequest struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// SuccessBody is the body of a successful DELETE in the enveloped families.
type SuccessBody struct {
	Success bool `json:"success"`
}

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

// ValidateDescription checks a server or project description: valid UTF-8,
// bounded, and free of control characters other than line breaks and tabs.
// The error text does not name the field.
func ValidateDescription(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > DescriptionMaxLength {
		return fmt.Errorf("must be at most %d characters, got %d", DescriptionMaxLength, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return fmt.Errorf("must not contain control characters other than line breaks and tabs")
		}
	}
	return nil
}

// commandPattern is a bare program name. Everything a shell or a path lookup
// would treat specially — "/", whitespace, ";", "|", "&", "$", quotes,
// globs — falls outside it.
var commandPattern = regexp.MustCompile(`^[A-Za-z0-9._+-]+$`)

// ValidateCommand checks a stdio command: a bare program name such as
// "node" or "uvx", looked up on the API server's PATH — never a path, a
// shell line or a name with arguments. The error text does not name the field.
func ValidateCommand(cmd string) error {
	switch {
	case cmd == "":
		return fmt.Errorf("must not be empty")
	case len(cmd) > CommandMaxLength:
		return fmt.Errorf("must be at most %d bytes", CommandMaxLength)
	case !commandPattern.MatchString(cmd) || cmd == "." || cmd == ".." || strings.HasPrefix(cmd, "-"):
		return fmt.Errorf(`must be a bare program name such as "node" or "uvx" (letters, digits, ".", "_", "+" and "-"), `+
			`without a path, spaces or shell characters; put arguments in args, got %q`, cmd)
	}
	return nil
}

// ValidateArgs checks stdio arguments. They go to the program as they are,
// never through a shell, so any text is safe; only their number and size
// are bounded, and NUL, which no argument can carry, is refused. The error
// text does not name the field.
func ValidateArgs(args []string) error {
	if len(args) > MaxArgs {
		return fmt.Errorf("must have at most %d items, got %d", MaxArgs, len(args))
	}
	for i, a := range args {
		switch {
		case len(a) > ArgMaxLength:
			return fmt.Errorf("item %d must be at most %d bytes", i, ArgMaxLength)
		case !utf8.ValidString(a):
			return fmt.Errorf("item %d must be valid UTF-8", i)
		case strings.ContainsRune(a, 0):
			return fmt.Errorf("item %d must not contain a NUL character", i)
		}
	}
	return nil
}
