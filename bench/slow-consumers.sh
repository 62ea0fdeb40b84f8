#!/usr/bin/env bash
# Slow consumers (docs/reliability.md): VIEWERS viewers reading normally at RATE events/s, first
# alone, then beside STALLED sockets that say hello and never read a byte (4 KiB receive buffer).
# Reports both runs' delivery latency and the server's memory, and how the stalled ones were
# handled (resyncs and closes, from /metrics). Interleaved REPEATS times; the README quotes medians.
source "$(dirname "$0")/lib.sh"
VIEWERS=${VIEWERS:-1000}
STALLED=${STALLED:-200}
RATE=${RATE:-10}
DURATION=${DURATION:-30}
out=$RESULTS/slow-consumers
mkdir -p "$out"
for rep in $(seq 1 "$REPEATS"); do
  for stalled in 0 "$STALLED"; do
    calm
    start makerpulse 18080
    pid=$STARTED
    json=$out/stalled-$stalled-$rep.json
    log "makerpulse, $VIEWERS readers, $stalled stalled → $json"
    "$BIN/makerpulse-loadgen" --target makerpulse --url ws://127.0.0.1:18080 --label "stalled-$stalled" \
      --server-pid "$pid" --viewers "$VIEWERS" --rate "$RATE" --duration "$DURATION" --json "$json" \
      >"$out/stalled-$stalled-$rep.txt" 2>&1 &
    loadgen=$!
    if [ "$stalled" -gt 0 ]; then
      # The load generator seeds the challenge first; the stalled sockets join once it exists.
      for _ in $(seq 1 100); do
        curl -fs http://127.0.0.1:18080/api/challenges/bench/view >/dev/null && break
        sleep 0.2
      done
      "$ROOT/scripts/stalled-viewers" ws://127.0.0.1:18080 bench "$stalled" $((DURATION + 15)) \
        >"$out/stalled-$stalled-$rep.stalled.out" &
      staller=$!
    fi
    wait "$loadgen" || log "not clean (see $json)"
    curl -fs http://127.0.0.1:19080/metrics | grep -E "^makerpulse_(queue_resyncs|slow_closes)_total" \
      >"$out/stalled-$stalled-$rep.metrics" || true
    [ "$stalled" -gt 0 ] && { kill "$staller" 2>/dev/null || true; }
    stop "$pid"
  done
done
python3 - "$out" <<'PY'
import glob, json, statistics, sys
out = sys.argv[1]
for stalled in sorted({int(p.split("stalled-")[1].split("-")[0]) for p in glob.glob(f"{out}/stalled-*.json")}):
    runs = [json.load(open(p)) for p in sorted(glob.glob(f"{out}/stalled-{stalled}-*.json"))]
    p99 = statistics.median(r["steps"][0]["latency_ms"]["p99"] for r in runs)
    p50 = statistics.median(r["steps"][0]["latency_ms"]["p50"] for r in runs)
    rss = statistics.median(max(r["server"][i]["rss_kib"] for i in range(3)) for r in runs)
    gaps = sum(r["checks"]["gaps"] for r in runs)
    lost = sum(r["steps"][0]["expected"] - r["steps"][0]["delivered"] for r in runs)
    metrics = " ".join(open(p).read().replace("\n", " ") for p in sorted(glob.glob(f"{out}/stalled-{stalled}-*.metrics")))
    print(f"stalled {stalled}: readers p50 {p50:.1f} ms, p99 {p99:.1f} ms; server RSS {rss/1024:.1f} MiB; gaps {gaps}; undelivered {lost}; {metrics}")
PY
