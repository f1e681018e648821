variable "docs_client_secret" {
  description = "Client secret of the MCP API's OAuth 2.0 client for the docs MCP server."
  type        = string
  sensitive   = true
  ephemeral   = true
}

# Without token_url the API discovers the token endpoint the way the MCP
# authorization specification says: the server's 401 WWW-Authenticate names
# its RFC 9728 protected resource metadata, which names the authorization
# server, whose RFC 8414 metadata holds the token_endpoint.
resource "mcp_connection" "docs" {
  name       = "Docs"
  server_url = "https://docs.example.com/mcp"
  auth_type  = "oauth2"
  oauth2 = {
    client_id                = "mcp-api"
    client_secret_wo         = var.docs_client_secret
    client_secret_wo_version = 1
    scopes                   = ["docs:read"]
  }
}
