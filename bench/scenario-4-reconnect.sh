#!/usr/bin/env bash
# Scenario 4: reconnect storm (makerpulse only: the peers have no resume). 10k viewers follow a
# challenge scored 10 times a second; 5 s in, every one drops its connection and resumes with
# `since`. Each must get exactly the messages it missed: no gap, no snapshot, nothing lost.
source "$(dirname "$0")/lib.sh"
out=$RESULTS/s4-reconnect
mkdir -p "$out"
for rep in $(seq 1 "$REPEATS"); do
  measure makerpulse "$(port_of makerpulse)" "$out/makerpulse-$rep.json" \
    --viewers "${VIEWERS:-10000}" --rate 10 --duration "${DURATION:-20}" --reconnect-at 5
done
