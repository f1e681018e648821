# Approving the tools a server offers. First apply without
# approved_tools_hash, review the tools (the mcp_connection_catalog data
# source lists them), then set it to the tools_hash you reviewed:
resource "mcp_connection" "crm" {
  name                = "CRM"
  server_url          = "https://mcp.example.com/crm"
  approved_tools_hash = "sha256:6f1ed002ab5595859014ebf0951522d9f6e3a2d2a1b2f6f0a8c3d5e7f9a1b2c3"
}

# From then on tools_drift turns true when a check sees other tools than the
# approved ones: one added, removed, or with a rewritten description or schema.
check "crm_tools_as_approved" {
  assert {
    condition     = !mcp_connection.crm.tools_drift
    error_message = "The CRM MCP server's tools changed since they were approved (tools_hash ${coalesce(mcp_connection.crm.tools_hash, "none")}). Review them, then set approved_tools_hash to the new hash."
  }
}
