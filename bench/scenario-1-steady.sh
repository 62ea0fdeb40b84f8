#!/usr/bin/env bash
# Scenario 1: 10k viewers, one scoring event every 100 ms for 60 s — makerpulse, the ceiling and
# every peer, side by side. Target: every event delivered, no gap, makerpulse's p99 at most
# 1.25× the ceiling's in the same run.
source "$(dirname "$0")/lib.sh"
side_by_side s1-steady --viewers "${VIEWERS:-10000}" --rate "${RATE:-10}" --duration "${DURATION:-60}"
