#!/usr/bin/env bash
# Scenario 5: two makerpulse instances sharing the challenge through a real redis-server, the
# viewers split between them; the judges write to the first. Beside it, one instance alone with
# the same load, in the same run. Every port follows BENCH_PORT_BASE (`port_of`); after each run
# the instances' own measures (stream lag, Redis append, fsync: /metrics) and each thread's CPU
# seconds go beside the JSON, to see where the time went. SPLIT_CORES=1 sizes each of the two
# instances to half the cores (below).
source "$(dirname "$0")/lib.sh"
out=$RESULTS/s5-redis
mkdir -p "$out"
args=(--viewers "${VIEWERS:-10000}" --rate "${RATE:-10}" --duration "${DURATION:-30}")
for rep in $(seq 1 "$REPEATS"); do
  measure makerpulse "$(port_of makerpulse)" "$out/one-instance-$rep.json" "${args[@]}"
  calm
  start redis "$(port_of redis)"
  redis_pid=$STARTED
  url=redis://$HOST:$(port_of redis)/
  pa=$(port_of makerpulse-a)
  pb=$(port_of makerpulse-b)
  # With SPLIT_CORES=1 each instance runs its runtimes with half the machine's cores in worker
  # threads, as two instances on machines of their own would be sized: the two together run as
  # many threads as the one instance alone, on the same cores.
  if [ "${SPLIT_CORES:-0}" = 1 ]; then MAKERPULSE_THREADS=$(( ($(nproc) + 1) / 2 )); fi
  start makerpulse "$pa" "$url"
  a=$STARTED
  start makerpulse "$pb" "$url"
  b=$STARTED
  unset MAKERPULSE_THREADS
  sleep 1
  log "two instances → $out/two-instances-$rep.json"
  timeout 900 "${LOADGEN[@]}" --label two-instances --url "ws://$HOST:$pa" \
    --url "ws://$HOST:$pb" --server-pid "$a" --server-pid "$b" --server-pid "$redis_pid" \
    --json "$out/two-instances-$rep.json" "${args[@]}" || log "two instances: not clean"
  for p in "$pa" "$pb"; do
    curl -s "http://$HOST:$((p + 1000))/metrics" >"$out/two-instances-$rep-metrics-$p.txt" || true
  done
  threads "$a" "$b" >"$out/two-instances-$rep-threads.txt"
  stop "$a"
  stop "$b"
  stop "$redis_pid"
done
