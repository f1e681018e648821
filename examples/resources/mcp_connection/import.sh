# An MCP connection is imported by its id, a UUID.
terraform import mcp_connection.example 3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11
