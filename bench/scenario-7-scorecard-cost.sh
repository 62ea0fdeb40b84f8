#!/usr/bin/env bash
# Scenario 7: the server's CPU per scorecard by challenge size, every console connected (issue 12,
# item 1). For each shape (teams/judges/tracks: 12/8/1, 60/12/1, 200/30/1, 200/30/4) makerpulse
# is seeded with that challenge, every team's and judge's console opens a socket with its token
# (--consoles), one audience socket watches, and judges score over HTTP at RATE a second for
# DURATION seconds. CPU per scorecard = the server's CPU seconds in the step (from /proc) ÷ the
# scorecards sent. Target: 200 teams within 1.5× of 12 teams; audience delta ≤ 1 KB at every size.
source "$(dirname "$0")/lib.sh"
out=$RESULTS/s7-scorecard-cost
mkdir -p "$out"
for rep in $(seq 1 "$REPEATS"); do
  for shape in ${SHAPES:-12/8/1 60/12/1 200/30/1 200/30/4}; do
    IFS=/ read -r teams judges tracks <<<"$shape"
    measure makerpulse "$(port_of makerpulse)" "$out/makerpulse-$teams-$judges-$tracks-$rep.json" \
      --viewers 1 --consoles --teams "$teams" --judges "$judges" --tracks "$tracks" \
      --rate "${RATE:-5}" --duration "${DURATION:-20}"
  done
done
python3 - "$out" <<'PY'
import glob, json, os, statistics, sys
rows = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    r = json.load(open(path))
    step = r["steps"][0]
    shape = tuple(int(x) for x in os.path.basename(path).split("-")[1:4])
    per = 1000 * step["server_cpu_s"] / max(step["events"], 1)
    rows.setdefault(shape, []).append((per, step["message_bytes"], r.get("load_average", [None])[0]))
print("| teams / judges / tracks | runs | server CPU per scorecard ms (median) | each run | audience message B | ÷ 12 teams |")
print("|---|---|---|---|---|---|")
base = None
for shape in sorted(rows, key=lambda s: (s[0], s[2])):
    per = statistics.median(p for p, _, _ in rows[shape])
    base = base or per
    runs = ", ".join(f"{p:.2f}" for p, _, _ in rows[shape])
    size = max(b for _, b, _ in rows[shape])
    print(f"| {shape[0]} / {shape[1]} / {shape[2]} | {len(rows[shape])} | {per:.2f} | {runs} | {size:,.0f} | {per / base:.2f} |")
PY
