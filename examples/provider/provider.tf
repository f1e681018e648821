terraform {
  required_version = ">= 1.11" # write-only attributes such as bearer_token_wo
  required_providers {
    mcp = {
      source = "mcpconn/mcp"
    }
  }
}

variable "mcp_api_key" {
  description = "API key of your tenant (mcp-api key create --tenant <uuid>)."
  type        = string
  sensitive   = true
}

# Both arguments may instead come from MCP_ENDPOINT and MCP_API_KEY.
provider "mcp" {
  endpoint = "http://127.0.0.1:8080"
  api_key  = var.mcp_api_key
}
