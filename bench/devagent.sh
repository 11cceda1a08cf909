#!/usr/bin/env bash
# Prints the dev agent's figures: time from `job run` to all allocations
# running, and the resident memory of the agent and its driver plugin
# processes, idle and with the tasks running.
#
#   bench/devagent.sh [job file] [expected running allocations]
#
# Needs bin/drover (make build), curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
JOB=${1:-examples/hello.nomad.hcl}
WANT=${2:-3}
BIN=$PWD/bin/drover
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
CONF
"$BIN" agent -dev -config "$DIR/agent.hcl" > "$DIR/agent.log" 2>&1 &
AGENT=$!
trap 'kill -INT $AGENT 2>/dev/null; wait $AGENT 2>/dev/null; rm -rf "$DIR"' EXIT
export DROVER_ADDR=http://127.0.0.1:$HTTP

until curl -sf "$DROVER_ADDR/v1/nodes" | grep -q '"Status":"ready"'; do sleep 0.1; done
sleep 2 # let start-up garbage settle before reading memory

# rss_mb sums the resident memory of the agent and every drover process it
# started (driver plugins), not the tasks.
rss_mb() {
  local total=0 pid
  for pid in $AGENT $(pgrep -P $AGENT -f "drover plugin" || true); do
    total=$((total + $(awk '/^VmRSS:/ {print $2}' /proc/$pid/status)))
  done
  echo "scale=1; $total / 1024" | bc
}
IDLE=$(rss_mb)

JOBID=$(awk '/^job "/ {gsub(/"/,"",$2); print $2; exit}' "$JOB")
START=$(date +%s.%N)
"$BIN" job run -detach "$JOB" > /dev/null
until [ "$(curl -s "$DROVER_ADDR/v1/job/$JOBID/allocations" | grep -o '"ClientStatus":"running"' | wc -l)" -ge "$WANT" ]; do
  sleep 0.02
done
END=$(date +%s.%N)
sleep 2
BUSY=$(rss_mb)
"$BIN" job stop -purge "$JOBID" > /dev/null

printf 'BENCH devagent job=%s allocs=%d run_to_running_s=%.3f rss_idle_mb=%s rss_running_mb=%s\n' \
  "$JOBID" "$WANT" "$(echo "$END - $START" | bc)" "$IDLE" "$BUSY"
