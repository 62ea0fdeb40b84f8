#!/usr/bin/env bash
# Installs what the benchmark runs: the release builds of makerpulse, the load generator and the
# ceiling; the Node.js peers (ws, Socket.IO) from bench/node/package-lock.json; redis-server; and
# Sockudo from crates.io into bench/work/sockudo (its own target dir, so the workspace's stays
# clean). Sockudo needs protoc (Debian's protobuf-compiler) for a dependency's build script.
source "$(dirname "$0")/lib.sh"
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v protoc >/dev/null || need+=(protobuf-compiler)
command -v node >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "please install: ${need[*]}" >&2
    exit 1
  fi
fi
log "building makerpulse, the load generator and the ceiling (release)"
(cd "$ROOT" && cargo build --release -p makerpulse-server -p makerpulse-loadgen)
log "installing the Node.js peers"
(cd "$BENCH_DIR/node" && npm ci --no-audit --no-fund)
if [ ! -x "$SOCKUDO" ]; then
  log "building Sockudo from crates.io (takes a long while on 2 cores)"
  CARGO_TARGET_DIR=$WORK/sockudo-target cargo install sockudo --version 5.2.0 --locked \
    --no-default-features --features local --root "$WORK/sockudo" ||
    log "Sockudo did not build; the scenarios skip it (see bench/README.md)"
fi
