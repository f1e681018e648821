variable "search_api_key" {
  description = "API key the search MCP server expects in its X-Api-Key header."
  type        = string
  sensitive   = true
  ephemeral   = true
}

# A server that wants an API key in a header of its own instead of a bearer
# token. headers_wo is write-only: the values go to the API (which stores
# them encrypted) but never into the plan or state; header_names shows which
# headers the API holds. Bump headers_wo_version whenever a value changes:
# the whole map is sent again and replaces the one the API holds.
resource "mcp_connection" "search" {
  name       = "Search"
  server_url = "https://search.example.com/mcp"
  headers_wo = {
    "X-Api-Key" = var.search_api_key
    "X-Tenant"  = "acme"
  }
  headers_wo_version = 1
}

output "search_header_names" {
  value = mcp_connection.search.header_names # ["X-Api-Key", "X-Tenant"]
}
