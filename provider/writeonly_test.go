package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestWriteOnlyValues(t *testing.T) {
	str, null, unknown := types.StringValue, types.StringNull(), types.StringUnknown()
	v := func(stored, wo types.String, version types.Int64) writeOnlyValues[types.String] {
		return writeOnlyValues[types.String]{stored: stored, writeOnly: wo, version: version}
	}
	for _, tt := range []struct {
		name   string
		config writeOnlyValues[types.String]
		want   string // "" for none
	}{
		{"write-only first", v(str("s"), str("wo"), types.Int64Value(1)), "wo"},
		{"stored", v(str("s"), null, types.Int64Null()), "s"},
		{"unknown write-only falls back", v(str("s"), unknown, types.Int64Value(1)), "s"},
		{"none", v(null, null, types.Int64Null()), ""},
		{"unknown", v(unknown, null, types.Int64Null()), ""},
	} {
		got, ok := tt.config.configured()
		if (tt.want == "") == ok || (ok && got.ValueString() != tt.want) {
			t.Errorf("%s: configured() = %v, %v; want %q", tt.name, got, ok, tt.want)
		}
	}

	state := v(str("s"), null, types.Int64Value(1))
	for _, tt := range []struct {
		name string
		plan writeOnlyValues[types.String]
		want bool
	}{
		{"same", v(str("s"), null, types.Int64Value(1)), false},
		// The plan never holds the write-only value; only the version tells.
		{"new stored value", v(str("t"), null, types.Int64Value(1)), true},
		{"new version", v(str("s"), null, types.Int64Value(2)), true},
		{"version removed", v(str("s"), null, types.Int64Null()), true},
	} {
		if got := tt.plan.changedFrom(state); got != tt.want {
			t.Errorf("%s: changedFrom = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestWriteOnlyAttributes declares a second, nested secret the way the next
// ones (OAuth client secrets, TLS keys) will, and checks what it yields.
func TestWriteOnlyAttributes(t *testing.T) {
	secret := writeOnly{name: "client_secret", noun: "secret", parent: "oauth2"}
	attrs := secret.stringAttributes(writeOnlyDocs{stored: "The client secret.", writeOnly: "The write-only client secret."})
	if len(attrs) != 3 {
		t.Fatalf("got %d attributes, want 3", len(attrs))
	}
	stored, ok1 := attrs["client_secret"].(schema.StringAttribute)
	wo, ok2 := attrs["client_secret_wo"].(schema.StringAttribute)
	version, ok3 := attrs["client_secret_wo_version"].(schema.Int64Attribute)
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("attribute types: %T, %T, %T", attrs["client_secret"], attrs["client_secret_wo"], attrs["client_secret_wo_version"])
	}
	if !stored.Sensitive || stored.WriteOnly || !wo.Sensitive || !wo.WriteOnly || !version.Optional {
		t.Errorf("flags: stored %+v, write-only %+v", stored, wo)
	}
	if len(stored.Validators) != 1 || len(wo.Validators) != 2 || len(version.Validators) != 1 {
		t.Errorf("validators: %d, %d, %d; want 1, 2, 1", len(stored.Validators), len(wo.Validators), len(version.Validators))
	}
	if got := secret.expr("client_secret_wo").String(); got != "oauth2.client_secret_wo" {
		t.Errorf("nested expression %q, want oauth2.client_secret_wo", got)
	}
	want := "The write-only client secret. Requires Terraform 1.11 or later and `client_secret_wo_version`. " +
		"Terraform cannot see changes to a write-only value, so after changing the secret also change " +
		"`client_secret_wo_version`; only then is the new secret sent. Conflicts with `client_secret`."
	if wo.MarkdownDescription != want {
		t.Errorf("write-only description\n%q\nwant\n%q", wo.MarkdownDescription, want)
	}
}
