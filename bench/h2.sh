#!/usr/bin/env bash
# HTTP/2 against HTTP/1.1 on one node's HTTPS port (issue 17), printed as Markdown tables:
#   publish: POST /publish with h2load (Debian nghttp2-client), a bounded count per run, the
#     publish rate limit lifted: requests/s, latency p50/p99/max (h2load's per-request log), node CPU
#   fanout: N subscribers (bench/pubsub_load.cpp) as HTTP/2 streams, S per connection, against N
#     HTTP/1.1 connections over TLS and N plain ones, publishing over plain HTTP: deliveries/s,
#     latency, loss, node CPU and RSS per subscriber
# Usage: bench/h2.sh [publish] [fanout] [--build DIR] [--before-build DIR] [--rounds N]
#          [--requests N] [--points "N:R ..."] [--streams-per-connection S]
#   default: both parts, 3 rounds, 20000 requests per publish run, points "1000:10 1000:100"
#   (subscribers:msg/s; 10 msg/s publishes 100 messages, faster rates 5 s worth), S = 100.
#   --before-build DIR: every run is also made against DIR/watercooler (e.g. an older commit's
#   node; the load tools stay this build's), alternating with this build's node.
# Loopback only. A fresh node (on free ports, its own state dir) per run, on core 0; the load on
# core 1; runs alternate within a round. Everything started here is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
rounds=3
requests=20000
points="1000:10 1000:100"
per_connection=100
before_build=""
parts=()
command_line="bench/h2.sh $*"
usage() {
  echo "usage: bench/h2.sh [publish] [fanout] [--build DIR] [--before-build DIR] [--rounds N] [--requests N] [--points \"N:R ...\"] [--streams-per-connection S]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    publish | fanout) parts+=("$1") ;;
    --build) build=$2; shift ;;
    --before-build) before_build=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --requests) requests=$2; shift ;;
    --points) points=$2; shift ;;
    --streams-per-connection) per_connection=$2; shift ;;
    *) usage ;;
  esac
  shift
done
[ ${#parts[@]} -gt 0 ] || parts=(publish fanout)
command -v h2load >/dev/null || [[ " ${parts[*]} " != *" publish "* ]] || {
  echo "h2load is missing: apt-get install nghttp2-client" >&2
  exit 1
}
for tool in "$build/watercooler" "$build/watercooler_pubsub_load" \
  ${before_build:+"$before_build/watercooler"}; do
  [ -x "$tool" ] || { echo "missing $tool: cmake --build $build --target $(basename "$tool")" >&2; exit 1; }
done

ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d)
# private copies, so a rebuild during the run cannot swap or truncate the binaries
cp "$build/watercooler" "$build/watercooler_pubsub_load" "$tmp/"
nodes=(this)
if [ -n "$before_build" ]; then
  mkdir "$tmp/before"
  cp "$before_build/watercooler" "$tmp/before/"
  nodes=(before this)
fi
results=$tmp/results.txt
node=""
stop_node() {
  [ -n "$node" ] || return 0
  kill "$node" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$node" 2>/dev/null || break; sleep 0.1; done # 5 s, then SIGKILL
  kill -9 "$node" 2>/dev/null || true
  wait "$node" 2>/dev/null || true
  node=""
}
trap 'stop_node; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Every client is 127.0.0.1: the per-address limits are lifted, HTTP/2 streams per connection
# raised above what the fan-out opens, publishing unlimited (the publish part measures the node,
# not the limit; the fan-out publishes at a fixed rate anyway).
node_flags=(--max-connections-per-address 0 --max-streams 20000 --publish-rate 0
  --h2-max-streams 1000)
start_node() { # WHICH (this or before): sets node, port, secure
  local home=$tmp/node.$RANDOM binary=$tmp/watercooler
  [ "$1" = this ] || binary=$tmp/before/watercooler
  mkdir -p "$home"
  port=$(free_port); secure=$(free_port)
  WATERCOOLER_STATE_DIR=$home ERL_EPMD_PORT=$(free_port) taskset -c 0 "$binary" \
    --port "$port" --secure-port "$secure" "${node_flags[@]}" >"$home/node.log" 2>&1 &
  node=$!
  for _ in $(seq 150); do # 15 s
    curl -sk -o /dev/null -m 1 "https://127.0.0.1:$secure/" && return 0
    sleep 0.1
  done
  echo "the node did not answer; see $home/node.log" >&2
  return 1
}
cpu_of() { # PID: utime + stime in seconds
  awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / tck }' "/proc/$1/stat"
}

