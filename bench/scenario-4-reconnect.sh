#!/usr/bin/env bash
# Scenario 4: reconnect storm (makerpulse only: the peers have no resume). 10k viewers follow a
# challenge scored 10 times a second; 5 s in, every one drops its connection and resumes with
# `since`. Each must get the messages it missed, or a snapshot where they would weigh more: no
# gap, nothing lost. 1,000 handshakes in flight, as in the join storm (the load generator's
# default of 256 was what held the storm to 10 s before). Targets (issue 12): all resumed ≤ 3 s,
# p99 of the step ≤ 1 s. 2,000 viewers per source address, not the load generator's 4,000: each
# viewer's new socket arrives while the server may still count its old one, and 2 × 4,000 would
# pass the server's 4,096 connections per address (HTTP 429, as a real client would get).
source "$(dirname "$0")/lib.sh"
out=$RESULTS/s4-reconnect
mkdir -p "$out"
for rep in $(seq 1 "$REPEATS"); do
  measure makerpulse "$(port_of makerpulse)" "$out/makerpulse-$rep.json" \
    --viewers "${VIEWERS:-10000}" --rate 10 --duration "${DURATION:-20}" --reconnect-at 5 \
    --connect-concurrency "${CONCURRENCY:-1000}" --per-address 2000
done
