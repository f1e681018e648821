package provider

import (
	"context"
	"encoding/json"
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

// httpModel is a configured http server as state, plan and config hold it.
func httpModel() serverResourceModel {
	return serverResourceModel{
		serverFields: serverFields{
			ID:             types.StringValue("mcp_abc"),
			ProjectID:      types.StringValue("proj_a"),
			Name:           types.StringValue("srv"),
			Description:    types.StringNull(),
			TransportType:  types.StringValue("http"),
			ConnectionType: types.StringValue("direct"),
			URL:            types.StringValue("https://mcp.example.com/mcp"),
			Command:        types.StringNull(),
			Args:           types.ListNull(types.StringType),
		},
		bearerTokenFields: bearerTokenFields{
			BearerToken:          types.StringNull(),
			BearerTokenWO:        types.StringNull(),
			BearerTokenWOVersion: types.Int64Null(),
		},
		ConnectOnApply: types.BoolValue(true),
	}
}

func stdioModel() serverResourceModel {
	m := httpModel()
	m.TransportType = types.StringValue("stdio")
	m.URL = types.StringNull()
	m.Command = types.StringValue("npx")
	return m
}

func TestServerUpdateRequest(t *testing.T) {
	tests := []struct {
		name         string
		state        serverResourceModel
		plan         func(*serverResourceModel)
		config       func(*serverResourceModel) // on top of the plan
		want         string                     // the JSON body
		wantEndpoint bool
	}{
		{name: "nothing", state: httpModel(), plan: func(*serverResourceModel) {}, want: `{}`},
		{name: "only connect_on_apply", state: httpModel(), plan: func(m *serverResourceModel) { m.ConnectOnApply = types.BoolValue(false) }, want: `{}`},
		{
			name: "name, project, description and connection type", state: httpModel(),
			plan: func(m *serverResourceModel) {
				m.Name, m.ProjectID = types.StringValue("new"), types.StringValue("proj_b")
				m.Description, m.ConnectionType = types.StringValue("d"), types.StringValue("proxy")
			},
			want: `{"projectId":"proj_b","name":"new","description":"d","connectionType":"proxy"}`,
		},
		{
			name: "description removed", state: func() serverResourceModel { m := httpModel(); m.Description = types.StringValue("d"); return m }(),
			plan: func(m *serverResourceModel) { m.Description = types.StringNull() },
			want: `{"description":""}`,
		},
		{
			name: "url", state: httpModel(),
			plan:         func(m *serverResourceModel) { m.URL = types.StringValue("https://other.example.com/mcp") },
			want:         `{"url":"https://other.example.com/mcp"}`,
			wantEndpoint: true,
		},
		{
			name: "write-only token version", state: httpModel(),
			plan:         func(m *serverResourceModel) { m.BearerTokenWOVersion = types.Int64Value(1) },
			config:       func(m *serverResourceModel) { m.BearerTokenWO = types.StringValue("wo") },
			want:         `{"bearerToken":"wo"}`,
			wantEndpoint: true,
		},
		{
			name: "token removed", state: func() serverResourceModel { m := httpModel(); m.BearerToken = types.StringValue("t"); return m }(),
			plan:         func(m *serverResourceModel) { m.BearerToken = types.StringNull() },
			want:         `{"bearerToken":""}`,
			wantEndpoint: true,
		},
		{
			name: "http to stdio sends command and an empty args list, never url or token", state: httpModel(),
			plan: func(m *serverResourceModel) {
				*m = stdioModel()
			},
			want:         `{"transportType":"stdio","command":"npx","args":[]}`,
			wantEndpoint: true,
		},
		{
			name: "stdio args only", state: stdioModel(),
			plan:         func(m *serverResourceModel) { m.Args = strList("-y", "pkg") },
			want:         `{"args":["-y","pkg"]}`,
			wantEndpoint: true,
		},
		{
			name: "stdio to http sends url and the token", state: stdioModel(),
			plan:         func(m *serverResourceModel) { *m = httpModel(); m.BearerToken = types.StringValue("t") },
			want:         `{"url":"https://mcp.example.com/mcp","transportType":"http","bearerToken":"t"}`,
			wantEndpoint: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := tt.state
			tt.plan(&plan)
			config := plan
			if tt.config != nil {
				tt.config(&config)
			}
			body, endpoint, diags := serverUpdateRequest(context.Background(), plan, tt.state, config)
			if diags.HasError() {
				t.Fatal(diags)
			}
			got, _ := json.Marshal(body)
			if string(got) != tt.want || endpoint != tt.wantEndpoint {
				t.Errorf("got %s, endpoint changed %v; want %s, %v", got, endpoint, tt.want, tt.wantEndpoint)
			}
		})
	}
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
