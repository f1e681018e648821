resource "mcp_project" "payments" {
  name = "Payments"
}

resource "mcp_server" "ledger" {
  project_id = mcp_project.payments.id
  name       = "Ledger"
  url        = "https://mcp.example.com/ledger"
}

# Warns at every plan and apply when the ledger server stops offering the
# tool the payment agent needs, or starts offering one that writes.
check "ledger_is_read_only" {
  data "mcp_server_catalog" "ledger" {
    server_id = mcp_server.ledger.id
  }

  assert {
    condition     = contains([for t in data.mcp_server_catalog.ledger.tools : t.name], "get_balance")
    error_message = "The ledger MCP server no longer offers get_balance, which the payment agent needs."
  }

  assert {
    # annotations is a JSON string, or null when the tool has none.
    condition = alltrue([
      for t in data.mcp_server_catalog.ledger.tools :
      try(jsondecode(t.annotations).readOnlyHint, false)
    ])
    error_message = "A tool of the ledger MCP server is not marked read-only."
  }
}
