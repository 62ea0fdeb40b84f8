#!/usr/bin/env bash
# Scenario 6: idle memory at 10k and at 19.9k connections (the open-files hard limit here is
# 20,000 per process). Target: ≤ 10 KiB of server RSS per connection.
source "$(dirname "$0")/lib.sh"
for n in ${COUNTS:-10000 19900}; do
  side_by_side "s6-memory-$n" --viewers "$n" --duration 3
done
