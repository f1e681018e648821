package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"

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
	return &projectDataSource{lookupDataSource{recordDataSource{rec: projectRecord, typeName: projectRecord.typeName}}}
}

type projectDataSource struct {
	lookupDataSource
}

func (d *projectDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one project of your tenant by `id` or by `name` (set exactly one), for example " +
			"to give an `mcp_server` the `project_id` of a project managed elsewhere.",
		Attributes: map[string]schema.Attribute{
			"description": schema.StringAttribute{Computed: true, MarkdownDescription: descProjectDesc + " Null when it has none."},
			"created_at":  schema.StringAttribute{Computed: true, MarkdownDescription: descProjectCreatedAt},
			"updated_at":  schema.StringAttribute{Computed: true, MarkdownDescription: descProjectUpdatedAt},
		},
	}
	maps.Copy(resp.Schema.Attributes, projectRecord.lookupAttributes(
		"Id of the project to look up (`proj_...`).", validProjectID()))
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
