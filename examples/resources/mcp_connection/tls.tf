variable "billing_client_key" {
  description = "PEM private key of the client certificate the MCP API presents to the billing MCP server."
  type        = string
  sensitive   = true
  ephemeral   = true
}

# A server behind a private certificate authority that also demands a client
# certificate (mutual TLS). ca_bundle replaces the system's roots for this
# server; the client key is write-only: bump client_key_wo_version when you
# rotate it (a new client_certificate sends the key along by itself).
resource "mcp_connection" "billing" {
  name       = "Billing"
  server_url = "https://billing.internal.example.com/mcp"
  tls = {
    ca_bundle             = file("${path.module}/pki/internal-ca.pem")
    client_certificate    = file("${path.module}/pki/mcp-api.pem")
    client_key_wo         = var.billing_client_key
    client_key_wo_version = 1
  }
}

variable "reports_token" {
  description = "Bearer token the MCP API presents to the reports MCP server."
  type        = string
  sensitive   = true
  ephemeral   = true
}

# Only a private CA, no client certificate, with a bearer token as well.
resource "mcp_connection" "reports" {
  name                    = "Reports"
  server_url              = "https://reports.internal.example.com/mcp"
  auth_type               = "bearer"
  bearer_token_wo         = var.reports_token
  bearer_token_wo_version = 1
  tls = {
    ca_bundle = file("${path.module}/pki/internal-ca.pem")
  }
}
