package health

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// StdioCommandsEnv names the variable that lists the programs stdio MCP
// servers may run; empty (the default) disables stdio servers.
const StdioCommandsEnv = "MCP_API_STDIO_COMMANDS"

// launchers are programs whose arguments name another program or a script
// to run. Listing one would let any tenant run anything through args, so
// they are refused even when the operator lists them.
var launchers = []string{
	"sh", "bash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "ash", "busybox", "toybox",
	"env", "sudo", "su", "doas", "xargs", "nohup", "nice", "ionice", "timeout", "setsid", "chroot",
	"stdbuf", "strace", "script", "watch", "flock", "runuser", "unshare", "nsenter",
}

// ParseStdioCommands parses the value of MCP_API_STDIO_COMMANDS: program
// names separated by commas, each a bare name (no path) as a stdio server's
// command must be. Spaces around names and empty entries are ignored; an
// empty list disables stdio servers. Shells and command launchers are
// refused: with them, no command would be out of reach.
func ParseStdioCommands(list string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if err := contract.ValidateCommand(name); err != nil {
			return nil, fmt.Errorf("%s: each entry %v", StdioCommandsEnv, err)
		}
		if slices.Contains(launchers, name) {
			return nil, fmt.Errorf("%s: %q is a shell or command launcher; allowing it would let any tenant run any program through args, so list the MCP server programs themselves", StdioCommandsEnv, name)
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}
