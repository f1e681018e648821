package contract

// ErrorBody is the error response of the /api/mcp-connections family.
type ErrorBody struct {
	Error string `json:"error"`
}

// EnvelopeError is the error body of the /api/mcp/servers and /api/projects families.
type EnvelopeError struct {
	Success bool   `json:"success"`
	Error   string `json:"error"`
}
