#!/usr/bin/env bash
# Starts Sockudo (the Rust Pusher-protocol server) as the benchmark's Pusher peer, configured by
# environment only: one app (app-id / app-key / app-secret), on 127.0.0.1:$PORT, with its
# per-app connection cap and rate limits lifted to the benchmark's scale and metrics off.
# Usage: PORT=18084 bench/sockudo.sh WORKDIR   (bench/install.sh builds it first)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-$here/work/sockudo-run}
mkdir -p "$work"
cd "$work"
export HOST=127.0.0.1
export PORT=${PORT:-18084}
export SOCKUDO_DEFAULT_APP_ID=app-id
export SOCKUDO_DEFAULT_APP_KEY=app-key
export SOCKUDO_DEFAULT_APP_SECRET=app-secret
export SOCKUDO_DEFAULT_APP_MAX_CONNECTIONS=200000
export SOCKUDO_DEFAULT_APP_MAX_BACKEND_EVENTS_PER_SECOND=100000
export SOCKUDO_DEFAULT_APP_MAX_EVENT_PAYLOAD_IN_KB=1024
export RATE_LIMITER_ENABLED=false
export METRICS_ENABLED=false
export DEBUG=false
export RUST_LOG=${RUST_LOG:-warn}
exec "${SOCKUDO:-$here/work/sockudo/bin/sockudo}"
