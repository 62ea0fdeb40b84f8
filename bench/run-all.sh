#!/usr/bin/env bash
# Runs every scenario in turn (see bench/README.md), then prints the tables. Takes about an hour
# on the 2-core machine with REPEATS=3. Results land in bench/results/<scenario>/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/scenario-1-steady.sh"
DURATION=${SATURATION_STEP:-8} "$here/scenario-2-saturation.sh"
"$here/scenario-3-join.sh"
"$here/scenario-6-memory.sh"
"$here/scenario-4-reconnect.sh"
"$here/scenario-5-redis.sh"
python3 "$here/summarize.py"
