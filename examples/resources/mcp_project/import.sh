# A project is imported by its id, "proj_" followed by letters and digits.
terraform import mcp_project.example proj_abc123
