#!/usr/bin/env bash
# History in O(what is read) and memory over a whole challenge (issues 12 item 7 and 18): writes a
# journal of EVENTS events of a 72-hour challenge with makerpulse-journal (the mixed soak's
# stream: scorecard revisions, posts with text, milestone ticks, cheer tallies), starts the
# release server on it and measures
#   - the first start (no checkpoint yet: the whole journal folded, checkpoints saved along it)
#     and a restart (from the latest checkpoint): from the process start until the challenge
#     answers /view, and RSS once loaded (the memory a challenge of that length keeps),
#   - the checkpoints on disk, of each kind (files, MiB) and how long each took to save,
#   - /view?at=SEQ at REQUESTS random seqs, /times, /log?since=top-1000: p50, p99, max, the
#     server's CPU time per request (user + system, /proc: what the machine's load cannot
#     inflate), and RSS after them.
#
#   bench/history.sh [EVENTS] [REQUESTS]      (defaults: 1000000 200)
#
# With JOURNAL=FILE, that journal is copied instead of writing one (to run two builds on the same
# bytes). With VIEWERS=N, N audience sockets then join the restarted server and stay idle for a
# step: the load generator reports the server's RSS with the whole challenge loaded and N viewers
# on it.
#
# Everything runs on 127.0.0.1 and stops by itself.
source "$(dirname "$0")/lib.sh"
events=${1:-1000000}
requests=${2:-200}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p makerpulse-server -p makerpulse-loadgen
data=$(mktemp -d)
trap 'cleanup; rm -rf "$data"' EXIT
if [ -n "${JOURNAL:-}" ]; then
  log "copying the journal $JOURNAL"
  mkdir -p "$data/challenges" && cp "$JOURNAL" "$data/challenges/bench.journal"
else
  log "writing a journal of $events events"
  "$BIN/makerpulse-journal" --events "$events" --out "$data/challenges/bench.journal"
fi
ls -l "$data/challenges/bench.journal" >&2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
serverlog=$(mktemp)
# serve PHASE: starts the release server on the journal, measures until it is ready, and (in the
# phase `restart`) the reads; the server of the phase `first` is stopped once ready.
serve() {
  local phase=$1
  local started
  started=$(date +%s.%N)
  MAKERPULSE_DATA_DIR=$data MAKERPULSE_BIND=127.0.0.1:$port MAKERPULSE_METRICS_BIND=off \
    RUST_LOG=${RUST_LOG:-warn,makerpulse_server::hub=info} "$BIN/makerpulse" serve 2>>"$serverlog" >/dev/null &
  local server=$!
  PIDS+=("$server")
  SERVER=$server
  python3 - "$port" "$started" "$server" "$requests" "$phase" <<'PY'
import http.client, json, random, sys, time
port, started, pid, n, phase = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
token = __import__("os").environ["MAKERPULSE_ADMIN_TOKEN"]
def get(path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    t = time.perf_counter()
    c.request("GET", path, headers={"Authorization": "Bearer " + token})
    r = c.getresponse(); body = r.read()
    return r.status, body, time.perf_counter() - t
deadline = time.time() + 900
while True:
    try:
        status, body, _ = get("/api/challenges/bench/view")
        if status == 200: break
    except OSError:
        pass
    if time.time() > deadline: sys.exit("the server was not ready in 900 s")
    time.sleep(0.05)
ready = time.time() - started
top = json.loads(body)["seq"]
def rss():
    return int([l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1]) / 1024
load = open("/proc/loadavg").read().split()[0]
print(f"[{phase}] events {top}; start to ready {ready:.2f} s (load {load}); RSS once loaded {rss():.1f} MiB")
if phase == "first":
    sys.exit(0)
def cpu():
    # The server's user + system time so far, in ms (the clock ticks of /proc/PID/stat).
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / __import__("os").sysconf("SC_CLK_TCK")
def stats(name, paths):
    times = []
    spent = cpu()
    for p in paths:
        status, body, took = get(p)
        assert status == 200, (p, status, body[:200])
        times.append(took * 1000)
    spent = (cpu() - spent) / len(times)
    times.sort()
    q = lambda f: times[min(len(times) - 1, int(f * len(times)))]
    load = open("/proc/loadavg").read().split()[0]
    print(f"{name:<22} n={len(times):<4} p50 {q(0.5):8.1f} ms  p99 {q(0.99):8.1f} ms  max {times[-1]:8.1f} ms  server CPU {spent:6.1f} ms per request  (load {load})")
random.seed(7)
stats("/view?at=random", [f"/api/challenges/bench/view?at={random.randint(1, top)}" for _ in range(n)])
print(f"RSS after the history reads {rss():.1f} MiB")
stats("/times", ["/api/challenges/bench/times"] * 20)
stats("/log?since=top-1000", [f"/api/challenges/bench/log?since={top - 1000}"] * 20)
print(f"RSS after the reads {rss():.1f} MiB")
PY
  if [ "$phase" = first ]; then
    # Stopped gracefully once its checkpoints are written (they are, before it answers).
    kill "$server"; wait "$server" 2>/dev/null || true
  fi
}
log "first start: no checkpoint yet, the whole journal is folded and checkpoints saved along it"
serve first
ckpts="$data/challenges/bench.checkpoints"
# kind EXT: how many checkpoint files of that kind, and their bytes in MiB.
kind() { find "$ckpts" -name "*.$1" -printf '%s\n' | awk -v k="$1" '{n++; b+=$1} END {printf "%d .%s files, %.1f MiB (%.0f KB each on average)", n, k, b/1048576, n ? b/n/1000 : 0}'; }
echo "checkpoints: $(kind ckpt) of the whole state; $(kind past) of the past; journal $(du -sm "$data/challenges/bench.journal" | cut -f1) MiB"
ls -l "$ckpts" | grep -v '\.past$' >&2
log "restart: from the latest checkpoint"
serve restart
if [ "${VIEWERS:-0}" -gt 0 ]; then
  log "$VIEWERS idle viewers join the restarted server"
  timeout 900 "$BIN/makerpulse-loadgen" --url "ws://127.0.0.1:$port" --label history --challenge bench \
    --server-pid "$SERVER" --viewers "$VIEWERS" --teams 60 --connect-concurrency 1000 --duration 10 --drain 1 \
    2>&1 | grep -E "connections held|server RSS|checks" || log "the viewers' run was not clean"
fi
grep -h "checkpoint saved" "$serverlog" | sed 's/\x1b\[[0-9;]*m//g' | tail -20 >&2 || true
rm -f "$serverlog"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
