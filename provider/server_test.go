package provider

import (
	"testing"

	fwattr "github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

func strList(items ...string) types.List {
	elems := make([]fwattr.Value, len(items))
	for i, s := range items {
		elems[i] = types.StringValue(s)
	}
	return types.ListValueMust(types.StringType, elems)
}

func TestServerFieldsOfArgs(t *testing.T) {
	stdio := &contract.Server{ID: "mcp_a", TransportType: contract.TransportStdio, Args: []string{}}
	web := &contract.Server{ID: "mcp_b", TransportType: contract.TransportHTTP}
	tests := []struct {
		name  string
		s     *contract.Server
		prior types.List
		want  types.List
	}{
		{"stdio without args, none configured", stdio, types.ListNull(types.StringType), types.ListNull(types.StringType)},
		{"stdio without args, [] configured", stdio, strList(), strList()},
		{"stdio without args, stale prior", stdio, strList("old"), types.ListNull(types.StringType)},
		{"stdio with args", &contract.Server{TransportType: contract.TransportStdio, Args: []string{"a", "b"}}, types.ListNull(types.StringType), strList("a", "b")},
		{"http, [] prior", web, strList(), types.ListNull(types.StringType)},
	}
	for _, tt := range tests {
		if got := serverFieldsOf(tt.s, tt.prior).Args; !got.Equal(tt.want) {
			t.Errorf("%s: args = %s, want %s", tt.name, got, tt.want)
		}
	}
}
