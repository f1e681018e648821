# An agent token is imported by its agent's id and its own id (both UUIDs,
# from GET /api/agents/<agent_id>/tokens), separated by a slash. The token
# itself cannot be recovered: it is null after the import.
terraform import mcp_agent_token.example 7c9e6679-7425-40de-944b-e07fc1f90ae7/1b4e28ba-2fa1-11d2-883f-0016d3cca427
