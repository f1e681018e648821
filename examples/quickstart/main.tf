# The quick start that make demo applies: one MCP connection, looked up again
# by name through the data source, with its health read back; the same MCP
# server registered as a proxied MCP server in a project; and an agent
# assigned both, with a token, that uses them through the gateway without
# ever holding the MCP server's bearer token.
#
# The provider reads MCP_ENDPOINT and MCP_API_KEY from the environment.

terraform {
  required_version = ">= 1.11"
  required_providers {
    mcp = {
      source = "mcpconn/mcp"
    }
  }
}

provider "mcp" {}

variable "mcp_server_url" {
  description = "Streamable HTTP endpoint of the MCP server to register."
  type        = string
}

variable "mcp_server_token" {
  description = "Bearer token the MCP server expects. Write-only: never stored in plan or state."
  type        = string
  sensitive   = true
  ephemeral   = true
}

resource "mcp_connection" "orders" {
  name                    = "Order desk (demo)"
  server_url              = var.mcp_server_url
  auth_type               = "bearer"
  bearer_token_wo         = var.mcp_server_token
  bearer_token_wo_version = 1
}

# Looked up by name, as another configuration would; it is read after the
# connection is applied because it refers to it.
data "mcp_connection" "orders" {
  name = mcp_connection.orders.name
}

output "connection_id" {
  value = mcp_connection.orders.id
}

output "status" {
  description = "active when the API's MCP handshake with the server passed."
  value       = data.mcp_connection.orders.status
}

output "last_error" {
  value = data.mcp_connection.orders.last_error
}

output "instructions" {
  description = "What the MCP server tells agents, read back through the API."
  value       = data.mcp_connection.orders.instructions
}

# The same MCP server registered a second way: as a server in a project,
# which the API connects to right after the apply creates it. Proxied, it is
# served through the gateway at its gateway_url, where agents may use it.
resource "mcp_project" "demo" {
  name        = "Demo"
  description = "The quick start's project"
}

resource "mcp_server" "orders" {
  project_id              = mcp_project.demo.id
  name                    = "Order desk"
  url                     = var.mcp_server_url
  bearer_token_wo         = var.mcp_server_token
  bearer_token_wo_version = 1
  connection_type         = "proxy"
}

output "server_id" {
  value = mcp_server.orders.id
}

output "server_status" {
  description = "connected when the API's MCP handshake with the server succeeded."
  value       = mcp_server.orders.status
}

# What the connection's MCP server offers, as its last passing check listed it.
data "mcp_connection_catalog" "orders" {
  connection_id = mcp_connection.orders.id
}

output "tools" {
  description = "The tools the MCP server offers, with the hash that pins each definition."
  value       = { for t in data.mcp_connection_catalog.orders.tools : t.name => t.hash }
}

# Warns on plan and apply if the tool an order agent relies on disappears.
check "order_status_offered" {
  assert {
    condition     = contains([for t in data.mcp_connection_catalog.orders.tools : t.name], "order_status")
    error_message = "The order desk MCP server no longer offers order_status."
  }
}

# The agent: the connection's tools as desk__<tool>, only order_status of
# them, and the proxied server's as orders__<tool>. Its instructions are the
# connection's, then the server's.
resource "mcp_agent" "orders" {
  name        = "Order assistant (demo)"
  description = "Answers questions about orders"

  assignment {
    connection_id = mcp_connection.orders.id
    prefix        = "desk"
    allowed_tools = ["order_status"]
  }

  assignment {
    server_id = mcp_server.orders.id
    prefix    = "orders"
  }
}

# The token the agent authenticates to the gateway with; the API shows it
# once and keeps only its hash.
resource "mcp_agent_token" "orders" {
  agent_id = mcp_agent.orders.id
  name     = "demo"
}

# Hand the agent these two values: one URL and one token.
output "agent_gateway_url" {
  description = "The agent's MCP endpoint: every assigned record's tools behind one URL."
  value       = mcp_agent.orders.gateway_url
}

output "agent_token" {
  description = "Read it with: terraform output -raw agent_token"
  value       = mcp_agent_token.orders.token
  sensitive   = true
}

output "agent_instructions" {
  value = mcp_agent.orders.instructions
}
