# An agent is imported by its id, a UUID.
terraform import mcp_agent.example 7c9e6679-7425-40de-944b-e07fc1f90ae7
