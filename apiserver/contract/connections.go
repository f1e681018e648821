package contract

// ConnectionStatus is the health of an MCP connection.
type ConnectionStatus string

// Connection statuses, as in the seed document.
const (
	// ConnectionActive means the last health check passed.
	ConnectionActive ConnectionStatus = "active"
	// ConnectionError means the last health check failed.
	ConnectionError ConnectionStatus = "error"
	// ConnectionUnknown means no health check has been performed since the endpoint was set.
	ConnectionUnknown ConnectionStatus = "unknown"
)

// ConnectionStatuses lists every valid ConnectionStatus.
var ConnectionStatuses = []ConnectionStatus{ConnectionActive, ConnectionError, ConnectionUnknown}

// Valid reports whether s is one of ConnectionStatuses.
func (s ConnectionStatus) Valid() bool {
	return oneOf(s, ConnectionStatuses)
}

// AuthType is how the API authenticates to an MCP server.
type AuthType string

// Authentication types.
const (
	// AuthBearer sends "Authorization: Bearer <token>" to the MCP server.
	AuthBearer AuthType = "bearer"
	// AuthNone sends no credentials (beyond any extra headers).
	AuthNone AuthType = "none"
)

// AuthTypes lists every valid AuthType.
var AuthTypes = []AuthType{AuthBearer, AuthNone, AuthOAuth2}

// SetsAuthorization reports whether a sends its own Authorization header,
// which an extra header must then not replace.
func (a AuthType) SetsAuthorization() bool {
	return a == AuthBearer || a == AuthOAuth2
}

// Valid reports whether a is one of AuthTypes.
func (a AuthType) Valid() bool {
	return oneOf(a, AuthTypes)
}

// Connection is an MCP connection as the API returns it. The bearer token is
// write-only and never part of it.
type Connection struct {
	ID                string           `json:"id"`
	TenantID          string           `json:"tenantId"`
	Name              string           `json:"name"`
	ServerURL         string           `json:"serverUrl"`
	AuthType          AuthType         `json:"authType"`
	Status            ConnectionStatus `json:"status"`
	Instructions      *string          `json:"instructions"`
	LastError         *string          `json:"lastError"`
	LastHealthCheckAt *Time            `json:"lastHealthCheckAt"`
	// Capabilities and ServerImplementation are from the last passing check.
	Capabilities         *Capabilities   `json:"capabilities"`
	ServerImplementation *Implementation `json:"serverImplementation"`
	UpstreamAuth
	CheckState
	CreatedAt Time `json:"createdAt"`
	UpdatedAt Time `json:"updatedAt"`
}

// CreateConnectionRequest is the body of POST /api/mcp-connections.
type CreateConnectionRequest struct {
	Name      string `json:"name"`
	ServerURL string `json:"serverUrl"`
	// AuthType defaults to AuthNone when empty.
	AuthType AuthType `json:"authType,omitempty"`
	// BearerToken is required when AuthType is AuthBearer and forbidden otherwise.
	BearerToken *string `json:"bearerToken,omitempty"`
	// OAuth2 is required when AuthType is AuthOAuth2 and forbidden otherwise.
	UpstreamAuthRequest
	// ApprovedToolsHash pins the catalog a person approved; it must be a
	// toolsHash the record has had, so it cannot be set on create.
	ApprovedToolsHash *string `json:"approvedToolsHash,omitempty"`
}

// UpdateConnectionRequest is the body of PATCH /api/mcp-connections/{id}.
// Nil fields are left unchanged.
type UpdateConnectionRequest struct {
	Name        *string   `json:"name,omitempty"`
	ServerURL   *string   `json:"serverUrl,omitempty"`
	AuthType    *AuthType `json:"authType,omitempty"`
	BearerToken *string   `json:"bearerToken,omitempty"`
	UpstreamAuthRequest
	// ApprovedToolsHash must be a toolsHash the record has had; "" removes the approval.
	ApprovedToolsHash *string `json:"approvedToolsHash,omitempty"`
}

// ConnectionList is one page of GET /api/mcp-connections.
type ConnectionList = Page[Connection]
