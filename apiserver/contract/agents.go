package contract

// Assignment gives an agent one connection or one proxied MCP server of
// its tenant (exactly one of ConnectionID and ServerID). Its tools reach the
// agent as <Prefix>__<tool>; AllowedTools nil means all of them.
type Assignment struct {
	ConnectionID *string `json:"connectionId,omitempty"`
	ServerID     *string `json:"serverId,omitempty"`
	// Prefix defaults to the record's name, lowercased, every run of
	// characters outside [a-z0-9] turned into "_", at most PrefixMaxLength.
	Prefix       string   `json:"prefix"`
	AllowedTools []string `json:"allowedTools"`
}

// Agent is an AI agent that uses its assigned records through the gateway
// at GatewayURL, authenticated by its tokens. Instructions are composed of
// the assigned records' instructions: "## <record name>" then the record's
// instructions, for each assignment in order that has some, separated by
// blank lines; null when none has.
type Agent struct {
	ID           string       `json:"id"`
	TenantID     string       `json:"tenantId"`
	Name         string       `json:"name"`
	Description  *string      `json:"description"`
	Assignments  []Assignment `json:"assignments"`
	Instructions *string      `json:"instructions"`
	GatewayURL   string       `json:"gatewayUrl"`
	CreatedAt    Time         `json:"createdAt"`
	UpdatedAt    Time         `json:"updatedAt"`
}

// CreateAgentRequest is the body of POST /api/agents.
type CreateAgentRequest struct {
	Name        string       `json:"name"`
	Description *string      `json:"description,omitempty"`
	Assignments []Assignment `json:"assignments,omitempty"`
}

// UpdateAgentRequest is the body of PATCH /api/agents/{id}. Nil fields are
// left unchanged; Assignments replaces the whole list (an empty list removes
// every assignment); an empty description removes it.
type UpdateAgentRequest struct {
	Name        *string       `json:"name,omitempty"`
	Description *string       `json:"description,omitempty"`
	Assignments *[]Assignment `json:"assignments,omitempty"`
}

// AgentList is one page of GET /api/agents.
type AgentList = Page[Agent]

// AgentTokenPrefix starts every agent token.
const AgentTokenPrefix = "mcpa_"

// AgentToken is a token an agent authenticates to the gateway with. Token
// is set only in the answer to its creation: it is stored as a hash.
type AgentToken struct {
	ID        string  `json:"id"`
	AgentID   string  `json:"agentId"`
	Name      string  `json:"name"`
	Token     *string `json:"token,omitempty"`
	ExpiresAt *Time   `json:"expiresAt"`
	CreatedAt Time    `json:"createdAt"`
}

// CreateAgentTokenRequest is the body of POST /api/agents/{id}/tokens.
type CreateAgentTokenRequest struct {
	Name      string `json:"name"`
	ExpiresAt *Time  `json:"expiresAt,omitempty"`
}

// AgentTokenList is one page of GET /api/agents/{id}/tokens.
type AgentTokenList = Page[AgentToken]

// AuditOutcome is how a gateway call ended; API writes are "ok".
type AuditOutcome string

// Audit outcomes (SPEC §10).
const (
	OutcomeOK          AuditOutcome = "ok"
	OutcomeError       AuditOutcome = "error"
	OutcomeBlocked     AuditOutcome = "blocked"
	OutcomeUnavailable AuditOutcome = "unavailable"
)

// AuditEvent is one gateway call (tools/call, prompts/get, resources/read)
// or one API write. Arguments and results are never recorded.
type AuditEvent struct {
	ID         string       `json:"id"`
	At         Time         `json:"at"`
	Action     string       `json:"action"`
	AgentID    *string      `json:"agentId"`
	TokenID    *string      `json:"tokenId"`
	APIKeyID   *string      `json:"apiKeyId"`
	RecordKind *string      `json:"recordKind"`
	RecordID   *string      `json:"recordId"`
	Tool       *string      `json:"tool"`
	Outcome    AuditOutcome `json:"outcome"`
	DurationMs *int64       `json:"durationMs"`
	Error      *string      `json:"error"`
}

// AuditEventList is one page of GET /api/audit-events, newest first.
type AuditEventList = Page[AuditEvent]

// PrefixMaxLength is the longest assignment prefix; a tool reaches an agent
// as <prefix>__<tool>, and names over 128 characters are left out.
const PrefixMaxLength = 32
