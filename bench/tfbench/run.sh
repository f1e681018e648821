#!/usr/bin/env bash
# The Terraform part of make bench: what terraform-provider-mcp costs beside
# the floor any terraform-plugin-framework provider pays.
#
# Three configurations of TFBENCH_RESOURCES (100) resources each:
#   mcp_connection          the real provider against a local mcp-api, every
#                           server_url the local demo MCP server, so apply
#                           includes the health check (the MCP handshake);
#   mcpbaseline_connection  bench/tfbench/baseline: the same schema, the same
#                           framework version, no I/O at all;
#   terraform_data          Terraform's built-in resource, for reference.
# For each, TFBENCH_RUNS (5) times: terraform apply -auto-approve (create all,
# timed), terraform plan (refresh, must show no changes, timed), terraform
# destroy (not timed). Medians are compared; targets: plan <= 1.5 x the
# baseline, apply <= 2 x. Prints a table, writes it to
# bench/RESULTS-terraform.md (TFBENCH_OUT) with the date and the machine, and
# exits 1 when a target is missed.
#
# It starts a throwaway PostgreSQL, mcp-api and the demo MCP server on free
# loopback ports (never the demo's), works in .cache/tfbench (TFBENCH_WORK),
# uses a CLI configuration of its own (never the user's) and stops everything
# it started on exit. To measure an API that is already running instead, set
# all of TFBENCH_API_URL, TFBENCH_API_KEY and TFBENCH_MCP_URL (an MCP server
# that needs no token and that the API can reach: a loopback one needs
# MCP_API_ALLOW_PRIVATE_TARGETS=true).
# TFBENCH_SCHEDULER=off runs the API with --no-scheduler; TFBENCH_LOG_LEVEL
# sets its MCP_API_LOG_LEVEL (default info).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
prog=tfbench
. "$root/scripts/lib.sh"
work=${TFBENCH_WORK:-$root/.cache/tfbench}
count=${TFBENCH_RESOURCES:-100}
runs=${TFBENCH_RUNS:-5}
out=${TFBENCH_OUT:-$root/bench/RESULTS-terraform.md}
scheduler=${TFBENCH_SCHEDULER:-on}
log_level=${TFBENCH_LOG_LEVEL:-info}
kinds=(mcp baseline data)

case "$count$runs" in *[!0-9]*) die "TFBENCH_RESOURCES and TFBENCH_RUNS must be whole numbers" ;; esac
[ "$count" -ge 1 ] && [ "$runs" -ge 1 ] || die "TFBENCH_RESOURCES and TFBENCH_RUNS must be at least 1"
case "$scheduler" in on | off) ;; *) die "TFBENCH_SCHEDULER must be on or off, got $scheduler" ;; esac
need go terraform curl

reuse=
if [ -n "${TFBENCH_API_URL:-}${TFBENCH_API_KEY:-}${TFBENCH_MCP_URL:-}" ]; then
  [ -n "${TFBENCH_API_URL:-}" ] && [ -n "${TFBENCH_API_KEY:-}" ] && [ -n "${TFBENCH_MCP_URL:-}" ] ||
    die "to reuse a running API set all of TFBENCH_API_URL, TFBENCH_API_KEY and TFBENCH_MCP_URL (or none)"
  reuse=1
fi

pg_started=
cleanup() {
  # Connections left by a failed run would stay in a reused API's tenant.
  if [ -n "$reuse" ] && [ -s "$work/tf/mcp/terraform.tfstate" ]; then
    terraform -chdir="$work/tf/mcp" destroy -auto-approve -input=false -no-color >>"$work/tf/mcp/cleanup.log" 2>&1 ||
      log "could not destroy the connections left in the API; see ${work#"$root"/}/tf/mcp/cleanup.log"
  fi
  stop_process "${API_PID:-}"
  stop_process "${MCP_PID:-}"
  if [ -n "$pg_started" ]; then pg_down "$work/pg"; fi
}
on_exit cleanup

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rm -rf "$work/tf" "$work/pg"
mkdir -p "$work/bin/providers" "$work/tf"

