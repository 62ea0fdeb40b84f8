#!/usr/bin/env bash
# Scenario 5: two makerpulse instances sharing the challenge through a real redis-server, the
# viewers split between them; the judges write to the first. Beside it, one instance alone with
# the same load, in the same run. Every port follows BENCH_PORT_BASE (`port_of`); after each run
# the instances' own measures (stream lag, Redis append, fsync: /metrics) and each thread's CPU
# seconds go beside the JSON, to see where the time went. SPLIT_CORES sizes the two instances'
# threads (below).
source "$(dirname "$0")/lib.sh"
out=$RESULTS/s5-redis
mkdir -p "$out"
args=(--viewers "${VIEWERS:-10000}" --rate "${RATE:-10}" --duration "${DURATION:-30}")
# two NAME THREADS: two instances and a Redis of their own, THREADS worker threads per runtime
# in each (empty: one per core), the viewers split between them; the report in NAME-$rep.json.
two() {
  local name=$1
  calm
  start redis "$(port_of redis)"
  redis_pid=$STARTED
  url=redis://$HOST:$(port_of redis)/
  pa=$(port_of makerpulse-a)
  pb=$(port_of makerpulse-b)
  MAKERPULSE_THREADS=$2
  start makerpulse "$pa" "$url"
  a=$STARTED
  start makerpulse "$pb" "$url"
  b=$STARTED
  unset MAKERPULSE_THREADS
  sleep 1
  log "$name → $out/$name-$rep.json"
  timeout 900 "${LOADGEN[@]}" --label "$name" --url "ws://$HOST:$pa" \
    --url "ws://$HOST:$pb" --server-pid "$a" --server-pid "$b" --server-pid "$redis_pid" \
    --json "$out/$name-$rep.json" "${args[@]}" || log "$name: not clean"
  for p in "$pa" "$pb"; do
    curl -s "http://$HOST:$((p + 1000))/metrics" >"$out/$name-$rep-metrics-$p.txt" || true
  done
  threads "$a" "$b" >"$out/$name-$rep-threads.txt"
  stop "$a"
  stop "$b"
  stop "$redis_pid"
}
# SPLIT_CORES: 0 (the default), each instance with a worker per core in each runtime, as one
# instance alone; 1, each with half the machine's cores (MAKERPULSE_THREADS), as two instances on
# machines of their own would be sized — the two together then run as many threads as the one
# alone, on the same cores; `both`, the two side by side in every repeat (two-instances,
# two-instances-split).
half=$(( ($(nproc) + 1) / 2 ))
for rep in $(seq 1 "$REPEATS"); do
  measure makerpulse "$(port_of makerpulse)" "$out/one-instance-$rep.json" "${args[@]}"
  case ${SPLIT_CORES:-0} in
    1) two two-instances "$half" ;;
    both) two two-instances ""; two two-instances-split "$half" ;;
    *) two two-instances "" ;;
  esac
done
