#!/usr/bin/env bash
# Scenario 7: small deltas. 10k viewers, a team's progress post every 100 ms (every event a post,
# ~400-byte audience deltas) for 60 s, beside the ceiling broadcasting messages of the same size
# in the same run. Targets (issue 12): delivery p99 ≤ 1.25× the ceiling's, and the posts' own
# answers (the HTTP command's round trip, recorded by the load generator) p99 ≤ 50 ms.
source "$(dirname "$0")/lib.sh"
TARGETS=${TARGETS:-makerpulse ceiling} side_by_side s7-posts --viewers "${VIEWERS:-10000}" \
  --rate "${RATE:-10}" --duration "${DURATION:-60}" --post-every 1