log "building terraform-provider-mcp, the baseline provider, mcp-api and the demo MCP server"
# The same flags for both providers (the Makefile's), so neither starts faster for its build.
GO_LDFLAGS="-s -w" go_build "$work/bin/providers" \
  terraform-provider-mcp=. terraform-provider-mcpbaseline=./bench/tfbench/baseline
go_build "$work/bin" mcp-api=./apiserver/cmd/mcp-api demoserver=./internal/demoserver

pg_version=
if [ -n "$reuse" ]; then
  api_url=${TFBENCH_API_URL%/} api_key=$TFBENCH_API_KEY mcp_url=$TFBENCH_MCP_URL
  log "reusing the API at $api_url and the MCP server at $mcp_url"
else
  # initdb --no-sync only skips flushing the new cluster's files; the server
  # runs with PostgreSQL's default durability (fsync, synchronous_commit), as
  # the API would in production, since apply writes every row.
  pg_started=1
  pg_init "$work/pg" --no-sync
  pg_version=$("$PG_BIN/postgres" --version | awk '{print "PostgreSQL", $3}')
  pg_start_free "$work/pg" 25432

  sched_flag=()
  [ "$scheduler" = off ] && sched_flag=(--no-scheduler)
  BENCH_API_NOTE="scheduler $scheduler, " MCP_API_ALLOW_PRIVATE_TARGETS=true \
    serve_bench_api "$work/bin/mcp-api" 28180 tfbench "$PG_URL" "$log_level" "$work/api.log" "${sched_flag[@]}"
  api_url=$API_URL api_key=$API_KEY

  mcp_port=$(free_port 28190)
  mcp_url="http://127.0.0.1:$mcp_port/mcp"
  log "starting the demo MCP server on $mcp_url"
  DEMO_MCP_TOKEN= serve_demo_mcp "$work/bin/demoserver" "127.0.0.1:$mcp_port" "$work/mcp.log"
fi

# the two providers just built
terraformrc "$work/terraformrc" "mcpconn/mcp=$work/bin/providers" "mcpconn/mcpbaseline=$work/bin/providers"
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export MCP_ENDPOINT="$api_url" MCP_API_KEY="$api_key"
# Nothing of the caller's may change what is measured: logging (a provider
# logs at trace level unless told otherwise), extra arguments, a data dir.
unset TF_LOG TF_LOG_PATH TF_LOG_CORE TF_LOG_PROVIDER TF_LOG_PROVIDER_MCP TF_LOG_PROVIDER_MCPBASELINE \
  TF_LOG_SDK TF_LOG_SDK_PROTO TF_LOG_SDK_FRAMEWORK TF_CLI_ARGS TF_CLI_ARGS_plan TF_CLI_ARGS_apply \
  TF_CLI_ARGS_destroy TF_DATA_DIR TF_PLUGIN_CACHE_DIR

# Names carry a run id so a reused API's tenant never holds a clash.
run_id=$(random_hex 4)
mkdir -p "$work/tf/mcp" "$work/tf/baseline" "$work/tf/data"
# connections KIND PROVIDER: KIND's configuration, $count PROVIDER_connection
# resources (the real provider and the baseline share one schema).
connections() {
  cat >"$work/tf/$1/main.tf" <<TF
terraform {
  required_providers {
    $2 = { source = "mcpconn/$2" }
  }
}

resource "$2_connection" "bench" {
  count      = $count
  name       = "tfbench-$run_id-\${count.index}"
  server_url = "$mcp_url"
}
TF
}
connections mcp mcp
connections baseline mcpbaseline
cat >"$work/tf/data/main.tf" <<TF
resource "terraform_data" "bench" {
  count = $count
  input = {
    name       = "tfbench-$run_id-\${count.index}"
    server_url = "$mcp_url"
  }
}
TF

