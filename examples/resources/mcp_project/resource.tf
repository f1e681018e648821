# A project groups the MCP servers of one team or application.
resource "mcp_project" "payments" {
  name        = "Payments"
  description = "MCP servers the payment agents call"
}

output "payments_project_id" {
  value = mcp_project.payments.id
}
