#!/usr/bin/env bash
# Scenario 2: saturation. The event rate climbs step by step until p99 passes 250 ms (or a
# message is lost); the figure is the most messages per second delivered by a step that kept
# p99 ≤ 250 ms with every message delivered. Target: ≥ 4× the Node ws server, ≥ 80 % of the ceiling.
source "$(dirname "$0")/lib.sh"
side_by_side s2-saturation --viewers "${VIEWERS:-5000}" --rate "${RATES:-1,2,4,8,16,32,64,128}" \
  --duration "${DURATION:-10}" --drain 5 --stop-p99-ms 250
