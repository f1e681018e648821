package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var _ interface {
	datasource.DataSourceWithConfigure
	datasource.DataSourceWithConfigValidators
} = (*lookupDataSource[contract.Agent, agentFields])(nil)

// lookupDataSource is the data source of a kind whose records are looked
// up by exactly one of id and name (mcp_connection, mcp_project,
// mcp_agent): T is the API's record, F its attributes in Terraform.
type lookupDataSource[T, F any] struct {
	recordDataSource
	description   string
	idDescription string // what the id looks like
	idValidator   validator.String
	descs         recordDescs
	// attributes are the kind's own computed attributes, besides those of
	// recordFields and the description; nil for a kind without any.
	attributes func() map[string]schema.Attribute
	get        func(c *client.Client, ctx context.Context, id string) (*T, error)
	// list lists the records the API's name filter matches.
	list     func(c *client.Client, ctx context.Context, name string) ([]T, error)
	nameOf   func(*T) string
	fieldsOf func(context.Context, *T) (F, diag.Diagnostics)
}

func (d *lookupDataSource[T, F]) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{MarkdownDescription: d.description, Attributes: d.descs.dataSourceAttributes()}
	if d.attributes != nil {
		maps.Copy(resp.Schema.Attributes, d.attributes())
	}
	maps.Copy(resp.Schema.Attributes, map[string]schema.Attribute{
		"id": schema.StringAttribute{
			Optional:            true,
			Computed:            true,
			MarkdownDescription: d.idDescription + " Set either `id` or `name`.",
			Validators:          []validator.String{d.idValidator},
		},
		"name": schema.StringAttribute{
			Optional:            true,
			Computed:            true,
			MarkdownDescription: "Name of the " + d.rec.noun + " to look up, matched exactly (case-sensitive). Set either `id` or `name`.",
			Validators:          []validator.String{validName},
		},
	})
}

// ConfigValidators allows exactly one of id and name. One validator for the
// pair gives one diagnostic for "neither" or "both".
func (d *lookupDataSource[T, F]) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name")),
	}
}

func (d *lookupDataSource[T, F]) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var id, name types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("id"), &id)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("name"), &name)...)
	if resp.Diagnostics.HasError() {
		return
	}
	found := lookupByIDOrName(ctx, &resp.Diagnostics, d.rec, d.client, id, name,
		func(ctx context.Context, id string) (*T, error) { return d.get(d.client, ctx, id) },
		func(ctx context.Context, name string) ([]T, error) { return d.list(d.client, ctx, name) },
		d.nameOf)
	if found == nil {
		return
	}
	fields, diags := d.fieldsOf(ctx, found)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, fields)...)
}

// noDiags adapts a conversion that cannot fail to lookupDataSource.fieldsOf.
func noDiags[T, F any](of func(*T) F) func(context.Context, *T) (F, diag.Diagnostics) {
	return func(_ context.Context, t *T) (F, diag.Diagnostics) { return of(t), nil }
}
