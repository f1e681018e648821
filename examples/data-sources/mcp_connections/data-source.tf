# Every connection whose last health check failed.
data "mcp_connections" "failing" {
  status = "error"
}

output "failing_connections" {
  value = { for c in data.mcp_connections.failing.connections : c.name => c.last_error }
}

# All connections of the tenant.
data "mcp_connections" "all" {}
