package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
)

var _ interface {
	datasource.DataSourceWithConfigure
	datasource.DataSourceWithValidateConfig
} = (*serverDataSource)(nil)

// NewServerDataSource returns the mcp_server data source.
func NewServerDataSource() datasource.DataSource {
	return &serverDataSource{recordDataSource{rec: serverRecord, typeName: serverRecord.typeName}}
}

type serverDataSource struct {
	recordDataSource
}

func (d *serverDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := dataSourceComputed.str
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up one MCP server of your tenant by `id`, or by `name` within a project " +
			"(`project_id`). Set either `id`, or `name` and `project_id`. No secret (bearer token, header values, " +
			"client secret, client key) is ever returned.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Id of the server to look up (`mcp_...`). Set either `id`, or `name` and `project_id`.",
				Validators:          []validator.String{validServerID},
			},
			"name": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Name of the server to look up, matched exactly (case-sensitive) within `project_id`, " +
					"which is then required: names are unique only within a project.",
				Validators: []validator.String{validName},
			},
			"project_id": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: descServerProjectID + " Required with `name`; computed when looking up by `id`.",
				Validators:          []validator.String{validProjectID},
			},
			"transport_type":  str(descServerTransport),
			"connection_type": str(descServerConnectionType),
			"url":             str(descServerURL),
			"command":         str(descServerCommand),
			"args": schema.ListAttribute{
				ElementType:         types.StringType,
				Computed:            true,
				MarkdownDescription: descServerArgs + " Null for `http` and `sse`.",
			},
			"last_connected_at": str(descServerLastConnectedAt),
			"gateway_url":       str(descServerGatewayURL),
			"auth_type":         str(descServerAuthType),
		},
	}
	maps.Copy(resp.Schema.Attributes, serverDescs.dataSourceAttributes())
	maps.Copy(resp.Schema.Attributes, checkStateDataSourceAttributes(descServerStatus, descServerLastError))
	maps.Copy(resp.Schema.Attributes, upstreamAuthDataSourceAttributes())
}

// ValidateConfig allows exactly id, or name with project_id. Unknown values
// count as set: they will be, once known.
func (d *serverDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var id, name, projectID types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("id"), &id)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("name"), &name)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("project_id"), &projectID)...)
	if resp.Diagnostics.HasError() {
		return
	}
	switch {
	case id.IsNull() && name.IsNull():
		resp.Diagnostics.AddError("Missing MCP server lookup",
			"Set id to look the server up by its id, or name and project_id to look it up by name within a project.")
	case !id.IsNull() && !name.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Conflicting MCP server lookup",
			"Set either id, or name and project_id, not both: remove name or id.")
	case !name.IsNull() && projectID.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("project_id"), "Missing project_id",
			"Looking an MCP server up by name needs project_id as well, since names are unique only within a "+
				"project: set project_id (e.g. mcp_project.<name>.id), or look the server up by id instead.")
	case !id.IsNull() && !projectID.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("project_id"), "project_id not used with id",
			"An id names one server already; project_id is only for looking up by name. Remove project_id, "+
				"or look the server up by name and project_id instead of id.")
	}
}

func (d *serverDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg serverView
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}

	if !cfg.ID.IsNull() {
		id := cfg.ID.ValueString()
		s, err := d.client.GetServer(ctx, id)
		if errors.Is(err, client.ErrNotFound) {
			serverRecord.addNotFoundByID(&resp.Diagnostics, "id", id, "Check the id, or look the server up by name and project_id instead.")
			return
		}
		if err != nil {
			serverRecord.addError(&resp.Diagnostics, d.client, fmt.Sprintf("read MCP server %s", id), err)
			return
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, serverViewOf(s))...)
		return
	}

	name, projectID := cfg.Name.ValueString(), cfg.ProjectID.ValueString()
	servers, err := d.client.ListAllServers(ctx, client.ServerListOptions{ProjectID: projectID, Name: name})
	if err != nil {
		serverRecord.addError(&resp.Diagnostics, d.client, fmt.Sprintf("look up MCP server %q in project %s", name, projectID), err)
		return
	}
	// Matching here keeps the lookup exact whatever the API's filters do.
	var ids []string
	match := -1
	for i := range servers {
		if servers[i].Name == name && servers[i].ProjectID == projectID {
			ids = append(ids, servers[i].ID)
			match = i
		}
	}
	switch len(ids) {
	case 0:
		resp.Diagnostics.AddAttributeError(path.Root("name"), "MCP server not found",
			fmt.Sprintf("No MCP server named %q exists in project %s of the tenant of the provider's api_key. "+
				"Names are case-sensitive; check the name and project_id, or look the server up by id.", name, projectID))
	case 1:
		resp.Diagnostics.Append(resp.State.Set(ctx, serverViewOf(&servers[match]))...)
	default:
		// Names are unique within a project, so this is the API's fault; say so rather than pick one.
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Ambiguous MCP server name",
			fmt.Sprintf("The API returned %d MCP servers named %q in project %s (%s). Look the server up by id instead.",
				len(ids), name, projectID, strings.Join(ids, ", ")))
	}
}
