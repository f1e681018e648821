variable "oms_token" {
  description = "Bearer token the MCP API presents to the order management MCP server."
  type        = string
  sensitive   = true
  ephemeral   = true
}

# The records the agent uses. The agent never sees their credentials: the
# gateway injects them on every call.
resource "mcp_connection" "oms" {
  name                    = "Order Management System"
  server_url              = "https://mcp.example.com/oms"
  auth_type               = "bearer"
  bearer_token_wo         = var.oms_token
  bearer_token_wo_version = 1
}

resource "mcp_project" "payments" {
  name = "Payments"
}

# Only a proxied server can be assigned to an agent.
resource "mcp_server" "ledger" {
  project_id      = mcp_project.payments.id
  name            = "Ledger"
  url             = "https://mcp.example.com/ledger"
  connection_type = "proxy"
}

# The agent finds the connection's tools as oms__<tool> and the server's as
# ledger__<tool> (its name, lowercased), and only the two ledger tools listed.
# Its instructions are the connection's, then the server's, in this order.
resource "mcp_agent" "support" {
  name        = "Support assistant"
  description = "Answers customer questions about orders and invoices"

  assignment {
    connection_id = mcp_connection.oms.id
    prefix        = "oms"
  }

  assignment {
    server_id     = mcp_server.ledger.id
    allowed_tools = ["get_invoice", "list_invoices"]
  }
}

# Hand the agent these two values: its MCP endpoint and a token for it
# (mcp_agent_token).
output "support_gateway_url" {
  value = mcp_agent.support.gateway_url
}

output "support_instructions" {
  value = mcp_agent.support.instructions
}