# ---- publish: one h2load run per (protocol, connections, streams per connection)
publish_cases=("h1 8 1" "h2 8 1" "h2 1 8" "h1 64 1" "h2 1 64")
publish_run() { # NODE PROTOCOL CLIENTS STREAMS ROUND
  local which=$1 proto=$2 clients=$3 streams=$4 round=$5 log out before after flags=()
  start_node "$which"
  log=$tmp/h2load.$which.$proto.$clients.$streams.$round.log
  [ "$proto" = h2 ] || flags=(--h1)
  printf 'message=h2load+publishes+this' >"$tmp/body"
  before=$(cpu_of "$node")
  out=$tmp/h2load.out
  timeout 120 taskset -c 1 h2load "${flags[@]}" -n "$requests" -c "$clients" -m "$streams" \
    -d "$tmp/body" -H 'content-type: application/x-www-form-urlencoded' --log-file="$log" \
    "https://127.0.0.1:$secure/publish" >"$out" 2>&1 || true
  after=$(cpu_of "$node")
  stop_node
  python3 - "$proto" "$clients" "$streams" "$round" "$before" "$after" "$log" "$requests" "$out" \
    "$which" >>"$results" <<'EOF'
import re, sys
proto, clients, streams, rnd, before, after, log, n, out, which = sys.argv[1:11]
out = open(out).read()
rps = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", out)
req = re.search(r"requests: .*?(\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", out)
codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
lat = sorted(int(l.split("\t")[2]) for l in open(log) if l.count("\t") >= 2)
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] / 1000 if lat else float("nan")
if not (rps and req and codes):
    print(f"# publish {proto} -c {clients} -m {streams}: no result\n# " + out.replace("\n", "\n# "))
    sys.exit()
print(f"PUBLISH node={which} proto={proto} clients={clients} streams={streams} round={rnd} requests={n} "
      f"rps={rps.group(3)} ok3xx={codes.group(2)} other={int(codes.group(1)) + int(codes.group(3)) + int(codes.group(4))} "
      f"failed={int(req.group(2)) + int(req.group(3)) + int(req.group(4))} p50_ms={pct(0.5):.2f} "
      f"p99_ms={pct(0.99):.2f} max_ms={(lat[-1] / 1000 if lat else 0):.2f} "
      f"cpu_s={float(after) - float(before):.2f} cpu_ms_per_1k={(float(after) - float(before)) * 1e6 / int(n):.0f}")
EOF
  tail -1 "$results"
  sleep 1
}

# ---- fanout: one pubsub_load run per (wire, point)
fanout_run() { # NODE WIRE N RATE ROUND
  local which=$1 wire=$2 n=$3 rate=$4 round=$5 messages ports line
  if [ "$rate" -le 10 ]; then messages=$((rate * 10)); else messages=$((rate * 5)); fi
  start_node "$which"
  ports=$secure
  [ "$wire" != http1 ] || ports=$port
  line=$(timeout 150 taskset -c 1 "$tmp/watercooler_pubsub_load" --mode watercooler \
    --wire "$wire" --streams-per-connection "$per_connection" --ports "$ports" \
    --publish-port "$port" --pid "$node" --subscribers "$n" --messages "$messages" \
    --rate "$rate" --connect-timeout 60 --drain-timeout 20 --label "$which/$wire/r$round" \
    | grep '^RESULT' || true)
  stop_node
  if [ -z "$line" ]; then
    echo "# fanout $which $wire $n x $rate: no result" | tee -a "$results"
  else
    echo "$line round=$round node=$which" | tee -a "$results"
  fi
  sleep 1
}

