#!/usr/bin/env bash
# Holds 1,000 and 10,000 /listen streams on one node and broadcasts to them (bench/sse_load.cpp).
# Usage: bench/streams.sh [BUILD_DIR]   (defaults to build/; run scripts/setup first)
# Loopback only; the node is started here, on free ports, and stopped by PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
state=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port); secure=$(free_port)
ulimit -n "$(ulimit -Hn)"
# Every stream comes from 127.0.0.1: lift the per-address limits, the connections' too where the
# node has that one (the event-loop front; an older node would refuse the flag).
limits=(--max-streams 20000)
help=$("$build/watercooler" --help 2>&1 || true)
[[ $help != *--max-connections-per-address* ]] || limits+=(--max-connections-per-address 0)
WATERCOOLER_STATE_DIR=$state ERL_EPMD_PORT=$(free_port) \
  "$build/watercooler" --port "$port" --secure-port "$secure" "${limits[@]}" \
  >"$state/node.log" 2>&1 &
node=$!
trap 'kill "$node" 2>/dev/null; wait "$node" 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "# $(date -u +%F) $(nproc) cores, $(uname -r); node pid $node"
for n in 1000 10000; do
  "$build/watercooler_sse_load" --port "$port" --pid "$node" --streams "$n" --messages 20 \
    --timeout 120 || echo "(run with $n streams reported failures)"
  sleep 2 # let the node see the closes before the next round
done
