# Approving the tools a server offers. First apply without
# approved_tools_hash, review the tools (the mcp_server_catalog data source
# lists them), then set it to the tools_hash you reviewed:
resource "mcp_server" "tickets" {
  project_id          = mcp_project.payments.id
  name                = "Tickets"
  url                 = "https://mcp.example.com/tickets"
  approved_tools_hash = "sha256:0c4d2e8f6a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d"
}

# tools_drift turns true when a check sees other tools than the approved
# ones; removing approved_tools_hash removes the approval.
check "tickets_tools_as_approved" {
  assert {
    condition     = !mcp_server.tickets.tools_drift
    error_message = "The tickets MCP server's tools changed since they were approved. Review them (data source mcp_server_catalog), then set approved_tools_hash to the new tools_hash."
  }
}
