package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// NewProjectDataSource returns the mcp_project data source.
func NewProjectDataSource() datasource.DataSource {
	return &lookupDataSource[contract.Project, projectFields]{
		recordDataSource: recordDataSource{rec: projectRecord, typeName: projectRecord.typeName},
		description: "Looks up one project of your tenant by `id` or by `name` (set exactly one), for example " +
			"to give an `mcp_server` the `project_id` of a project managed elsewhere.",
		idDescription: "Id of the project to look up (`proj_...`).",
		idValidator:   validProjectID,
		descs:         projectDescs,
		get:           (*client.Client).GetProject,
		list: func(c *client.Client, ctx context.Context, name string) ([]contract.Project, error) {
			return c.ListAllProjects(ctx, client.ProjectListOptions{Name: name})
		},
		nameOf:   func(p *contract.Project) string { return p.Name },
		fieldsOf: noDiags(projectFieldsOf),
	}
}
