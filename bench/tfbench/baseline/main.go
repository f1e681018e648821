// Command terraform-provider-mcpbaseline is the floor bench/tfbench/run.sh
// measures terraform-provider-mcp against: a terraform-plugin-framework
// provider, the same framework version, whose mcpbaseline_connection has the
// schema of mcp_connection but does no I/O. What it costs is what any
// framework provider pays for the plugin process, gRPC and planning.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
)

// address is where the bench's dev_overrides CLI configuration points.
const address = "registry.terraform.io/mcpconn/mcpbaseline"

func main() {
	err := providerserver.Serve(context.Background(), newProvider, providerserver.ServeOpts{Address: address})
	if err != nil {
		log.Fatal(err)
	}
}
