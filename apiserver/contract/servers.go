package contract

// ServerStatus is the state of an MCP server record.
type ServerStatus string

// Server statuses, as in the seed document.
const (
	ServerConnecting   ServerStatus = "connecting"
	ServerConnected    ServerStatus = "connected"
	ServerDisconnected ServerStatus = "disconnected"
	ServerError        ServerStatus = "error"
)

// ServerStatuses lists every valid ServerStatus.
var ServerStatuses = []ServerStatus{ServerConnecting, ServerConnected, ServerDisconnected, ServerError}

// Valid reports whether s is one of ServerStatuses.
func (s ServerStatus) Valid() bool {
	return oneOf(s, ServerStatuses)
}

// TransportType is how the API reaches an MCP server.
type TransportType string

// Transport types.
const (
	TransportStdio TransportType = "stdio"
	TransportHTTP  TransportType = "http"
	TransportSSE   TransportType = "sse"
)

// TransportTypes lists every valid TransportType.
var TransportTypes = []TransportType{TransportStdio, TransportHTTP, TransportSSE}

// Valid reports whether t is one of TransportTypes.
func (t TransportType) Valid() bool {
	return oneOf(t, TransportTypes)
}

// ConnectionType says whether agents reach the server directly or through the proxy.
type ConnectionType string

// Connection types.
const (
	ConnectionDirect ConnectionType = "direct"
	ConnectionProxy  ConnectionType = "proxy"
)

// ConnectionTypes lists every valid ConnectionType.
var ConnectionTypes = []ConnectionType{ConnectionDirect, ConnectionProxy}

// Valid reports whether c is one of ConnectionTypes.
func (c ConnectionType) Valid() bool {
	return oneOf(c, ConnectionTypes)
}

// Capabilities says which MCP feature families a server advertised.
type Capabilities struct {
	Tools     bool `json:"tools"`
	Resources bool `json:"resources"`
	Prompts   bool `json:"prompts"`
}

// Implementation is the serverInfo an MCP server returned.
type Implementation struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Server is an MCP server record as the API returns it (seed mcp-server-get).
type Server struct {
	ID             string         `json:"id"`
	ProjectID      string         `json:"projectId"`
	Name           string         `json:"name"`
	Description    *string        `json:"description"`
	URL            *string        `json:"url"`
	TransportType  TransportType  `json:"transportType"`
	ConnectionType ConnectionType `json:"connectionType"`
	// AuthType is always AuthNone for stdio servers.
	AuthType             AuthType        `json:"authType"`
	Command              *string         `json:"command"`
	Args                 []string        `json:"args"`
	Status               ServerStatus    `json:"status"`
	Capabilities         *Capabilities   `json:"capabilities"`
	ServerImplementation *Implementation `json:"serverImplementation"`
	LastError            *string         `json:"lastError"`
	LastConnectedAt      *Time           `json:"lastConnectedAt"`
	// GatewayURL is where agents reach a proxy server through the API
	// (<public url>/mcp/servers/{id}); null for direct ones.
	GatewayURL *string `json:"gatewayUrl"`
	UpstreamAuth
	CheckState
	CreatedAt Time `json:"createdAt"`
	UpdatedAt Time `json:"updatedAt"`
}

// ServerEnvelope is the success body carrying one server.
type ServerEnvelope struct {
	Success bool   `json:"success"`
	Server  Server `json:"server"`
}

// ServerListEnvelope is the success body of GET /api/mcp/servers.
type ServerListEnvelope struct {
	Success    bool     `json:"success"`
	Servers    []Server `json:"servers"`
	NextCursor *string  `json:"nextCursor"`
}

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
	// AuthType defaults to AuthBearer when BearerToken is given, else to
	// AuthNone; stdio servers have AuthNone.
	AuthType AuthType `json:"authType,omitempty"`
	// BearerToken is write-only, sent as "Authorization: Bearer <token>" to
	// http and sse servers; forbidden for stdio.
	BearerToken *string `json:"bearerToken,omitempty"`
	// UpstreamAuthRequest is forbidden for stdio.
	UpstreamAuthRequest
	// ApprovedToolsHash pins the catalog a person approved; it must be a
	// toolsHash the record has had, so it cannot be set on create.
	ApprovedToolsHash *string `json:"approvedToolsHash,omitempty"`
}

// UpdateServerRequest is the body of PATCH /api/mcp/servers/{id}. Nil fields
// are left unchanged. Changing transportType drops the fields the new
// transport does not use (url, or command and args, and every credential
// when switching to stdio). An empty description or bearerToken removes it.
// A bearerToken without authType makes a server without one "bearer", and
// removing it makes a bearer server "none".
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
	AuthType    *AuthType `json:"authType,omitempty"`
	BearerToken *string   `json:"bearerToken,omitempty"`
	UpstreamAuthRequest
	// ApprovedToolsHash must be a toolsHash the record has had; "" removes the approval.
	ApprovedToolsHash *string `json:"approvedToolsHash,omitempty"`
}
