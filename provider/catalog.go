package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var _ datasource.DataSourceWithConfigure = (*catalogDataSource)(nil)

// catalogDataSource is the catalog data source of one record kind
// (mcp_connection_catalog, mcp_server_catalog): the record's id attribute
// and the catalogFields.
type catalogDataSource struct {
	recordDataSource
	description   string
	idAttr        string // "connection_id"
	idDescription string
	idValidator   validator.String
	notFoundHint  string // what to do when no record has the id
	// catalog gets the catalog of the record with id.
	catalog func(ctx context.Context, c *client.Client, id string) (*contract.Catalog, error)
	// subject gets the record with id itself, to tell why it has no catalog.
	subject func(ctx context.Context, c *client.Client, id string) (catalogSubject, error)
}

// catalogSubject is what the diagnostics about a missing catalog say of its record.
type catalogSubject struct {
	name, status string
	passed       bool // the last check passed
	lastError    *string
}

func (d *catalogDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{MarkdownDescription: d.description, Attributes: catalogAttributes()}
	resp.Schema.Attributes[d.idAttr] = schema.StringAttribute{
		Required:            true,
		MarkdownDescription: d.idDescription,
		Validators:          []validator.String{d.idValidator},
	}
}

func (d *catalogDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var idValue types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(d.idAttr), &idValue)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := idValue.ValueString()

	cat, err := d.catalog(ctx, d.client, id)
	if errors.Is(err, client.ErrNotFound) {
		// The API answers 404 for both a missing record and one
		// without a passing check; the record itself tells which.
		s, getErr := d.subject(ctx, d.client, id)
		switch {
		case getErr == nil:
			d.rec.addNoCatalog(&resp.Diagnostics, d.idAttr, s.name, id, s.status, s.passed, s.lastError)
		case errors.Is(getErr, client.ErrNotFound):
			d.rec.addNotFoundByID(&resp.Diagnostics, d.idAttr, id, d.notFoundHint)
		default:
			d.rec.addError(&resp.Diagnostics, d.client, fmt.Sprintf("read %s %s", d.rec.kind, id), getErr)
		}
		return
	}
	if err != nil {
		d.rec.addError(&resp.Diagnostics, d.client, fmt.Sprintf("read the catalog of %s %s", d.rec.kind, id), err)
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(d.idAttr), idValue)...)
	resp.Diagnostics.Append(catalogFieldsOf(cat).setIn(ctx, &resp.State)...)
}

// setIn writes the fields into state attribute by attribute, beside the
// record's id attribute, whose name differs by kind.
func (f catalogFields) setIn(ctx context.Context, state *tfsdk.State) diag.Diagnostics {
	var diags diag.Diagnostics
	for attr, value := range map[string]any{
		"tools": f.Tools, "prompts": f.Prompts, "resources": f.Resources,
		"tools_hash": f.ToolsHash, "observed_at": f.ObservedAt, "truncated": f.Truncated,
	} {
		diags.Append(state.SetAttribute(ctx, path.Root(attr), value)...)
	}
	return diags
}

// catalogFields are the attributes of both catalog data sources: what a
// record's last passing check found its server offers (SPEC §8).
type catalogFields struct {
	Tools      []catalogTool     `tfsdk:"tools"`
	Prompts    []catalogPrompt   `tfsdk:"prompts"`
	Resources  []catalogResource `tfsdk:"resources"`
	ToolsHash  types.String      `tfsdk:"tools_hash"`
	ObservedAt types.String      `tfsdk:"observed_at"`
	Truncated  types.Bool        `tfsdk:"truncated"`
}

type catalogTool struct {
	Name         types.String `tfsdk:"name"`
	Title        types.String `tfsdk:"title"`
	Description  types.String `tfsdk:"description"`
	InputSchema  types.String `tfsdk:"input_schema"`
	OutputSchema types.String `tfsdk:"output_schema"`
	Annotations  types.String `tfsdk:"annotations"`
	Hash         types.String `tfsdk:"hash"`
}

type catalogPrompt struct {
	Name        types.String `tfsdk:"name"`
	Title       types.String `tfsdk:"title"`
	Description types.String `tfsdk:"description"`
	Arguments   types.String `tfsdk:"arguments"`
}

type catalogResource struct {
	URI         types.String `tfsdk:"uri"`
	Name        types.String `tfsdk:"name"`
	Title       types.String `tfsdk:"title"`
	Description types.String `tfsdk:"description"`
	MIMEType    types.String `tfsdk:"mime_type"`
}

// jsonString is a JSON value as a Terraform string (for jsondecode), or null when there is none.
func jsonString(raw json.RawMessage) types.String {
	if len(raw) == 0 || string(raw) == "null" {
		return types.StringNull()
	}
	return types.StringValue(string(raw))
}

