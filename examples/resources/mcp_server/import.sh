# An MCP server is imported by its id, "mcp_" followed by letters and digits.
terraform import mcp_server.example mcp_abc123
