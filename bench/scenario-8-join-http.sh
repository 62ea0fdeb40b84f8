#!/usr/bin/env bash
# Scenario 8: a join storm at 200 teams (3 tracks, 30 judges; the audience snapshot is ~90 KB),
# 10k viewers at once, 1,000 in flight: each viewer as the socket's own snapshot (`socket`) and
# as a page using the HTTP snapshot would (`http`: GET …/snapshot, then the socket from its seq),
# interleaved. Target (issue 12): the HTTP join of 10k in under 3 s.
source "$(dirname "$0")/lib.sh"
out=$RESULTS/s8-join-200-teams
mkdir -p "$out"
for rep in $(seq 1 "$REPEATS"); do
  for join in socket http; do
    measure makerpulse "$(port_of makerpulse)" "$out/$join-$rep.json" --join "$join" \
      --teams 200 --judges 30 --viewers "${VIEWERS:-10000}" \
      --connect-concurrency "${CONCURRENCY:-1000}" --duration 1
  done
done