echo "# $(date -u '+%F %T') UTC, $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $command_line"
for part in "${parts[@]}"; do
  for round in $(seq "$rounds"); do
    if [ "$part" = publish ]; then
      for c in "${publish_cases[@]}"; do
        for which in "${nodes[@]}"; do
          # shellcheck disable=SC2086
          publish_run "$which" $c "$round"
        done
      done
    else
      for point in $points; do
        for wire in http1 http1-tls h2; do
          for which in "${nodes[@]}"; do
            fanout_run "$which" "$wire" "${point%%:*}" "${point##*:}" "$round"
          done
        done
      done
    fi
  done
done
echo "# done $(date -u '+%F %T') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians over the rounds, as Markdown.
python3 - "$results" <<'EOF'
import re, statistics, sys
pub, fan = {}, {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    if line.startswith("PUBLISH "):
        pub.setdefault((kv["proto"], int(kv["clients"]), int(kv["streams"]), kv["node"]),
                       []).append(kv)
    elif line.startswith("RESULT "):
        fan.setdefault((int(kv["subscribers"]), int(float(kv["rate"])), kv["wire"], kv["node"]),
                       []).append(kv)
med = lambda rows, f: statistics.median(float(r[f]) for r in rows)
both = len({k[-1] for k in list(pub) + list(fan)}) > 1  # a --before-build run: say which node
node = lambda k: f" | {k[-1]}" if both else ""
node_head = " | node" if both else ""
if pub:
    print(f"| protocol | connections × streams{node_head} | requests | req/s | p50 ms | p99 ms "
          "| max ms | node CPU s | CPU ms / 1,000 req | non-3xx / failed | rounds: req/s |")
    print("|" + "---|" * (11 + both))
    for key in pub:
        r = pub[key]
        m = lambda f: med(r, f)
        name = "HTTP/2" if key[0] == "h2" else "HTTP/1.1"
        print(f"| {name} | {key[1]} × {key[2]}{node(key)} | {m('requests'):,.0f} | {m('rps'):,.0f} | {m('p50_ms'):.2f} "
              f"| {m('p99_ms'):.2f} | {m('max_ms'):.1f} | {m('cpu_s'):.2f} | {m('cpu_ms_per_1k'):.0f} "
              f"| {sum(int(x['other']) for x in r)} / {sum(int(x['failed']) for x in r)} "
              f"| {', '.join(format(float(x['rps']), ',.0f') for x in r)} |")
    print()
names = {"http1": "HTTP/1.1, plain", "http1-tls": "HTTP/1.1 over TLS", "h2": "HTTP/2 over TLS"}
if fan:
    print(f"| subscribers | msg/s | subscribers' wire{node_head} | connections | connected "
          "| connect s | deliveries/s | p50 ms | p99 ms | max ms | lost | dup | reordered "
          "| RSS B/sub | node CPU s | load CPU s | rounds: p99 ms |")
    print("|" + "---|" * (17 + both))
    for key in sorted(fan, key=lambda k: (k[0], k[1], list(names).index(k[2]), k[3])):
        r = fan[key]
        m = lambda f: med(r, f)
        print(f"| {key[0]:,} | {key[1]} | {names[key[2]]}{node(key)} | {m('connections'):,.0f} | {m('connected'):,.0f} "
              f"| {m('connect_s'):.2f} | {m('deliveries_per_s'):,.0f} | {m('p50_ms'):.1f} | {m('p99_ms'):.1f} "
              f"| {m('max_ms'):.1f} | {m('lost'):.0f} | {m('duplicated'):.0f} | {m('out_of_order'):.0f} "
              f"| {m('rss_per_sub_b'):,.0f} | {m('cpu_s'):.2f} | {m('load_cpu_s'):.2f} "
              f"| {', '.join(x['p99_ms'] for x in r)} |")
EOF
echo
echo "<details><summary>Raw lines</summary>"
echo
echo '```'
grep -h '^\(PUBLISH\|RESULT\|# \)' "$results" || true
echo '```'
echo
echo "</details>"
