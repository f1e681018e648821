# Look a connection up by name...
data "mcp_connection" "oms" {
  name = "Order Management System"
}

# ...or by id.
data "mcp_connection" "by_id" {
  id = "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11"
}

output "oms_server_url" {
  value = data.mcp_connection.oms.server_url
}