# tf KIND LOGNAME ARGS...: runs terraform in KIND's directory, output to a log.
tf() {
  local kind=$1 name=$2
  shift 2
  terraform -chdir="$work/tf/$kind" "$@" -input=false -no-color >"$work/tf/$kind/$name.log" 2>&1
}

# server_cpu prints the CPU seconds the API, the MCP server and PostgreSQL
# (the postmaster, its live children and, through its cutime, the children
# it reaped) have used so far; 0 for an API this script did not start.
server_cpu() {
  local pids=() pm p
  [ -n "${API_PID:-}" ] && pids+=("$API_PID")
  [ -n "${MCP_PID:-}" ] && pids+=("$MCP_PID")
  if [ -n "$pg_started" ] && pm=$(head -n 1 "$work/pg/data/postmaster.pid" 2>/dev/null); then
    pids+=("$pm")
    mapfile -t -O "${#pids[@]}" pids < <(ps -o pid= --ppid "$pm")
  fi
  # Fields 14-17 of /proc/PID/stat are utime, stime, cutime and cstime in
  # clock ticks, counted after the ")" that ends the command name.
  for p in "${pids[@]}"; do sed 's/.*) //' "/proc/${p// /}/stat" 2>/dev/null || true; done |
    awk -v hz="$clk_tck" '{t += $12 + $13 + $14 + $15} END {printf "%.3f\n", t / hz}'
}
clk_tck=$(getconf CLK_TCK)

# children_cpu FILE prints the user+system CPU seconds of the reaped
# children in FILE, the output of bash's times (the builtin, run in the
# shell whose children count, never in a subshell or a pipe).
children_cpu() {
  awk 'NR == 2 {
    for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] }
    printf "%.3f\n", t }' "$1"
}

# timed KIND LOGNAME ARGS...: tf, printing its wall time and the CPU time it
# cost (terraform and its providers, plus what the servers used meanwhile),
# in seconds; fails on a non-zero exit.
timed() {
  local kind=$1 name=$2 t0 t1 c0 c1 s0 s1 rc=0
  s0=$(server_cpu)
  times >"$work/times.0"
  t0=$EPOCHREALTIME
  tf "$@" || rc=$?
  t1=$EPOCHREALTIME
  times >"$work/times.1"
  s1=$(server_cpu) c0=$(children_cpu "$work/times.0") c1=$(children_cpu "$work/times.1")
  if [ "$rc" = 2 ] && [ "$3" = plan ]; then
    awk '/will be|must be/ && n++ < 5' "$work/tf/$kind/$name.log" >&2
    die "terraform plan of $kind right after apply wants changes (a perpetual diff); see ${work#"$root"/}/tf/$kind/$name.log"
  elif [ "$rc" != 0 ]; then
    tail -n 20 "$work/tf/$kind/$name.log" >&2
    die "terraform $3 of $kind failed (exit $rc); see ${work#"$root"/}/tf/$kind/$name.log"
  fi
  # The children's CPU is only counted once terraform has reaped them,
  # which it does before it exits.
  awk -v a="$t0" -v b="$t1" -v c="$c0" -v d="$c1" -v e="$s0" -v f="$s1" \
    'BEGIN {printf "%.3f %.3f\n", b - a, (d - c) + (f - e)}'
}

# Loads the binaries into the page cache and proves every configuration
# plans, so the first timed run is not the odd one out.
for k in "${kinds[@]}"; do
  tf "$k" warmup plan || { tail -n 20 "$work/tf/$k/warmup.log" >&2; die "terraform plan of $k failed; see ${work#"$root"/}/tf/$k/warmup.log"; }
done

