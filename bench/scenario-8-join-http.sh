#!/usr/bin/env bash
# Scenario 8: a join storm at 200 teams (3 tracks, 30 judges; the audience snapshot is ~90 KB),
# 10k viewers at once, 1,000 in flight, interleaved: each viewer as the socket's own snapshot
# (`socket`); as a page using the HTTP snapshot (`http`: GET …/snapshot asking for `gzip, br`
# on keep-alive connections, decoded and checked, then the socket on a connection of its own
# from its seq); and the same with the upgrade as the next request on the GET's connection
# (`http-one`). Target (issue 12): the HTTP join of 10k in under 3 s. JOINS picks the ways.
source "$(dirname "$0")/lib.sh"
out=$RESULTS/s8-join-200-teams
mkdir -p "$out"
# The viewers of a run leave 10k sockets in TIME_WAIT on the source addresses the next run binds
# to, and binding to an address with thousands of its ports taken costs the load generator
# seconds of CPU: each run starts once they are gone (at most 70 s; TIME_WAIT lasts 60 s).
settle() {
  for _ in $(seq 1 70); do
    [ "$(ss -Htan state time-wait | wc -l)" -lt 200 ] && return 0
    sleep 1
  done
}
for rep in $(seq 1 "$REPEATS"); do
  for join in ${JOINS:-socket http http-one}; do
    settle
    measure makerpulse "$(port_of makerpulse)" "$out/$join-$rep.json" --join "$join" \
      --teams 200 --judges 30 --viewers "${VIEWERS:-10000}" \
      --connect-concurrency "${CONCURRENCY:-1000}" --duration 1
  done
done
