package provider

import (
	"strings"

	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	rsschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// computedAttrs builds computed attributes of one schema package. The
// resource and data source packages have the same attribute types under
// different names, so attributes that both kinds of schema have are
// written once against computedAttrs and built for either.
type computedAttrs[A any] struct {
	str     func(desc string) A
	boolean func(desc string) A
	int64   func(desc string) A
	object  func(desc string, attrs map[string]A) A
	list    func(desc string, attrs map[string]A) A
}

// resourceComputed builds resource attributes. They get no
// UseStateForUnknown: the stable ones add it where they are declared.
var resourceComputed = computedAttrs[rsschema.Attribute]{
	str: func(desc string) rsschema.Attribute {
		return rsschema.StringAttribute{Computed: true, MarkdownDescription: desc}
	},
	boolean: func(desc string) rsschema.Attribute {
		return rsschema.BoolAttribute{Computed: true, MarkdownDescription: desc}
	},
	int64: func(desc string) rsschema.Attribute {
		return rsschema.Int64Attribute{Computed: true, MarkdownDescription: desc}
	},
	object: func(desc string, attrs map[string]rsschema.Attribute) rsschema.Attribute {
		return rsschema.SingleNestedAttribute{Computed: true, MarkdownDescription: desc, Attributes: attrs}
	},
	list: func(desc string, attrs map[string]rsschema.Attribute) rsschema.Attribute {
		return rsschema.ListNestedAttribute{Computed: true, MarkdownDescription: desc,
			NestedObject: rsschema.NestedAttributeObject{Attributes: attrs}}
	},
}

// dataSourceComputed builds data source attributes.
var dataSourceComputed = computedAttrs[dsschema.Attribute]{
	str: func(desc string) dsschema.Attribute {
		return dsschema.StringAttribute{Computed: true, MarkdownDescription: desc}
	},
	boolean: func(desc string) dsschema.Attribute {
		return dsschema.BoolAttribute{Computed: true, MarkdownDescription: desc}
	},
	int64: func(desc string) dsschema.Attribute {
		return dsschema.Int64Attribute{Computed: true, MarkdownDescription: desc}
	},
	object: func(desc string, attrs map[string]dsschema.Attribute) dsschema.Attribute {
		return dsschema.SingleNestedAttribute{Computed: true, MarkdownDescription: desc, Attributes: attrs}
	},
	list: func(desc string, attrs map[string]dsschema.Attribute) dsschema.Attribute {
		return dsschema.ListNestedAttribute{Computed: true, MarkdownDescription: desc,
			NestedObject: dsschema.NestedAttributeObject{Attributes: attrs}}
	},
}

// strs builds one computed string attribute per name from its description.
func (k computedAttrs[A]) strs(descs map[string]string) map[string]A {
	attrs := make(map[string]A, len(descs))
	for name, desc := range descs {
		attrs[name] = k.str(desc)
	}
	return attrs
}

// stableComputed is a computed resource attribute that never changes once
// known (id, tenant_id, created_at), so a plan keeps its state value.
func stableComputed(desc string) rsschema.StringAttribute {
	return rsschema.StringAttribute{Computed: true, MarkdownDescription: desc,
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
}

// recordDescs are what a kind's docs say of the attributes of recordFields
// and of its description, "" for a kind without one.
type recordDescs struct {
	id, name, description, createdAt, updatedAt string
}

// resourceAttributes are the resource attributes of recordFields and the
// description: a record keeps its id and created_at, and is renamed and
// described in place.
func (r record) resourceAttributes(d recordDescs) map[string]rsschema.Attribute {
	attrs := map[string]rsschema.Attribute{
		"id": stableComputed(d.id),
		"name": rsschema.StringAttribute{
			Required:            true,
			MarkdownDescription: d.name + " Renaming updates the " + strings.TrimPrefix(r.noun, "MCP ") + " in place.",
			Validators:          []validator.String{validName},
		},
		"created_at": stableComputed(d.createdAt),
		"updated_at": resourceComputed.str(d.updatedAt),
	}
	if d.description != "" {
		attrs["description"] = rsschema.StringAttribute{
			Optional:            true,
			MarkdownDescription: d.description + " Must not be empty: omit it to have none.",
			Validators:          []validator.String{validDescription},
		}
	}
	return attrs
}

// dataSourceAttributes are the data source attributes of created_at,
// updated_at and the description; id and name are looked up by, so each
// data source declares them its own way.
func (d recordDescs) dataSourceAttributes() map[string]dsschema.Attribute {
	descs := map[string]string{"created_at": d.createdAt, "updated_at": d.updatedAt}
	if d.description != "" {
		descs["description"] = d.description + " Null when it has none."
	}
	return dataSourceComputed.strs(descs)
}
