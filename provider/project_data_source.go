package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
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

	p := lookupByIDOrName(ctx, &resp.Diagnostics, projectRecord, d.client, cfg.ID, cfg.Name, d.client.GetProject,
		func(ctx context.Context, name string) ([]contract.Project, error) {
			return d.client.ListAllProjects(ctx, client.ProjectListOptions{Name: name})
		},
		func(p *contract.Project) string { return p.Name })
	if p == nil {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, projectFieldsOf(p))...)
}
