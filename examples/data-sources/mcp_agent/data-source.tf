# Look an agent up by name...
data "mcp_agent" "support" {
  name = "Support assistant"
}

# ...or by id.
data "mcp_agent" "by_id" {
  id = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
}

output "support_agent" {
  value = {
    gateway_url = data.mcp_agent.support.gateway_url
    prefixes    = [for a in data.mcp_agent.support.assignment : a.prefix]
  }
}
