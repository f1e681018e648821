package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
)

var (
	_ datasource.DataSource                     = (*projectDataSource)(nil)
	_ datasource.DataSourceWithConfigure        = (*projectDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*projectDataSource)(nil)
)

// NewProjectDataSource returns the mcp_project data source.
func NewProjectDataSource() datasource.DataSource {
	return &projectDataSource{recordDataSource{rec: projectRecord, typeName: projectRecord.typeName}}
}

type projectDataSource struct {
	recordDataSource
}

func (d *projectDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one project of your tenant by `id` or by `name` (set exactly one), for example " +
			"to give an `mcp_server` the `project_id` of a project managed elsewhere.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Id of the project to look up (`proj_...`). Set either `id` or `name`.",
				Validators:          []validator.String{validProjectID()},
			},
			"name": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Name of the project to look up, matched exactly (case-sensitive). Set either `id` or `name`.",
				Validators:          []validator.String{validName()},
			},
			"description": schema.StringAttribute{Computed: true, MarkdownDescription: descProjectDesc + " Null when it has none."},
			"created_at":  schema.StringAttribute{Computed: true, MarkdownDescription: descProjectCreatedAt},
			"updated_at":  schema.StringAttribute{Computed: true, MarkdownDescription: descProjectUpdatedAt},
		},
	}
}

func (d *projectDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
	}
}

func (d *projectDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg projectFields
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}

	if !cfg.ID.IsNull() {
		id := cfg.ID.ValueString()
		p, err := d.client.GetProject(ctx, id)
		if errors.Is(err, client.ErrNotFound) {
			projectRecord.addNotFoundByID(&resp.Diagnostics, "id", id, "Check the id, or look the project up by name instead.")
			return
		}
		if err != nil {
			projectRecord.addError(&resp.Diagnostics, d.client, fmt.Sprintf("read project %s", id), err)
			return
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, projectFieldsOf(p))...)
		return
	}

	name := cfg.Name.ValueString()
	projects, err := d.client.ListAllProjects(ctx, client.ProjectListOptions{Name: name})
	if err != nil {
		projectRecord.addError(&resp.Diagnostics, d.client, fmt.Sprintf("look up project %q", name), err)
		return
	}
	// Names are unique per tenant; matching here keeps the lookup exact
	// whatever kind of match the API's filter does.
	for i := range projects {
		if projects[i].Name == name {
			resp.Diagnostics.Append(resp.State.Set(ctx, projectFieldsOf(&projects[i]))...)
			return
		}
	}
	resp.Diagnostics.AddAttributeError(path.Root("name"), "Project not found",
		fmt.Sprintf("No project named %q exists in the tenant of the provider's api_key. Names are case-sensitive; "+
			"check the spelling, or create the project with an mcp_project resource.", name))
}
