# Shared helpers of the benchmark scripts (sourced, not run): where things are, how to start and
# stop each server under test, and how to run the load generator against it. Every server listens
# on a loopback address only; every load run is bounded by the load generator's own limits and a timeout.

set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$CARGO_TARGET_DIR/release
WORK=${BENCH_WORK:-$BENCH_DIR/work}
RESULTS=${RESULTS:-$BENCH_DIR/results}
SOCKUDO=${SOCKUDO:-$WORK/sockudo/bin/sockudo}
export MAKERPULSE_ADMIN_TOKEN=${MAKERPULSE_ADMIN_TOKEN:-bench-admin-token-0123456789abcdef}
# How many times each scenario runs every target, interleaved; the README quotes medians.
REPEATS=${REPEATS:-3}
# The loopback address makerpulse, the ceiling and Redis listen on. A load generator holding
# 10k sockets takes source ports all over 32768–60999 on 127.0.0.x; a benchmark beside it whose
# ports lie there (a high BENCH_PORT_BASE) can listen on another address of 127/8, say 127.0.1.1,
# where no such socket sits. The Node servers and Sockudo stay on 127.0.0.1: leave it unset for
# the scenarios that run them.
HOST=${BENCH_HOST:-127.0.0.1}
# With BENCH_LOADGEN_SESSION=1 the load generator runs in a session of its own. The kernel
# (autogroup) shares the cores fairly between sessions first and between threads only inside
# one: a server with more threads (two instances) then no longer takes a bigger share of a
# saturated machine from the load generator, whose reads end every latency sample.
LOADGEN=("$BIN/makerpulse-loadgen")
if [ "${BENCH_LOADGEN_SESSION:-0}" = 1 ]; then LOADGEN=(setsid -w "$BIN/makerpulse-loadgen"); fi
# The sizes peers send, measured on makerpulse's audience stream of the seeded challenge
# (12 teams, 3 tracks): a scorecard's delta and the snapshot. Scenario scripts re-measure the
# delta in each repeat and use that.
PAYLOAD_BYTES=${PAYLOAD_BYTES:-7466}
SNAPSHOT_BYTES=${SNAPSHOT_BYTES:-12900}

# One process may hold ~20k sockets only with the open-files limit at its hard limit.
ulimit -n "$(ulimit -Hn)"
mkdir -p "$WORK" "$RESULTS"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

log() { echo "[$(date +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)] $*" >&2; }

# Waits (at most 15 s) until $HOST:$1 accepts connections; with a pid $2, gives up as soon
# as that process has exited.
wait_port() {
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; then return 0; fi
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "nothing listens on $HOST:$1" >&2
  return 1
}

# Waits (at most 20 s) until the machine's 1-minute load is under $1 (default 2.5), so that a
# measured run does not start in the middle of someone's compile; goes on anyway after that.
calm() {
  local limit=${1:-2.5}
  for _ in $(seq 1 20); do
    awk -v l="$limit" '{ exit !($1 < l) }' /proc/loadavg && return 0
    sleep 1
  done
}

# start NAME PORT [REDIS_URL]: starts a server and sets STARTED to its pid. The ports lie in the
# kernel's range for outgoing connections (32768–60999) when BENCH_PORT_BASE is high, and a load
# generator beside this one may hold the port as the source of one of its sockets for a while:
# a server that exits at once is started again, up to ten times, 3 s apart.
start() {
  local attempt
  for attempt in $(seq 1 10); do
    launch "$@"
    if wait_port "$2" "$STARTED"; then
      PIDS+=("$STARTED")
      return 0
    fi
    log "$1 did not start on port $2 (attempt $attempt; held as another socket's source?)"
    kill "$STARTED" 2>/dev/null || true
    sleep 3
  done
  return 1
}

# launch NAME PORT [REDIS_URL]: starts a server in the background; STARTED is its pid.
launch() {
  local name=$1 port=$2 redis=${3:-}
  # Whatever listened on the port before (an earlier run's server) is gone first.
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null || break; sleep 0.1; done
  local dir="$WORK/$name-$port"
  rm -rf "$dir" && mkdir -p "$dir" "$WORK/logs"
  # Logs outlive the data directory, one per start, for a server that dies in a run.
  local logfile
  logfile="$WORK/logs/$name-$port-$(date +%H%M%S).log"
  case $name in
    makerpulse)
      # The metrics on the port 1000 above, so that several instances can run side by side.
      # MAKERPULSE_THREADS=N: each of its runtimes (main and audience) gets N worker threads
      # instead of one per core — an instance sized to its share of the cores, for instances
      # that share a machine (scenario 5, SPLIT_CORES=1).
      env MAKERPULSE_BIND="$HOST:$port" MAKERPULSE_METRICS_BIND="$HOST:$((port + 1000))" \
        MAKERPULSE_DATA_DIR="$dir/data" RUST_LOG=warn \
        ${MAKERPULSE_THREADS:+MAKERPULSE_THREADS=$MAKERPULSE_THREADS} \
        ${redis:+MAKERPULSE_REDIS_URL=$redis} "$BIN/makerpulse" serve >"$logfile" 2>&1 &
      ;;
    ceiling)
      "$BIN/ceiling" --bind "$HOST:$port" --snapshot-bytes "$SNAPSHOT_BYTES" >"$logfile" 2>&1 &
      ;;
    ws)
      node "$BENCH_DIR/node/ws-server.js" "$port" "$SNAPSHOT_BYTES" >"$logfile" 2>&1 &
      ;;
    socketio)
      node "$BENCH_DIR/node/socketio-server.js" "$port" "$SNAPSHOT_BYTES" >"$logfile" 2>&1 &
      ;;
    sockudo)
      # sockudo.sh execs the server, so the pid is the server's own.
      PORT=$port "$BENCH_DIR/sockudo.sh" "$dir" >"$logfile" 2>&1 &
      ;;
    redis)
      redis-server --port "$port" --bind "$HOST" --save "" --appendonly no --dir "$dir" >"$logfile" 2>&1 &
      ;;
    *) echo "unknown server $name" >&2; return 1 ;;
  esac
  STARTED=$!
}

