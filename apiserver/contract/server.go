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
	for _, v := range ServerStatuses {
		if s == v {
			return true
		}
	}
	return false
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
	return t == TransportStdio || t == TransportHTTP || t == TransportSSE
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
	return c == ConnectionDirect || c == ConnectionProxy
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
	ID                   string          `json:"id"`
	ProjectID            string          `json:"projectId"`
	Name                 string          `json:"name"`
	Description          *string         `json:"description"`
	URL                  *string         `json:"url"`
	TransportType        TransportType   `json:"transportType"`
	ConnectionType       ConnectionType  `json:"connectionType"`
	Command              *string         `json:"command"`
	Args                 []string        `json:"args"`
	Status               ServerStatus    `json:"status"`
	Capabilities         *Capabilities   `json:"capabilities"`
	ServerImplementation *Implementation `json:"serverImplementation"`
	LastError            *string         `json:"lastError"`
	LastConnectedAt      *Time           `json:"lastConnectedAt"`
	CreatedAt            Time            `json:"createdAt"`
	UpdatedAt            Time            `json:"updatedAt"`
}

// Project groups MCP servers within a tenant.
type Project struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	CreatedAt   Time    `json:"createdAt"`
	UpdatedAt   Time    `json:"updatedAt"`
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

// ProjectEnvelope is the success body carrying one project.
type ProjectEnvelope struct {
	Success bool    `json:"success"`
	Project Project `json:"project"`
}

// ProjectListEnvelope is the success body of GET /api/projects.
type ProjectListEnvelope struct {
	Success    bool      `json:"success"`
	Projects   []Project `json:"projects"`
	NextCursor *string   `json:"nextCursor"`
}

// EnvelopeError is the error body of the /api/mcp/servers and /api/projects families.
type EnvelopeError struct {
	Success bool   `json:"success"`
	Error   string `json:"error"`
}
