package provider

import (
	"encoding/json"

	"strings"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

func TestCheckToolsHash(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{contract.HashPrefix + strings.Repeat("0a", 32), true},
		{contract.HashPrefix + strings.Repeat("0A", 32), false}, // upper case
		{contract.HashPrefix + strings.Repeat("0", 63), false},
		{"sha512:" + strings.Repeat("0", 64), false},
		{strings.Repeat("0", 64), false},
		{"", false},
	} {
		err := checkToolsHash(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("checkToolsHash(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), `"sha256:" followed by 64 lower-case hex digits`) {
			t.Errorf("checkToolsHash(%q) = %q, which does not say what a hash looks like", tt.in, err)
		}
	}
}

// TestCatalogFieldsOf: JSON passes through as a string, absent JSON is
// null, and empty lists stay lists so that for expressions over them work.
func TestCatalogFieldsOf(t *testing.T) {
	f := catalogFieldsOf(&contract.Catalog{
		Tools: []contract.CatalogTool{{
			Name: "get_order", Description: "Returns one order.", Hash: "sha256:x",
			InputSchema:  json.RawMessage(`{"properties":{"id":{"type":"string"}},"type":"object"}`),
			OutputSchema: json.RawMessage(`null`),
		}},
		ToolsHash: "sha256:y",
	})
	if f.Prompts == nil || f.Resources == nil || len(f.Tools) != 1 {
		t.Fatalf("catalogFieldsOf = %+v; want one tool and empty, non-nil prompts and resources", f)
	}
	tool := f.Tools[0]
	if tool.InputSchema.ValueString() != `{"properties":{"id":{"type":"string"}},"type":"object"}` ||
		!tool.OutputSchema.IsNull() || !tool.Annotations.IsNull() || !tool.Title.IsNull() ||
		tool.Description.ValueString() != "Returns one order." {
		t.Errorf("tool = %+v", tool)
	}
}

// TestCheckStateFieldsOf: before the first passing check everything a
// check reads is null and there is no drift.
func TestCheckStateFieldsOf(t *testing.T) {
	f := checkStateFieldsOf("error", nil, nil, nil, contract.CheckState{LastErrorKind: new(contract.ErrorTimeout)})
	if !f.Capabilities.IsNull() || !f.ServerImplementation.IsNull() || !f.ToolCount.IsNull() || !f.ToolsHash.IsNull() ||
		!f.ToolsChangedAt.IsNull() || !f.ApprovedToolsHash.IsNull() || f.ToolsDrift.ValueBool() ||
		f.LastErrorKind.ValueString() != "timeout" {
		t.Errorf("checkStateFieldsOf = %+v", f)
	}
	f = checkStateFieldsOf("active", nil, &contract.Capabilities{Tools: true}, &contract.Implementation{Name: "n", Version: "v"},
		contract.CheckState{ToolCount: new(3)})
	if f.ToolCount.ValueInt64() != 3 || f.Capabilities.Attributes()["tools"].String() != "true" ||
		f.ServerImplementation.Attributes()["name"].String() != `"n"` {
		t.Errorf("checkStateFieldsOf = %+v", f)
	}
}
