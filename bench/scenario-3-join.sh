#!/usr/bin/env bash
# Scenario 3: join storm. 10k viewers connect at once (1,000 handshakes in flight at a time);
# each must get a correct snapshot (checked: a valid audience view at the welcome's seq, byte-
# identical to every other at that seq). Target: all in under 3 s.
source "$(dirname "$0")/lib.sh"
side_by_side s3-join --viewers "${VIEWERS:-10000}" --connect-concurrency "${CONCURRENCY:-1000}" --duration 1
