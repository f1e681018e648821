# Look a project up by name...
data "mcp_project" "payments" {
  name = "Payments"
}

# ...or by id.
data "mcp_project" "by_id" {
  id = "proj_abc123"
}

output "payments_project_id" {
  value = data.mcp_project.payments.id
}
