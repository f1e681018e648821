// Command terraform-provider-mcp is the Terraform plugin for the MCP API
// (MCP connections, projects and MCP servers); Terraform starts it, people
// do not.
package main

import (
	"context"
	"flag"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/mcpconn/terraform-provider-mcp/provider"
)

// version is set at release time with -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	quietUnlessLogging(os.Getenv, os.Setenv)

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: provider.Address,
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}

// logVars are the variables that turn Terraform or provider logging on.
var logVars = []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_MCP"}

// quietUnlessLogging turns the SDK's and the provider's own logs off when
// nobody asked for logs. Terraform discards them then anyway, but only after
// the plugin has formatted ~100 trace lines per resource and Terraform has
// parsed them: about a third of this provider's CPU in a 100-resource plan.
// With any log variable set, nothing changes.
func quietUnlessLogging(getenv func(string) string, setenv func(string, string) error) {
	for _, v := range logVars {
		if getenv(v) != "" {
			return
		}
	}
	for _, v := range logVars[2:] {
		_ = setenv(v, "off")
	}
}
