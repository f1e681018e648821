variable "oms_token" {
  description = "Bearer token the MCP API presents to the order management MCP server."
  type        = string
  sensitive   = true
  ephemeral   = true
}

# A server that needs a bearer token. The token is write-only: Terraform sends
# it to the API but never stores it in the plan or state. Change
# bearer_token_wo_version whenever the token changes to send the new one.
resource "mcp_connection" "oms" {
  name                    = "Order Management System"
  server_url              = "https://mcp.example.com/oms"
  auth_type               = "bearer"
  bearer_token_wo         = var.oms_token
  bearer_token_wo_version = 1
}

# A server that needs no credentials.
resource "mcp_connection" "inventory" {
  name       = "Inventory"
  server_url = "https://mcp.example.com/inventory"
}

output "oms_status" {
  value = mcp_connection.oms.status
}
