variable "helpdesk_client_secret" {
  description = "Client secret of the MCP API's OAuth 2.0 client at the helpdesk's authorization server."
  type        = string
  sensitive   = true
  ephemeral   = true
}

# OAuth 2.0 client credentials (machine to machine): the API fetches an
# access token from token_url, sends it as "Authorization: Bearer <token>",
# caches it until shortly before it expires and fetches a new one after the
# MCP server refuses it. The client secret is write-only: bump
# client_secret_wo_version when you rotate it.
resource "mcp_connection" "helpdesk" {
  name       = "Helpdesk"
  server_url = "https://helpdesk.example.com/mcp"
  auth_type  = "oauth2"
  oauth2 = {
    token_url                  = "https://auth.example.com/oauth2/token"
    client_id                  = "mcp-api"
    client_secret_wo           = var.helpdesk_client_secret
    client_secret_wo_version   = 1
    scopes                     = ["tickets:read", "tickets:write"]
    audience                   = "https://helpdesk.example.com"
    resource                   = "https://helpdesk.example.com/mcp" # RFC 8707
    token_endpoint_auth_method = "client_secret_post"               # default client_secret_basic
  }
}
