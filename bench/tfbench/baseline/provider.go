package main

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

var _ provider.Provider = (*baselineProvider)(nil)

// baselineProvider has no configuration: the real provider's Configure
// (an API client and one call to the API) is part of what is measured.
type baselineProvider struct{}

func newProvider() provider.Provider {
	return &baselineProvider{}
}

func (p *baselineProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "mcpbaseline"
	resp.Version = "bench"
}

func (p *baselineProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{Description: "No-I/O baseline of the mcp provider, for benchmarks only."}
}

func (p *baselineProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *baselineProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newConnectionResource}
}

func (p *baselineProvider) DataSources(context.Context) []func() datasource.DataSource {
	return nil
}