declare -A applies plans apply_cpus plan_cpus
for r in $(seq "$runs"); do
  # The kinds alternate within a round so drift on a shared machine
  # spreads over all of them.
  for k in "${kinds[@]}"; do
    read -r a ac < <(timed "$k" "apply-$r" apply -auto-approve) ||
      die "terraform apply of $k did not finish"
    if [ "$k" = mcp ]; then
      # Apply must have run the health checks: every connection active.
      active=$(terraform -chdir="$work/tf/mcp" show -json -no-color | { grep -o '"status":"active"' || true; } | wc -l)
      [ "$active" = "$count" ] ||
        die "$active of $count connections are active after apply (is $mcp_url reachable by the API, with MCP_API_ALLOW_PRIVATE_TARGETS=true?)"
    fi
    # -detailed-exitcode: 2 means the refreshed plan wants changes, a
    # perpetual diff that is a bug, not a number to report.
    read -r p pc < <(timed "$k" "plan-$r" plan -detailed-exitcode) ||
      die "terraform plan of $k did not finish"
    tf "$k" "destroy-$r" destroy -auto-approve ||
      die "terraform destroy of $k failed; see ${work#"$root"/}/tf/$k/destroy-$r.log"
    applies[$k]+="$a " plans[$k]+="$p " apply_cpus[$k]+="$ac " plan_cpus[$k]+="$pc "
    log "run $r/$runs $k: apply ${a}s (CPU ${ac}s), plan ${p}s (CPU ${pc}s)"
  done
done

median() { # median of the numbers given
  printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {
    if (NR % 2) printf "%.2f", v[(NR+1)/2]; else printf "%.2f", (v[NR/2] + v[NR/2+1]) / 2 }'
}
fastest() { printf '%s\n' "$@" | sort -n | awk 'NR == 1 {printf "%.2f", $1}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v <= t) ? "PASS" : "MISS"}'; }

declare -A ma mp mac mpc
# shellcheck disable=SC2086 # the lists are space-separated numbers
for k in "${kinds[@]}"; do
  ma[$k]=$(median ${applies[$k]}) mp[$k]=$(median ${plans[$k]})
  mac[$k]=$(median ${apply_cpus[$k]}) mpc[$k]=$(median ${plan_cpus[$k]})
done
# shellcheck disable=SC2086
fast_plan_ratio=$(ratio "$(fastest ${plans[mcp]})" "$(fastest ${plans[baseline]})")
# shellcheck disable=SC2086
fast_apply_ratio=$(ratio "$(fastest ${applies[mcp]})" "$(fastest ${applies[baseline]})")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
busy=$(awk -v a="${load_before%% *}" -v b="${load_after%% *}" -v n="$(nproc)" 'BEGIN {print (a > n || b > n) ? 1 : 0}')
plan_ratio=$(ratio "${mp[mcp]}" "${mp[baseline]}")
apply_ratio=$(ratio "${ma[mcp]}" "${ma[baseline]}")
plan_ok=$(verdict "$plan_ratio" 1.5)
apply_ok=$(verdict "$apply_ratio" 2)

# runs_of KIND WALLS CPUS: KIND's runs as "wall (cpu)", comma-separated.
runs_of() {
  local -n w=$2 c=$3
  paste -d' ' <(printf '%s\n' ${w[$1]}) <(printf '%s\n' ${c[$1]}) |
    awk '{printf "%s%s (%s)", (NR > 1 ? ", " : ""), $1, $2}'
}
cpu_note="CPU is the user+system time of terraform and the provider processes plus what
mcp-api, PostgreSQL and the MCP server used while each command ran"
[ -n "$reuse" ] && cpu_note="CPU is the user+system time of terraform and the provider processes
(not of the API, which this run did not start)"

busy_note=
[ "$busy" = 1 ] && busy_note="

**The machine was busy** (load average above its $(nproc) CPUs before or after
the run): other work competed for the CPUs, and that tends to delay
mcp_connection more than the baseline, since each of its reads and writes waits
for the API, PostgreSQL and the MCP server to be scheduled in turn. Run it again
on a quiet machine before reading much into the wall times; the CPU columns are
the steadier comparison."

