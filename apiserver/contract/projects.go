package contract

// Project groups MCP servers within a tenant.
type Project struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	CreatedAt   Time    `json:"createdAt"`
	UpdatedAt   Time    `json:"updatedAt"`
}

// ProjectEnvelope is the success body carrying one project.
type ProjectEnvelope struct {
	Success bool    `json:"success"`
	Project Project `json:"project"`
}

// ProjectListEnvelope is the success body of GET /api/projects.
type ProjectListEnvelope struct {
	Success    bool      `json:"success"`
	Projects   []Project `json:"projects"`
	NextCursor *string   `json:"nextCursor"`
}

// CreateProjectRequest is the body of POST /api/projects.
type CreateProjectRequest struct {
	Name string `json:"name"`
	// Description is optional; an empty one is stored as none (null).
	Description *string `json:"description,omitempty"`
}

// UpdateProjectRequest is the body of PATCH /api/projects/{id}. Nil fields
// are left unchanged; an empty description removes it.
type UpdateProjectRequest struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}
