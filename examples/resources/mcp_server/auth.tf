variable "treasury_client_secret" {
  description = "Client secret of the MCP API's OAuth 2.0 client for the treasury MCP server."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "treasury_client_key" {
  description = "PEM private key of the client certificate the MCP API presents to the treasury MCP server."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "treasury_api_key" {
  description = "Gateway API key the treasury MCP server's edge expects in X-Api-Key."
  type        = string
  sensitive   = true
  ephemeral   = true
}

# A server that asks for everything at once: OAuth 2.0 client credentials,
# an extra header for its API gateway, and mutual TLS with a private CA.
# Every secret is write-only (never in plan or state); bump its _version to
# send a new value. The API uses these for its checks and for the gateway
# alike, so agents reach the server without ever holding its credentials.
resource "mcp_server" "treasury" {
  project_id      = mcp_project.payments.id
  name            = "Treasury"
  url             = "https://treasury.internal.example.com/mcp"
  connection_type = "proxy"
  auth_type       = "oauth2"
  oauth2 = {
    token_url                = "https://auth.example.com/oauth2/token"
    client_id                = "mcp-api"
    client_secret_wo         = var.treasury_client_secret
    client_secret_wo_version = 1
    scopes                   = ["treasury:read"]
  }
  headers_wo         = { "X-Api-Key" = var.treasury_api_key }
  headers_wo_version = 1
  tls = {
    ca_bundle             = file("${path.module}/pki/internal-ca.pem")
    client_certificate    = file("${path.module}/pki/mcp-api.pem")
    client_key_wo         = var.treasury_client_key
    client_key_wo_version = 1
  }
}