tf_version=$(terraform version | sed -n 1p)
if [ -n "$reuse" ]; then
  setup="an API already running at $api_url (TFBENCH_API_URL),
  MCP server $mcp_url (TFBENCH_MCP_URL)"
else
  setup="\`mcp-api serve\` (scheduler $scheduler,
  MCP_API_LOG_LEVEL=$log_level, MCP_API_ALLOW_PRIVATE_TARGETS=true) on a throwaway
  $pg_version (default durability), the demo MCP server (\`internal/demoserver\`,
  no token) as every \`server_url\`"
fi
report=$(cat <<EOF
# Terraform benchmark results

Written by \`bench/tfbench/run.sh\` (part of \`make bench\`). $count resources per
configuration; each number is the median wall time of $runs runs of
\`terraform apply -auto-approve\` (create all $count) and of \`terraform plan\`
(refresh of all $count, no changes), with \`terraform destroy\` (not timed) between
runs and the three configurations taking turns. Default \`-parallelism\` (10).

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Machine: $(machine); Terraform, the providers,
  the API, PostgreSQL and the MCP server all share these CPUs (load average
  $load_before before the run, $load_after after it)
- Software: $tf_version, $(go version | awk '{print $3}'), terraform-plugin-framework $(cd "$root" && go list -m -f '{{.Version}}' github.com/hashicorp/terraform-plugin-framework)
- mcp_connection: terraform-provider-mcp from this checkout; $setup;
  apply runs each connection's health check (\`check_on_apply\` defaults to true)
- mcpbaseline_connection: \`bench/tfbench/baseline\`, mcp_connection's attributes
  (types, flags, defaults, plan modifiers) on the same framework, no I/O (create
  invents an id): the floor any framework provider pays. It has no validators and
  no resource Configure, so what those cost counts against mcp_connection
- terraform_data: Terraform's built-in resource, for reference

| resource | apply (s) | plan (s) | apply CPU (s) | plan CPU (s) |
|---|---:|---:|---:|---:|
| \`mcp_connection\` | ${ma[mcp]} | ${mp[mcp]} | ${mac[mcp]} | ${mpc[mcp]} |
| \`mcpbaseline_connection\` | ${ma[baseline]} | ${mp[baseline]} | ${mac[baseline]} | ${mpc[baseline]} |
| \`terraform_data\` | ${ma[data]} | ${mp[data]} | ${mac[data]} | ${mpc[data]} |
| mcp / baseline | **$apply_ratio** | **$plan_ratio** | $(ratio "${mac[mcp]}" "${mac[baseline]}") | $(ratio "${mpc[mcp]}" "${mpc[baseline]}") |

The targets are on wall time. $cpu_note; on a busy machine
it moves less than wall time does.

| target | measured | |
|---|---|---|
| plan <= 1.5 x baseline | $plan_ratio x | $plan_ok |
| apply <= 2 x baseline | $apply_ratio x | $apply_ok |

Fastest run against fastest run (the least disturbed): mcp / baseline apply
$fast_apply_ratio x, plan $fast_plan_ratio x.$busy_note

Every run, wall (CPU) seconds:

| resource | apply | plan |
|---|---|---|
| \`mcp_connection\` | $(runs_of mcp applies apply_cpus) | $(runs_of mcp plans plan_cpus) |
| \`mcpbaseline_connection\` | $(runs_of baseline applies apply_cpus) | $(runs_of baseline plans plan_cpus) |
| \`terraform_data\` | $(runs_of data applies apply_cpus) | $(runs_of data plans plan_cpus) |
EOF
)
mkdir -p "$(dirname "$out")"
echo "$report" >"$out"
echo "$report"
log "written to ${out#"$root"/}"
[ "$plan_ok$apply_ok" = PASSPASS ] || exit 1
