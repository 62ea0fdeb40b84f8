#!/usr/bin/env bash
# Scenario 7: the server's CPU per scorecard by challenge size, every console connected (issue 12,
# item 1). For each shape (teams/judges/tracks: 12/8/1, 60/12/1, 200/30/1, 200/30/4) makerpulse
# is seeded with that challenge, every team's and judge's console opens a socket with its token
# (--consoles), one audience socket watches, and judges score over HTTP at RATE a second for
# DURATION seconds. CPU per scorecard = the server's CPU seconds in the step (from /proc) ÷ the
# scorecards sent. Target: 200 teams within 1.5× of 12 teams; audience delta ≤ 1 KB at every size.
# CONSOLE_PARTS (default "all pages", interleaved in each repeat): "pages" has each console name
# the parts of its view its page shows, as the web consoles do (a team's the ticker, a judge's
# none: docs/protocol.md); "all" is the old hello, every console following its whole view.
source "$(dirname "$0")/lib.sh"
out=$RESULTS/s7-scorecard-cost
mkdir -p "$out"
for rep in $(seq 1 "$REPEATS"); do
  for shape in ${SHAPES:-12/8/1 60/12/1 200/30/1 200/30/4}; do
    IFS=/ read -r teams judges tracks <<<"$shape"
    for parts in ${CONSOLE_PARTS:-all pages}; do
      measure makerpulse "$(port_of makerpulse)" "$out/makerpulse-$teams-$judges-$tracks-$parts-$rep.json" \
        --viewers 1 --consoles --console-parts "$parts" --teams "$teams" --judges "$judges" \
        --tracks "$tracks" --rate "${RATE:-5}" --duration "${DURATION:-20}"
    done
  done
done
python3 - "$out" <<'PY'
import glob, json, os, statistics, sys
rows = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    r = json.load(open(path))
    step = r["steps"][0]
    name = os.path.basename(path)[:-5].split("-")
    shape = tuple(int(x) for x in name[1:4])
    parts = name[4] if len(name) == 6 else "all"
    per = 1000 * step["server_cpu_s"] / max(step["events"], 1)
    rows.setdefault((shape, parts), []).append((per, step["message_bytes"], r.get("load_average", [None])[0]))
print("| teams / judges / tracks | consoles follow | runs | server CPU per scorecard ms (median) | each run (load) | audience message B | ÷ 12 teams |")
print("|---|---|---|---|---|---|---|")
base = {}
for shape, parts in sorted(rows, key=lambda k: (k[0][0], k[0][2], k[1])):
    got = rows[(shape, parts)]
    per = statistics.median(p for p, _, _ in got)
    base.setdefault(parts, per)
    runs = ", ".join(f"{p:.2f} ({l})" for p, _, l in got)
    size = max(b for _, b, _ in got)
    print(f"| {shape[0]} / {shape[1]} / {shape[2]} | {parts} | {len(got)} | {per:.2f} | {runs} | {size:,.0f} | {per / base[parts]:.2f} |")
PY
