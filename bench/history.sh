#!/usr/bin/env bash
# History in O(what is read) and memory over a whole challenge (issues 12 item 7 and 18): writes a
# journal of EVENTS events of a 72-hour challenge with makerpulse-journal (the mixed soak's
# stream: scorecard revisions, posts with text, milestone ticks, cheer tallies), starts the
# release server on it and measures
#   - restart to ready: from the process start until the challenge answers /view,
#   - RSS once loaded (the memory a challenge of that length keeps),
#   - /view?at=SEQ at REQUESTS random seqs, /times, /log?since=top-1000: p50, p99, max.
#
#   bench/history.sh [EVENTS] [REQUESTS]      (defaults: 1000000 200)
#
# Everything runs on 127.0.0.1 and stops by itself.
source "$(dirname "$0")/lib.sh"
events=${1:-1000000}
requests=${2:-200}
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p makerpulse-server -p makerpulse-loadgen
data=$(mktemp -d)
trap 'cleanup; rm -rf "$data"' EXIT
log "writing a journal of $events events"
"$BIN/makerpulse-journal" --events "$events" --out "$data/challenges/bench.journal"
ls -l "$data/challenges/bench.journal" >&2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
started=$(date +%s.%N)
MAKERPULSE_DATA_DIR=$data MAKERPULSE_BIND=127.0.0.1:$port MAKERPULSE_METRICS_BIND=off \
  RUST_LOG=warn "$BIN/makerpulse" serve >/dev/null &
server=$!
PIDS+=("$server")
python3 - "$port" "$started" "$server" "$requests" <<'PY'
import http.client, json, random, sys, time
port, started, pid, n = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
token = __import__("os").environ["MAKERPULSE_ADMIN_TOKEN"]
def get(path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t = time.perf_counter()
    c.request("GET", path, headers={"Authorization": "Bearer " + token})
    r = c.getresponse(); body = r.read()
    return r.status, body, time.perf_counter() - t
deadline = time.time() + 300
while True:
    try:
        status, body, _ = get("/api/challenges/bench/view")
        if status == 200: break
    except OSError:
        pass
    if time.time() > deadline: sys.exit("the server was not ready in 300 s")
    time.sleep(0.05)
ready = time.time() - started
top = json.loads(body)["seq"]
rss = int([l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1])
print(f"events {top}; restart to ready {ready:.2f} s; RSS once loaded {rss / 1024:.1f} MiB")
def stats(name, paths):
    times = []
    for p in paths:
        status, body, took = get(p)
        assert status == 200, (p, status, body[:200])
        times.append(took * 1000)
    times.sort()
    q = lambda f: times[min(len(times) - 1, int(f * len(times)))]
    print(f"{name:<22} n={len(times):<4} p50 {q(0.5):8.1f} ms  p99 {q(0.99):8.1f} ms  max {times[-1]:8.1f} ms")
random.seed(7)
stats("/view?at=random", [f"/api/challenges/bench/view?at={random.randint(1, top)}" for _ in range(n)])
stats("/times", ["/api/challenges/bench/times"] * 20)
stats("/log?since=top-1000", [f"/api/challenges/bench/log?since={top - 1000}"] * 20)
rss = int([l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1])
print(f"RSS after the reads {rss / 1024:.1f} MiB")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
