// Command mcp-api runs the MCP connections API server and administers its
// database: migrations, tenants, API keys and the rotation of the key that
// encrypts stored credentials.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
)

// version is set at link time (-X main.version=...) by release builds.
var version = "dev"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // bad command line or configuration; nothing was done
)

// configError is a mistake in the command line or the environment.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &configError{msg: fmt.Sprintf(format, args...)}
}

// cli is what a command runs with.
type cli struct {
	env    func(string) string
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// command is one subcommand. setup defines its flags on fs and returns the
// action, bound to the parsed flag values.
type command struct {
	name     string // as typed: "serve", "tenant create"
	synopsis string // arguments after the name
	summary  string // one line for the command list
	about    string // paragraph for the command's own help
	env      []string
	setup    func(fs *flag.FlagSet) func(ctx context.Context, c *cli) error
}

// envVar documents one environment variable.
type envVar struct {
	name, doc string
}

// environment lists every variable the command reads, in the order help
// shows them.
var environment = []envVar{
	{envDatabaseURL, "PostgreSQL database, as a lib/pq URL (postgres://user:password@host:5432/db?sslmode=disable) or key=value DSN. Required."},
	{envSecretKey, "Base64 of 32 random bytes (openssl rand -base64 32) that encrypts stored bearer tokens. Required by serve and secrets rotate."},
	{envSecretKeyPrevious, "Optional comma-separated base64 keys that still decrypt tokens written before a rotation; drop them after secrets rotate."},
	{envSecretBackend, "Where write-only credentials are kept: builtin (default; AES-256-GCM under " + envSecretKey + " in PostgreSQL) or infisical (in Infisical, the database keeping only a reference; needs the INFISICAL_* variables)."},
	{secrets.EnvInfisicalURL, "Infisical's base URL, such as https://app.infisical.com, for " + envSecretBackend + "=infisical and secrets migrate."},
	{secrets.EnvInfisicalClientID, "The client id of the Universal Auth machine identity the API signs in to Infisical with."},
	{secrets.EnvInfisicalClientSecret, "That machine identity's client secret."},
	{secrets.EnvInfisicalProjectID, "The Infisical project the secrets go in."},
	{secrets.EnvInfisicalEnvironment, "The environment slug of that project, such as prod."},
	{secrets.EnvInfisicalSecretPath, "The folder the secrets go in, such as /mcp-api, created when missing (default /)."},
	{envSecretCacheTTL, "How long serve keeps a secret read from Infisical in memory (never on disk), so checks and the gateway ride out an outage (default 10m)."},
	{envSecretCleanupInterval, "How often serve's worker deletes secrets no record points at any more (default 1m); replicas share the work."},
	{envSecretCleanupGrace, "How old a secret written by an unfinished write must be before the worker deletes it (default 15m): longer than any write takes."},
	{envBootstrapKey, "Optional API key for serve: if no tenant owns it, tenant \"default\" is created with it. For demos and tests."},
	{envListen, "Address serve listens on when --listen is not given (default 127.0.0.1:8080)."},
	{envMetricsListen, "Address serve serves Prometheus metrics on, at /metrics, when --metrics-listen is not given (default " + defaultMetricsListen + "), or off for none. A listener of its own, not the API's: keep it off the public network."},
	{envPublicURL, "Base URL clients reach this API at, such as https://mcp.example.com, used in the gateway URLs of proxy servers and agents (default: http:// and the listen address)."},
	{envDBWait, "How long serve waits for an unreachable database at start, as a Go duration (default 60s)."},
	{envRateLimit, "Requests per second each tenant may make to /api on average before getting 429s with Retry-After, such as 20 or 0.5 (default: unset, no limit)."},
	{envRateBurst, "How many requests a tenant may make at once under " + envRateLimit + " (default: the rate rounded up)."},
	{envStdioCommands, "Comma-separated program names, without paths, that stdio MCP servers may run, such as node,uvx (default: empty, stdio servers disabled). They are found on serve's PATH and run without a shell, with PATH as their only environment; shells and launchers such as sh or env are refused."},
	{envProbeTimeout, "Longest a health check (MCP handshake, ping, close) may take, as a Go duration (default 10s)."},
	{envHealthInterval, "How often serve's scheduler re-checks each connection and connected or errored MCP server (default 60s). Replicas on one database share the work."},
	{envProbeConcurrency, "How many scheduled checks one serve process runs at once (default 16)."},
	{envCheckHistory, "How many checks per connection or server the check history keeps (default 500); older ones are deleted as new ones are stored."},
	{envAllowPrivate, "true lets checks reach loopback and private addresses (default false). Link-local and cloud metadata addresses are always refused."},
	{envGatewaySessionIdle, "How long a gateway session (/mcp/servers/{id}) may stay idle before it and its upstream session (and stdio process) are closed (default 10m). Sessions are shared by the replicas on one database; each replica's copy idles out on its own."},
	{envGatewayTimeout, "Bound on each call the gateway forwards to an upstream MCP server (default 60s)."},
	{envStdioMaxProcesses, "Most stdio MCP server processes the gateway runs at once, one per session of a stdio upstream (default 16); a session over the cap is refused with an error that says so."},
	{envGatewayRateLimit, "Requests per second each agent may make to the gateway (/mcp/agents/{id} and /mcp/servers/{id} together; API key callers per key) on average before being refused, such as 50 or 0.5 (default: unset, no limit). An MCP client's refused request gets a JSON-RPC error naming the agent, any other refused request a 429; both carry Retry-After."},
	{envGatewayRateBurst, "How many gateway requests an agent may make at once under " + envGatewayRateLimit + " (default: the rate rounded up)."},
	{envLogLevel, "debug, info, warn or error (default info). Logs are JSON lines on stderr."},
	{envGOGC, "The Go collector's target heap growth in percent; when it is unset, serve lets the heap grow by five times the live heap while that is small, by at most 64 MiB above it, never by less than half of it (GOGC 400 below 16 MB live, 100 at 64 MB, 50 from 128 MB), trading some memory for less CPU per request."},
	{envGOMEMLIMIT, "Optional soft memory limit of the Go runtime, such as 256MiB, which makes the collector work harder as the heap nears it (default: none)."},
}

func commands() []*command {
	return []*command{serveCommand(), migrateCommand(), tenantCreateCommand(), keyCreateCommand(), secretsRotateCommand(), secretsMigrateCommand()}
}

// run is the whole command, in a form tests can call: it returns the exit
// code instead of exiting.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	fail := func(code int, err error) int {
		// one line, whatever the error wraps
		fmt.Fprintln(stderr, "mcp-api: "+strings.ReplaceAll(err.Error(), "\n", " "))
		return code
	}
	if len(args) == 0 {
		return fail(exitUsage, errors.New(`no command given; run "mcp-api help" for the list of commands`))
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return help(args[1:], stdout, stderr)
	}

	cmd, rest, err := lookup(args)
	if err != nil {
		return fail(exitUsage, err)
	}
	fs := flag.NewFlagSet("mcp-api "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported on one line below
	action := cmd.setup(fs)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(stdout, cmd, fs)
			return exitOK
		}
		return fail(exitUsage, fmt.Errorf("%s: %v; run \"mcp-api %s --help\" for usage", cmd.name, err, cmd.name))
	}
	if fs.NArg() > 0 {
		return fail(exitUsage, fmt.Errorf("%s: unexpected argument %q; run \"mcp-api %s --help\" for usage", cmd.name, fs.Arg(0), cmd.name))
	}

	level, err := logLevel(env(envLogLevel))
	if err != nil {
		return fail(exitUsage, err)
	}
	c := &cli{
		env:    env,
		stdout: stdout,
		stderr: stderr,
		log:    slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
	if err := action(ctx, c); err != nil {
		var ce *configError
		if errors.As(err, &ce) {
			return fail(exitUsage, err)
		}
		return fail(exitFailure, err)
	}
	return exitOK
}