stop() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  # A server holding 10k sockets takes a moment to die even then; the next start must not find
  # it still listening (it would answer for the new one).
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
}

# The load generator's --target and URL for a server name on a port.
target_args() {
  case $1 in
    makerpulse) echo "--target makerpulse --url ws://$HOST:$2" ;;
    ceiling) echo "--target ws --url ws://$HOST:$2" ;;
    ws) echo "--target ws --url ws://127.0.0.1:$2" ;;
    socketio) echo "--target socketio --url ws://127.0.0.1:$2" ;;
    sockudo) echo "--target pusher --url ws://127.0.0.1:$2" ;;
  esac
}

# measure NAME PORT JSON [LOADGEN ARGS…]: starts NAME, runs the load generator against it, stops it.
# A run that is not clean (a gap, an error, a lost message) is kept and reported, not fatal.
measure() {
  local name=$1 port=$2 json=$3
  shift 3
  calm
  start "$name" "$port"
  local pid=$STARTED
  sleep 1
  log "$name → $json"
  # shellcheck disable=SC2046
  timeout 900 "${LOADGEN[@]}" $(target_args "$name" "$port") --label "$name" \
    --server-pid "$pid" --payload-bytes "$PAYLOAD_BYTES" --json "$json" "$@" || log "$name: not clean (see $json)"
  stop "$pid"
}

# threads PID…: each thread's name and CPU seconds (user + system) so far, busiest first.
threads() {
  local pid t hz
  hz=$(getconf CLK_TCK)
  for pid in "$@"; do
    for t in /proc/"$pid"/task/*; do
      # The fields after the name's closing parenthesis: utime and stime are the 12th and 13th.
      awk -v pid="$pid" -v hz="$hz" -v name="$(cat "$t/comm")" \
        '{ sub(/.*\) /, ""); printf "%s %s %.2f\n", pid, name, ($12 + $13) / hz }' "$t/stat"
    done
  done | sort -k3 -rn
}

# The mean size of a delivered message in a report.
message_bytes() {
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(max([s["message_bytes"] for s in r["steps"]] or [0]))' "$1"
}

# The port each server listens on in the scenarios.
# BENCH_PORT_BASE moves every port, so that two checkouts can measure side by side.
port_of() {
  local base=${BENCH_PORT_BASE:-18080}
  case $1 in
    makerpulse) echo "$base" ;;
    ceiling) echo $((base + 1)) ;;
    ws) echo $((base + 2)) ;;
    socketio) echo $((base + 3)) ;;
    sockudo) echo $((base + 4)) ;;
    redis) echo $((base + 5)) ;;
    # The two instances sharing a challenge through Redis (scenario 5).
    makerpulse-a) echo $((base + 6)) ;;
    makerpulse-b) echo $((base + 7)) ;;
  esac
}

# Every target of a side-by-side scenario, skipping Sockudo when it could not be built here.
targets() {
  local t
  for t in ${TARGETS:-makerpulse ceiling ws socketio sockudo}; do
    if [ "$t" = sockudo ] && [ ! -x "$SOCKUDO" ]; then
      log "sockudo is not installed (bench/install.sh); skipped"
      continue
    fi
    echo "$t"
  done
}

# side_by_side SCENARIO [LOADGEN ARGS…]: every target, REPEATS times, interleaved so that the
# machine's noise falls on all of them alike; makerpulse first in each round, and the peers get
# the size of makerpulse's messages in that round.
side_by_side() {
  local scenario=$1
  shift
  local out=$RESULTS/$scenario
  mkdir -p "$out"
  local rep t
  for rep in $(seq 1 "$REPEATS"); do
    for t in $(targets); do
      measure "$t" "$(port_of "$t")" "$out/$t-$rep.json" "$@"
      if [ "$t" = makerpulse ]; then
        local bytes
        bytes=$(message_bytes "$out/$t-$rep.json")
        if [ "$bytes" -gt 0 ]; then PAYLOAD_BYTES=$bytes; fi
      fi
    done
  done
}