// optionalString is s, or null when the server sent none ("").
func optionalString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// catalogFieldsOf converts the API's catalog. The lists are never null, so
// a server without prompts has prompts = [] and a for expression over it works.
func catalogFieldsOf(c *contract.Catalog) catalogFields {
	f := catalogFields{
		Tools:      make([]catalogTool, 0, len(c.Tools)),
		Prompts:    make([]catalogPrompt, 0, len(c.Prompts)),
		Resources:  make([]catalogResource, 0, len(c.Resources)),
		ToolsHash:  types.StringValue(c.ToolsHash),
		ObservedAt: types.StringValue(c.ObservedAt.String()),
		Truncated:  types.BoolValue(c.Truncated),
	}
	for _, t := range c.Tools {
		f.Tools = append(f.Tools, catalogTool{
			Name:         types.StringValue(t.Name),
			Title:        optionalString(t.Title),
			Description:  optionalString(t.Description),
			InputSchema:  jsonString(t.InputSchema),
			OutputSchema: jsonString(t.OutputSchema),
			Annotations:  jsonString(t.Annotations),
			Hash:         types.StringValue(t.Hash),
		})
	}
	for _, p := range c.Prompts {
		f.Prompts = append(f.Prompts, catalogPrompt{
			Name:        types.StringValue(p.Name),
			Title:       optionalString(p.Title),
			Description: optionalString(p.Description),
			Arguments:   jsonString(p.Arguments),
		})
	}
	for _, r := range c.Resources {
		f.Resources = append(f.Resources, catalogResource{
			URI:         types.StringValue(r.URI),
			Name:        types.StringValue(r.Name),
			Title:       optionalString(r.Title),
			Description: optionalString(r.Description),
			MIMEType:    optionalString(r.MIMEType),
		})
	}
	return f
}

// catalogAttributes are the computed attributes of both catalog data sources.
func catalogAttributes() map[string]schema.Attribute {
	str, list := dataSourceComputed.str, dataSourceComputed.list
	return map[string]schema.Attribute{
		"tools": list("The tools the server offers, in the server's order. Empty when it offers none.", map[string]schema.Attribute{
			"name":        str("The tool's name, as agents call it."),
			"title":       str("The tool's display title; null when the server gave none."),
			"description": str("The tool's description, which agents read to decide when to call it; null when the server gave none."),
			"input_schema": str("The JSON Schema of the tool's arguments, as a JSON string (canonical form, RFC 8785); " +
				"use `jsondecode` to read it."),
			"output_schema": str("The JSON Schema of the tool's structured result, as a JSON string; null when the " +
				"server declared none."),
			"annotations": str("The tool's annotations (hints such as `readOnlyHint` or `destructiveHint`), as a JSON " +
				"string; null when the server gave none."),
			"hash": str("`sha256:` and the hex SHA-256 of the RFC 8785 canonical JSON of the tool as the server sent it, " +
				"without `_meta`: it changes whenever any part of the tool's definition does."),
		}),
		"prompts": list("The prompts the server offers; empty when it offers none or does not advertise prompts.", map[string]schema.Attribute{
			"name":        str("The prompt's name."),
			"title":       str("The prompt's display title; null when the server gave none."),
			"description": str("The prompt's description; null when the server gave none."),
			"arguments":   str("The prompt's arguments, as a JSON string (a list of objects with `name`, `description` and `required`); null when it takes none."),
		}),
		"resources": list("The resources the server lists; empty when it lists none or does not advertise resources.", map[string]schema.Attribute{
			"uri":         str("The resource's URI."),
			"name":        str("The resource's name."),
			"title":       str("The resource's display title; null when the server gave none."),
			"description": str("The resource's description; null when the server gave none."),
			"mime_type":   str("The resource's MIME type; null when the server gave none."),
		}),
		"tools_hash": str("Hash of all the tools: `sha256:` and the hex SHA-256 of the sorted lines `<name> <hash>`. " +
			"The same value as the record's `tools_hash`, and what `approved_tools_hash` takes."),
		"observed_at": str("When the check that read this catalog ran, RFC 3339 in UTC."),
		"truncated": dataSourceComputed.boolean("`true` when the server offered more " +
			"than the API keeps (1,000 items of a kind, 4 MiB in all): the lists hold the first ones only."),
	}
}

// addNoCatalog reports a catalog the API does not have although the record
// exists. Usually no check of it has passed yet (status and lastError say
// why); a record whose last check passed before the API kept catalogs has
// none until its next check.
func (r record) addNoCatalog(diags *diag.Diagnostics, attr, name, id, status string, passed bool, lastError *string) {
	if passed {
		diags.AddAttributeError(path.Root(attr), "No catalog yet", fmt.Sprintf(
			"The %s %q (%s) exists and its status is %q, but the API has no catalog of its tools: its last "+
				"check ran before the API kept catalogs, or the API predates them.\n\n"+
				"Check it again (apply its %s resource with a change of its endpoint, or wait for the API's "+
				"scheduler), then read the data source again. Inside a check block, this is a warning rather than an error.",
			r.kind, name, id, status, r.typeName))
		return
	}
	why := fmt.Sprintf("its status is %q", status)
	if lastError != nil {
		why += fmt.Sprintf(" and its last check failed: %s", *lastError)
	}
	diags.AddAttributeError(path.Root(attr), "No catalog yet", fmt.Sprintf(
		"The %s %q (%s) exists, but no check of it has passed yet, so the API has no catalog of its tools; %s.\n\n"+
			"Make the server reachable, then check it again: apply its %s resource with the check on apply "+
			"enabled, or wait for the API's scheduler. Inside a check block, this is a warning rather than an error.",
		r.kind, name, id, why, r.typeName))
}
