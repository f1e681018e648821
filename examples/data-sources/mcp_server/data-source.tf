data "mcp_project" "payments" {
  name = "Payments"
}

# Look a server up by name within its project...
data "mcp_server" "ledger" {
  project_id = data.mcp_project.payments.id
  name       = "Ledger"
}

# ...or by id.
data "mcp_server" "by_id" {
  id = "mcp_abc123"
}

output "ledger_health" {
  value = {
    status         = data.mcp_server.ledger.status
    last_error     = data.mcp_server.ledger.last_error
    implementation = data.mcp_server.ledger.server_implementation
  }
}
