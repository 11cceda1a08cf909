#!/usr/bin/env bash
# Prints Drover's agent-side memory per running task: a non-dev agent
# (server + client, state on disk) runs N tasks of one driver; the resident
# memory of every Drover process (the agent and its driver plugins, not the
# tasks) is summed before and with the tasks running.
#
#   bench/tasks.sh [tasks per driver] [drivers...]
#
# Default: 50 tasks each of raw_exec and exec. exec needs root (namespaces,
# cgroups). Needs bin/drover (make build; or set DROVER_BIN), curl and python3. Prints one line
# per driver:
#   BENCH tasks driver=raw_exec tasks=50 rss_idle_mb=.. rss_running_mb=.. per_task_mb=..
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
shift || true
DRIVERS=("$@")
[ ${#DRIVERS[@]} -gt 0 ] || DRIVERS=(raw_exec exec)
BIN=${DROVER_BIN:-$PWD/bin/drover}
[ -x "$BIN" ] || { echo "bin/drover missing: run make build" >&2; exit 1; }

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP=$(port); RPC=$(port); SERF=$(port)
DIR=$(mktemp -d)
cat > "$DIR/agent.hcl" <<CONF
data_dir  = "$DIR/data"
bind_addr = "127.0.0.1"
log_level = "WARN"
ports {
  http = $HTTP
  rpc  = $RPC
  serf = $SERF
}
server {
  enabled          = true
  bootstrap_expect = 1
}
client {
  enabled = true
}
plugin "raw_exec" {
  config {
    enabled = true
  }
}
CONF
"$BIN" agent -config "$DIR/agent.hcl" > "$DIR/agent.log" 2>&1 &
AGENT=$!
PLUGINS=""
cleanup() {
  # A non-dev agent leaves its tasks and plugins running: end them too.
  "$BIN" job stop -purge bench-tasks > /dev/null 2>&1 || true
  kill -INT $AGENT 2>/dev/null || true
  wait $AGENT 2>/dev/null || true
  for pid in $PLUGINS; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT
export DROVER_ADDR=http://127.0.0.1:$HTTP

until curl -sf "$DROVER_ADDR/v1/nodes" | grep -q '"Status":"ready"'; do sleep 0.1; done
PLUGINS=$(pgrep -P $AGENT -f "drover plugin" || true)

# rss_kb sums the resident memory of the agent and its driver plugins.
rss_kb() {
  local total=0 pid
  for pid in $AGENT $PLUGINS; do
    total=$((total + $(awk '/^VmRSS:/ {print $2}' /proc/$pid/status)))
  done
  echo $total
}
running() {
  curl -s "$DROVER_ADDR/v1/job/bench-tasks/allocations" | grep -o '"ClientStatus":"running"' | wc -l
}

for DRIVER in "${DRIVERS[@]}"; do
  sleep 2 # let start-up (or the previous run's) garbage settle
  IDLE=$(rss_kb)
  cat > "$DIR/job.nomad.hcl" <<JOB
job "bench-tasks" {
  datacenters = ["dc1"]
  group "g" {
    count = $N
    task "sleep" {
      driver = "$DRIVER"
      config {
        command = "/bin/sleep"
        args    = ["3600"]
      }
      resources {
        cpu    = 10
        memory = 10
      }
    }
  }
}
JOB
  "$BIN" job run -detach "$DIR/job.nomad.hcl" > /dev/null
  deadline=$((SECONDS + 120))
  until [ "$(running)" -ge "$N" ]; do
    [ $SECONDS -lt $deadline ] || { echo "$DRIVER: only $(running)/$N tasks running after 120 s" >&2; tail -20 "$DIR/agent.log" >&2; exit 1; }
    sleep 0.2
  done
  sleep 3 # let the status updates and state writes of the start settle
  BUSY=$(rss_kb)
  "$BIN" job stop -purge bench-tasks > /dev/null
  deadline=$((SECONDS + 60))
  while [ "$(running)" -gt 0 ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  awk -v d="$DRIVER" -v n="$N" -v i="$IDLE" -v b="$BUSY" 'BEGIN {
    printf "BENCH tasks driver=%s tasks=%d rss_idle_mb=%.1f rss_running_mb=%.1f per_task_mb=%.2f\n", d, n, i/1024, b/1024, (b-i)/1024/n }'
done
