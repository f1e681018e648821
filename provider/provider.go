// Package provider is the Terraform provider "mcp": the MCP connections,
// projects and MCP servers of one tenant, managed through the MCP API, which
// it reaches only via package client. Each kind has the same files: <kind>.go
// (model and conversions), <kind>_resource.go and <kind>_data_source.go.
package provider

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
)

// Address is the provider's source address in the Terraform registry.
const Address = "registry.terraform.io/mcpconn/mcp"

// Environment variables that stand in for unset provider attributes.
const (
	// EnvEndpoint is read when endpoint is not set.
	EnvEndpoint = "MCP_ENDPOINT"
	// EnvAPIKey is read when api_key is not set.
	EnvAPIKey = "MCP_API_KEY"
)

var _ provider.Provider = (*mcpProvider)(nil)

type mcpProvider struct {
	version string
	// clientOpts lets tests shorten retry waits; production uses the client's defaults.
	clientOpts []client.Option
}

type providerModel struct {
	Endpoint types.String `tfsdk:"endpoint"`
	APIKey   types.String `tfsdk:"api_key"`
}

// New returns the provider factory for providerserver.Serve; version is the
// release version, sent in the User-Agent.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &mcpProvider{version: version}
	}
}

func (p *mcpProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "mcp"
	resp.Version = p.version
}

func (p *mcpProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages the registry of external Model Context Protocol servers your AI agents call, " +
			"in the MCP API: MCP connections (`mcp_connection`), and projects (`mcp_project`) that group MCP servers " +
			"(`mcp_server`) reached over HTTP or SSE or started as `stdio` processes.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Base URL of the MCP API, an absolute `http` or `https` URL such as " +
					"`http://127.0.0.1:8080` (the API serves `/api/...` below it). Falls back to the `" + EnvEndpoint +
					"` environment variable; one of the two must be set.",
			},
			"api_key": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "API key of the tenant whose connections, projects and servers Terraform manages, sent as " +
					"`Authorization: Bearer <key>`. Create one with `mcp-api key create --tenant <tenant-uuid>`. " +
					"Falls back to the `" + EnvAPIKey + "` environment variable, which keeps the key out of " +
					"configuration files; one of the two must be set.",
			},
		},
	}
}

func (p *mcpProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}

	// An unknown value (from a resource not yet created) cannot configure a
	// client, and guessing from the environment would surprise.
	if cfg.Endpoint.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Unknown MCP API endpoint",
			"The provider cannot connect because endpoint depends on a value known only after apply. "+
				"Set endpoint to a literal or a variable, or leave it unset and use the "+EnvEndpoint+" environment variable.")
	}
	if cfg.APIKey.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("api_key"), "Unknown MCP API key",
			"The provider cannot connect because api_key depends on a value known only after apply. "+
				"Set api_key from a variable, or leave it unset and use the "+EnvAPIKey+" environment variable.")
	}
	if resp.Diagnostics.HasError() {
		return
	}

	endpoint := os.Getenv(EnvEndpoint)
	if !cfg.Endpoint.IsNull() {
		endpoint = cfg.Endpoint.ValueString()
	}
	apiKey := os.Getenv(EnvAPIKey)
	if !cfg.APIKey.IsNull() {
		apiKey = cfg.APIKey.ValueString()
	}

	if endpoint == "" {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Missing MCP API endpoint",
			"Set endpoint in the provider \"mcp\" block, or the "+EnvEndpoint+" environment variable, "+
				"to the base URL of the MCP connections API, e.g. http://127.0.0.1:8080.")
	} else if _, err := client.ParseEndpoint(endpoint); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid MCP API endpoint",
			err.Error()+". Fix endpoint in the provider \"mcp\" block or the "+EnvEndpoint+" environment variable.")
	}
	if apiKey == "" {
		resp.Diagnostics.AddAttributeError(path.Root("api_key"), "Missing MCP API key",
			"Set api_key in the provider \"mcp\" block, or the "+EnvAPIKey+" environment variable, "+
				"to an API key of your tenant (create one with `mcp-api key create --tenant <tenant-uuid>`).")
	}
	if resp.Diagnostics.HasError() {
		return
	}

	ctx = tflog.SetField(ctx, "mcp_endpoint", endpoint)
	ctx = tflog.SetField(ctx, "mcp_api_key", apiKey)
	ctx = tflog.MaskFieldValuesWithFieldKeys(ctx, "mcp_api_key")
	ctx = tflog.MaskMessageStrings(ctx, apiKey)
	tflog.Debug(ctx, "creating MCP API client")

	opts := append([]client.Option{
		client.WithUserAgent("terraform-provider-mcp/" + p.version),
		client.WithLogger(func(ctx context.Context, msg string, fields map[string]any) {
			// The client never logs credentials; masking is a second guard.
			tflog.Debug(tflog.MaskMessageStrings(ctx, apiKey), msg, fields)
		}),
	}, p.clientOpts...)
	c, err := client.New(endpoint, apiKey, opts...)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("api_key"), "Invalid MCP API key",
			err.Error()+". Fix api_key in the provider \"mcp\" block or the "+EnvAPIKey+" environment variable.")
		return
	}

	// One cheap call up front turns a wrong key or a stopped API into a
	// single diagnostic here, instead of one per resource, and fails
	// `terraform plan` before anything is applied.
	if _, err := c.ListConnections(ctx, client.ConnectionListOptions{Limit: 1}); err != nil {
		summary, detail := connectionRecord.describe(c, "connect to the MCP API", err)
		switch {
		case errors.Is(err, client.ErrUnauthorized):
			resp.Diagnostics.AddAttributeError(path.Root("api_key"), summary, detail)
		case errors.Is(err, client.ErrUnreachable):
			resp.Diagnostics.AddAttributeError(path.Root("endpoint"), summary, detail)
		default:
			resp.Diagnostics.AddError(summary, detail)
		}
		return
	}

	resp.DataSourceData = c
	resp.ResourceData = c
}

func (p *mcpProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewAgentResource,
		NewAgentTokenResource,
		NewConnectionResource,
		NewProjectResource,
		NewServerResource,
	}
}

func (p *mcpProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewAgentDataSource,
		NewConnectionDataSource,
		NewConnectionCatalogDataSource,
		NewConnectionsDataSource,
		NewProjectDataSource,
		NewServerDataSource,
		NewServerCatalogDataSource,
	}
}

// clientFrom extracts the provider's client; nil before the provider is configured.
func clientFrom(data any, diags interface{ AddError(string, string) }) *client.Client {
	if data == nil {
		return nil
	}
	c, ok := data.(*client.Client)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *client.Client, got %T. This is a bug in the provider; please report it.", data))
		return nil
	}
	return c
}
