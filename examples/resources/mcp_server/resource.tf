variable "ledger_token" {
  description = "Bearer token the MCP API presents to the ledger MCP server."
  type        = string
  sensitive   = true
  ephemeral   = true
}

resource "mcp_project" "payments" {
  name = "Payments"
}

# A Streamable HTTP server that needs a bearer token. The token is write-only:
# Terraform sends it to the API but never stores it in the plan or state.
# Change bearer_token_wo_version whenever the token changes to send the new one.
# After the apply, status is "connected" or "error" (see last_error).
resource "mcp_server" "ledger" {
  project_id              = mcp_project.payments.id
  name                    = "Ledger"
  description             = "Read-only access to the general ledger"
  url                     = "https://mcp.example.com/ledger"
  connection_type         = "proxy"
  bearer_token_wo         = var.ledger_token
  bearer_token_wo_version = 1
}

# A server on the legacy HTTP+SSE transport, without credentials.
resource "mcp_server" "fx_rates" {
  project_id     = mcp_project.payments.id
  name           = "FX rates"
  transport_type = "sse"
  url            = "https://fx.example.com/sse"
}

# A stdio server is a child process the API starts. The API runs only the
# programs its operator lists in MCP_API_STDIO_COMMANDS (empty by default,
# which disables stdio servers), so uncomment this once "npx" is allowed.
#
# resource "mcp_server" "filesystem" {
#   project_id     = mcp_project.payments.id
#   name           = "Filesystem"
#   transport_type = "stdio"
#   command        = "npx"
#   args           = ["-y", "@modelcontextprotocol/server-filesystem", "/srv/reports"]
# }

output "ledger_status" {
  value = {
    status       = mcp_server.ledger.status
    last_error   = mcp_server.ledger.last_error
    capabilities = mcp_server.ledger.capabilities
  }
}
