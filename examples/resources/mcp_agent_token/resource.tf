data "mcp_agent" "support" {
  name = "Support assistant"
}

# The API shows a token once; the provider keeps it in state, so keep the
# state in an encrypted backend and pass the token on only as a sensitive
# value. Any change issues a new token and revokes the old one.
resource "mcp_agent_token" "support_ci" {
  agent_id   = data.mcp_agent.support.id
  name       = "ci"
  expires_at = "2027-06-30T00:00:00Z"
}

# Read it with: terraform output -raw support_token
output "support_token" {
  value     = mcp_agent_token.support_ci.token
  sensitive = true
}

output "support_gateway_url" {
  value = data.mcp_agent.support.gateway_url
}