// lookup finds the command args start with; two-word commands take two.
func lookup(args []string) (*command, []string, error) {
	for _, cmd := range commands() {
		words := strings.Fields(cmd.name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return cmd, args[len(words):], nil
		}
	}
	// a known first word with a wrong second one gets a pointed message
	for _, cmd := range commands() {
		if words := strings.Fields(cmd.name); len(words) == 2 && words[0] == args[0] {
			if len(args) == 1 {
				return nil, nil, fmt.Errorf("%q needs a subcommand: the only one is \"mcp-api %s\"", args[0], cmd.name)
			}
			return nil, nil, fmt.Errorf("unknown command \"%s %s\": the only one is \"mcp-api %s\"", args[0], args[1], cmd.name)
		}
	}
	return nil, nil, fmt.Errorf("unknown command %q; run \"mcp-api help\" for the list of commands", args[0])
}

func logLevel(s string) (slog.Level, error) {
	if s == "" {
		return slog.LevelInfo, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, configErrorf("%s must be debug, info, warn or error, got %q", envLogLevel, s)
	}
	return l, nil
}

// help prints the overview, or one command's help.
func help(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printOverview(stdout)
		return exitOK
	}
	cmd, rest, err := lookup(args)
	if err != nil || len(rest) > 0 {
		if err == nil {
			err = fmt.Errorf("unexpected argument %q after \"help %s\"", rest[0], cmd.name)
		}
		fmt.Fprintln(stderr, "mcp-api: help: "+err.Error())
		return exitUsage
	}
	fs := flag.NewFlagSet("mcp-api "+cmd.name, flag.ContinueOnError)
	cmd.setup(fs)
	printCommandHelp(stdout, cmd, fs)
	return exitOK
}

func printOverview(w io.Writer) {
	fmt.Fprint(w, "Usage: mcp-api <command> [flags]\n\n")
	fmt.Fprint(w, "mcp-api serves the MCP connections API and administers its database.\n\nCommands:\n")
	rows := [][2]string{}
	for _, cmd := range commands() {
		rows = append(rows, [2]string{strings.TrimSpace(cmd.name + " " + cmd.synopsis), cmd.summary})
	}
	rows = append(rows, [2]string{"help [command]", "show a command's flags and environment"})
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r[0], r[1])
	}
	fmt.Fprint(w, "\nEnvironment:\n")
	printEnv(w, nil)
	fmt.Fprint(w, "\nExit status: 0 on success, 1 when the command failed, 2 for a bad command line or configuration.\n")
}

func printCommandHelp(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: mcp-api %s\n\n%s\n", strings.TrimSpace(cmd.name+" "+cmd.synopsis), cmd.about)
	hasFlags := false
	fs.VisitAll(func(f *flag.Flag) {
		if !hasFlags {
			fmt.Fprint(w, "\nFlags:\n")
			hasFlags = true
		}
		arg, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if arg != "" {
			fmt.Fprintf(w, " %s", arg)
		}
		fmt.Fprintf(w, "\n        %s", usage)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	fmt.Fprint(w, "\nEnvironment:\n")
	printEnv(w, cmd.env)
}

// printEnv lists the named variables, or all of them when names is nil.
func printEnv(w io.Writer, names []string) {
	for _, v := range environment {
		if names != nil && !slices.Contains(names, v.name) {
			continue
		}
		fmt.Fprintf(w, "  %s\n        %s\n", v.name, v.doc)
	}
}
