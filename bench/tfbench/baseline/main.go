// Command terraform-provider-mcpbaseline is the floor bench/tfbench/run.sh
// measures terraform-provider-mcp against: a terraform-plugin-framework
// provider, the same framework version, whose mcpbaseline_connection has the
// schema of mcp_connection but does no I/O. What it costs is what any
// framework provider pays for the plugin process, gRPC and planning.
package main

import (
	"context"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
)

// address is where the bench's dev_overrides CLI configuration points.
const address = "registry.terraform.io/mcpconn/mcpbaseline"

func main() {
	// The same quieting terraform-provider-mcp does (see its main.go), so the
	// floor is measured on equal terms: SDK trace logs off unless asked for.
	if !anySet("TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK") {
		for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
			_ = os.Setenv(v, "off")
		}
	}
	err := providerserver.Serve(context.Background(), newProvider, providerserver.ServeOpts{Address: address})
	if err != nil {
		log.Fatal(err)
	}
}

func anySet(names ...string) bool {
	for _, n := range names {
		if os.Getenv(n) != "" {
			return true
		}
	}
	return false
}
