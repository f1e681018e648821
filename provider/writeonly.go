package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	fwattr "github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// writeOnly is a secret the API never returns, which a configuration sets
// in one of two ways (the pattern of the tfe provider): <name>, kept in
// state and marked sensitive, or the write-only <name>_wo (Terraform 1.11
// and later), never stored, together with <name>_wo_version, which the user
// changes to have a new <name>_wo sent.
//
// A resource declares one writeOnly per secret (bearerToken, headers,
// oauth2ClientSecret, tlsClientKey) and takes from it the attributes of its
// schema (stringAttributes for a secret that may also be stored;
// writeOnlyString and writeOnlyMap for one that is only ever write-only),
// and, through writeOnlyValues, the configured value and whether it
// changed. A secret inside a nested attribute names that attribute as its
// parent, so the attributes' validators address their siblings there.
type writeOnly struct {
	name   string // base name, e.g. "bearer_token"
	noun   string // what the value is, in descriptions: "token"
	parent string // the single nested attribute that holds the three; "" at the root
	plural bool   // noun is plural ("headers")
}

func (w writeOnly) woName() string      { return w.name + "_wo" }
func (w writeOnly) versionName() string { return w.name + "_wo_version" }

// expr addresses one of w's attributes, for a validator on another of them.
func (w writeOnly) expr(name string) path.Expression {
	if w.parent == "" {
		return path.MatchRoot(name)
	}
	return path.MatchRoot(w.parent).AtName(name)
}

// writeOnlyDocs are a resource's own words for one secret's attributes:
// what the value is for and where it is allowed. stringAttributes adds the
// sentences every write-only secret shares between them.
type writeOnlyDocs struct {
	stored, storedMore       string // before and after "It is kept in Terraform state ..."
	writeOnly, writeOnlyMore string // before and after "Requires Terraform 1.11 ..."
}

// stringAttributes returns the schema attributes of a string secret: the
// stored one, the write-only one and its version, with the validators that
// tie them together (never both values, the write-only value only with a
// version) and checks, which both values must pass.
func (w writeOnly) stringAttributes(d writeOnlyDocs, checks ...validator.String) map[string]schema.Attribute {
	stored := d.stored + " It is kept in Terraform state (marked sensitive); on Terraform 1.11 and later prefer `" +
		w.woName() + "`, which is never stored."
	wo := w.woDescription(d.writeOnly)
	return map[string]schema.Attribute{
		w.name: schema.StringAttribute{
			Optional:            true,
			Sensitive:           true,
			MarkdownDescription: sentences(stored, d.storedMore, "Conflicts with `"+w.woName()+"`."),
			Validators: append(checks[:len(checks):len(checks)],
				stringvalidator.PreferWriteOnlyAttribute(w.expr(w.woName()))),
		},
		w.woName(): schema.StringAttribute{
			Optional:            true,
			Sensitive:           true,
			WriteOnly:           true,
			MarkdownDescription: sentences(wo, d.writeOnlyMore, "Conflicts with `"+w.name+"`."),
			Validators: append(checks[:len(checks):len(checks)],
				stringvalidator.ConflictsWith(w.expr(w.name)),
				stringvalidator.AlsoRequires(w.expr(w.versionName()))),
		},
		w.versionName(): w.versionAttribute(),
	}
}

// woDescription is desc followed by what every write-only value's
// description says.
func (w writeOnly) woDescription(desc string) string {
	return desc + " Requires Terraform 1.11 or later and `" + w.versionName() + "`. Terraform cannot see " +
		"changes to a write-only value, so after changing the " + w.noun + " also change `" + w.versionName() +
		"`; only then " + w.isAre("is", "are") + " the new " + w.noun + " sent."
}

// isAre picks the verb that agrees with w's noun.
func (w writeOnly) isAre(one, many string) string {
	if w.plural {
		return many
	}
	return one
}

// writeOnlyString returns the attributes of a string secret that has no
// stored form, only <name>_wo and <name>_wo_version (the secrets of SPEC
// §9 never reach state). more follows the shared sentences.
func (w writeOnly) writeOnlyString(desc, more string, checks ...validator.String) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		w.woName(): schema.StringAttribute{
			Optional:            true,
			Sensitive:           true,
			WriteOnly:           true,
			MarkdownDescription: sentences(w.woDescription(desc), more),
			Validators:          append(checks[:len(checks):len(checks)], stringvalidator.AlsoRequires(w.expr(w.versionName()))),
		},
		w.versionName(): w.versionAttribute(),
	}
}

// writeOnlyMap is writeOnlyString for a map of strings (headers).
func (w writeOnly) writeOnlyMap(desc, more string, checks ...validator.Map) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		w.woName(): schema.MapAttribute{
			ElementType:         types.StringType,
			Optional:            true,
			Sensitive:           true,
			WriteOnly:           true,
			MarkdownDescription: sentences(w.woDescription(desc), more),
			Validators:          append(checks[:len(checks):len(checks)], mapvalidator.AlsoRequires(w.expr(w.versionName()))),
		},
		w.versionName(): w.versionAttribute(),
	}
}

// versionAttribute is the <name>_wo_version attribute, the same whatever
// the secret's type.
func (w writeOnly) versionAttribute() schema.Int64Attribute {
	return schema.Int64Attribute{
		Optional: true,
		MarkdownDescription: "A number you change (e.g. increment) whenever `" + w.woName() + "` changes; a change " +
			"makes Terraform send the current `" + w.woName() + "` to the API. Required with `" + w.woName() + "`.",
		Validators: []validator.Int64{int64validator.AlsoRequires(w.expr(w.woName()))},
	}
}

// sentences joins the non-empty parts with a space.
func sentences(parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += " "
		}
		out += p
	}
	return out
}

// writeOnlyValues are one secret's three values as a plan, a state or a
// configuration holds them. T is the value's type: types.String for a
// token, types.Map for headers.
type writeOnlyValues[T fwattr.Value] struct {
	stored    T
	writeOnly T // null everywhere but in the configuration
	version   types.Int64
}

// configured is the value the configuration sets, the write-only one
// first; ok is false when neither is set and known.
func (v writeOnlyValues[T]) configured() (value T, ok bool) {
	switch {
	case known(v.writeOnly):
		return v.writeOnly, true
	case known(v.stored):
		return v.stored, true
	}
	return value, false
}

// changedFrom reports whether the plan v asks for the secret to be sent
// again compared with state. The API never returns a secret, so it can
// only have changed in configuration: a new stored value, or a new version
// of the write-only one.
func (v writeOnlyValues[T]) changedFrom(state writeOnlyValues[T]) bool {
	return !v.stored.Equal(state.stored) || !v.version.Equal(state.version)
}

// namedValue is one of a secret's two value attributes, for rules about
// where a secret may be set.
type namedValue[T fwattr.Value] struct {
	name  string
	value T
}

// namedValues pairs w's two value attributes with v's values, stored first.
func namedValues[T fwattr.Value](w writeOnly, v writeOnlyValues[T]) []namedValue[T] {
	return []namedValue[T]{{w.name, v.stored}, {w.woName(), v.writeOnly}}
}

func known(v fwattr.Value) bool { return !v.IsNull() && !v.IsUnknown() }
