package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// importableResource is what every resource implements beyond Resource:
// it is configured with the provider's client and imports by id. Each
// resource asserts it (or validatedResource) next to its type.
type importableResource interface {
	resource.ResourceWithConfigure
	resource.ResourceWithImportState
}

// validatedResource is an importableResource that also checks its
// configuration at plan time.
type validatedResource interface {
	importableResource
	resource.ResourceWithValidateConfig
}

// recordResource is what every resource shares: the kind of record it
// manages, the API client, its type name, Configure, import by id and, for
// a kind whose delete needs no words of its own, Delete. A resource embeds
// it and adds its schema and the rest of its CRUD.
type recordResource struct {
	rec    record
	client *client.Client
	// remove deletes the record id, e.g. (*client.Client).DeleteConnection;
	// nil for a resource with a Delete of its own.
	remove func(c *client.Client, ctx context.Context, id string) error
}

// Metadata names the resource after its record kind, e.g. mcp_connection.
func (r *recordResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = typeNameOf(req.ProviderTypeName, r.rec.typeName)
}

// Configure takes the API client from the provider.
func (r *recordResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

// ImportState imports a record by its id, checked before it reaches state.
func (r *recordResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !r.rec.importID(req.ID, &resp.Diagnostics) {
		return
	}
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// Delete deletes the record in state with remove. One already gone is what
// delete wants.
func (r *recordResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var id, name types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("name"), &name)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.remove(r.client, ctx, id.ValueString())
	if err != nil && !errors.Is(err, client.ErrNotFound) {
		r.rec.addError(&resp.Diagnostics, r.client, fmt.Sprintf("delete %s %q (%s)", r.rec.kind, name.ValueString(), id.ValueString()), err)
	}
}

// readFound reports whether the record with id that Read got (err is the
// client's answer) is there to put in state. One deleted outside Terraform
// is dropped from state, which makes the plan re-create it; any other
// error is a diagnostic.
func (r *recordResource) readFound(ctx context.Context, resp *resource.ReadResponse, id string, err error) bool {
	if errors.Is(err, client.ErrNotFound) {
		tflog.Warn(ctx, r.rec.kind+" no longer exists; removing it from state", map[string]any{"id": id})
		resp.State.RemoveResource(ctx)
		return false
	}
	if err != nil {
		r.rec.addError(&resp.Diagnostics, r.client, fmt.Sprintf("read %s %s", r.rec.kind, id), err)
		return false
	}
	return true
}

// readRecord is Read for a resource whose state M is refreshed from the
// API's record T: it reads the record in state with get, drops a record
// deleted outside Terraform (readFound), and otherwise lets refresh put
// the API's answer into the state model before it is saved.
func readRecord[M, T any](ctx context.Context, r *recordResource, req resource.ReadRequest, resp *resource.ReadResponse,
	get func(c *client.Client, ctx context.Context, id string) (*T, error), refresh func(state *M, got *T) diag.Diagnostics) {
	var (
		state M
		id    types.String
	)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	if resp.Diagnostics.HasError() {
		return
	}
	got, err := get(r.client, ctx, id.ValueString())
	if !r.readFound(ctx, resp, id.ValueString(), err) {
		return
	}
	resp.Diagnostics.Append(refresh(&state, got)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// recordDataSource is what every data source shares: the kind of record it
// reads, its type name and the API client.
type recordDataSource struct {
	rec      record
	typeName string // e.g. "mcp_connections"
	client   *client.Client
}

// Metadata names the data source.
func (d *recordDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = typeNameOf(req.ProviderTypeName, d.typeName)
}

// Configure takes the API client from the provider.
func (d *recordDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

// typeNameOf is a full type name such as "mcp_connection" under the
// provider's own type name, which is what Terraform asks for.
func typeNameOf(providerTypeName, typeName string) string {
	return providerTypeName + strings.TrimPrefix(typeName, "mcp")
}

// addNotFoundByID reports that no record of this kind has id; hint says
// what to do instead.
func (r record) addNotFoundByID(diags *diag.Diagnostics, attr, id, hint string) {
	diags.AddAttributeError(path.Root(attr), capitalize(r.kind)+" not found",
		fmt.Sprintf("No %s with id %s exists in the tenant of the provider's api_key. %s", r.kind, id, hint))
}

// lookupByIDOrName reads the record a data source names: by id, or by name
// through the list's name filter and an exact match (names are unique per
// tenant, whatever kind of match the API's filter does). When it finds
// none it adds the diagnostic that says why, and returns nil.
func lookupByIDOrName[T any](ctx context.Context, diags *diag.Diagnostics, rec record, c *client.Client, id, name types.String,
	get func(context.Context, string) (*T, error), list func(context.Context, string) ([]T, error), nameOf func(*T) string) *T {
	idHint := "Check the id, or look the " + rec.noun + " up by name instead."
	nameHint := fmt.Sprintf("check the spelling, or create the %s with an %s resource.", rec.noun, rec.typeName)
	if rec.listedBy != "" {
		listed := "the " + rec.listedBy + " data source lists the " + rec.noun + "s that exist."
		idHint, nameHint = "Check the id; "+listed, listed
	}
	if !id.IsNull() {
		v := id.ValueString()
		got, err := get(ctx, v)
		if errors.Is(err, client.ErrNotFound) {
			rec.addNotFoundByID(diags, "id", v, idHint)
			return nil
		}
		if err != nil {
			rec.addError(diags, c, fmt.Sprintf("read %s %s", rec.kind, v), err)
			return nil
		}
		return got
	}
	n := name.ValueString()
	all, err := list(ctx, n)
	if err != nil {
		rec.addError(diags, c, fmt.Sprintf("look up %s %q", rec.kind, n), err)
		return nil
	}
	for i := range all {
		if nameOf(&all[i]) == n {
			return &all[i]
		}
	}
	diags.AddAttributeError(path.Root("name"), capitalize(rec.kind)+" not found",
		fmt.Sprintf("No %s named %q exists in the tenant of the provider's api_key. Names are case-sensitive; %s",
			rec.kind, n, nameHint))
	return nil
}

// recordFields are the attributes every kind of record has: embedded in
// each kind's fields, so they are declared and converted once.
type recordFields struct {
	ID        types.String `tfsdk:"id"`
	Name      types.String `tfsdk:"name"`
	CreatedAt types.String `tfsdk:"created_at"`
	UpdatedAt types.String `tfsdk:"updated_at"`
}

// recordFieldsOf converts what the API returns of every record.
func recordFieldsOf(id, name string, createdAt, updatedAt contract.Time) recordFields {
	return recordFields{
		ID:        types.StringValue(id),
		Name:      types.StringValue(name),
		CreatedAt: types.StringValue(createdAt.String()),
		UpdatedAt: types.StringValue(updatedAt.String()),
	}
}

// timeOrNull is t as RFC 3339, or null when the API has none.
func timeOrNull(t *contract.Time) types.String {
	if t == nil {
		return types.StringNull()
	}
	return types.StringValue(t.String())
}

// changedString is the planned value when it differs from state's, else
// nil: an update sends only what changed.
func changedString(plan, state types.String) *string {
	if plan.Equal(state) {
		return nil
	}
	return plan.ValueStringPointer()
}

// changedDescription is changedString for a description, which the API
// removes when it is sent empty: a removed one is sent as "".
func changedDescription(plan, state types.String) *string {
	if plan.Equal(state) {
		return nil
	}
	return new(plan.ValueString())
}

// updateOrGet sends body, the changes of the record id, with update, or,
// when nothing the API holds changed, only reads the record back with get
// for its computed attributes: an update with nothing in it is no write.
func updateOrGet[T, B any](ctx context.Context, c *client.Client, id string, body B, changed bool,
	update func(c *client.Client, ctx context.Context, id string, body B) (*T, error),
	get func(c *client.Client, ctx context.Context, id string) (*T, error)) (*T, error) {
	if changed {
		return update(c, ctx, id, body)
	}
	return get(c, ctx, id)
}
