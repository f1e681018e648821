package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// projectFields are the attributes of a project, in the resource and the data source alike.
type projectFields struct {
	recordFields
	Description types.String `tfsdk:"description"`
}

// projectFieldsOf converts the API's view of a project.
func projectFieldsOf(p *contract.Project) projectFields {
	return projectFields{
		recordFields: recordFieldsOf(p.ID, p.Name, p.CreatedAt, p.UpdatedAt),
		Description:  types.StringPointerValue(p.Description),
	}
}

// Descriptions shared by the resource and the data source.
const (
	descProjectID = "The project's id, `proj_` followed by letters and digits, assigned by the API. Use it as " +
		"`project_id` of `mcp_server`, pass it to `terraform import` or to the `mcp_project` data source."
	descProjectName      = "Human-readable name of the project, 1–200 characters, unique within the tenant."
	descProjectDesc      = "Free-text description of the project, up to 2000 characters."
	descProjectCreatedAt = "When the project was created, RFC 3339 in UTC."
	descProjectUpdatedAt = "When the project last changed, RFC 3339 in UTC."
)

// projectDescs are the descriptions of the attributes every kind has.
var projectDescs = recordDescs{id: descProjectID, name: descProjectName, description: descProjectDesc,
	createdAt: descProjectCreatedAt, updatedAt: descProjectUpdatedAt}

// projectRecord is how diagnostics name projects.
var projectRecord = record{kind: "project", noun: "project", typeName: "mcp_project", nameScope: "within a tenant", exampleID: "proj_abc123", checkID: checkProjectID}
