#!/usr/bin/env bash
# Compares watercooler (one node, two-node cluster) with nginx + nchan on this machine using
# bench/pubsub_load.cpp, and writes BENCHMARKS.md.
# Usage: bench/compare.sh [--quick] [--rounds N] [--points "N:R ..."] [--build DIR] [--out FILE]
#   full: {1000, 5000, 10000} subscribers x {10, 200} msg/s; --quick: {1000, 10000} x 10 msg/s.
# Loopback only. Servers run on core 0, the load generator on core 1. Everything started here is
# stopped by PID on exit. Installs nginx-light and libnginx-mod-nchan with apt only if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
quick=0
rounds=1
out=BENCHMARKS.md
points=""
command_line="bench/compare.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --rounds) rounds=$2; shift ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    --points) points=$2; shift ;; # e.g. "1000:10 5000:200" (subscribers:msg/s)
    *) echo "usage: bench/compare.sh [--quick] [--rounds N] [--build DIR] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done

nchan_so=/usr/lib/nginx/modules/ngx_nchan_module.so
if ! command -v nginx >/dev/null || [ ! -f "$nchan_so" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y nginx-light libnginx-mod-nchan
  nchan_so=$(dpkg -L libnginx-mod-nchan | grep 'ngx_nchan_module\.so$' | head -1)
fi
for tool in "$build/watercooler" "$build/watercooler_pubsub_load"; do
  [ -x "$tool" ] || { echo "missing $tool: cmake --build $build --target $(basename "$tool")" >&2; exit 1; }
done

ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d)
# private copies, so a rebuild during the run cannot swap or truncate the binaries
cp "$build/watercooler" "$build/watercooler_pubsub_load" "$tmp/"
build=$tmp
results=$tmp/results.txt
: >"$results"
started=()
stop_started() {
  local pid
  for pid in "${started[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${started[@]}"; do
    # bounded: SIGKILL whatever has not left within 5 s
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  started=()
}
trap 'stop_started; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # URL: up to 15 s
  for _ in $(seq 150); do
    curl -s -o /dev/null -m 1 "$1" && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}
load() { taskset -c 1 "$build/watercooler_pubsub_load" "$@"; }

# Every load client runs on 127.0.0.1, so the per-address limits must hold all of them: up to
# 10,000 streams (20,000 leaves room for reconnects) and 8 publisher threads at up to 2,000 msg/s.
wc_limits=(--max-streams 20000 --publish-rate 4000 --publish-burst 4000)

# Each subject is started fresh for each run: sets ports, pub_port, pids.
start_wc() { # NODES: 1 or 2
  local nodes=$1 home=$tmp/home.$RANDOM epmd i name cfg
  mkdir -p "$home"
  epmd=$(free_port)
  ports=""
  pids=""
  cfg=$home/sys.config
  printf "[{kernel, [{sync_nodes_optional, ['node1@127.0.0.1', 'node2@127.0.0.1']},\n" >"$cfg"
  printf "  {sync_nodes_timeout, 5000}]}].\n" >>"$cfg"
  for i in $(seq "$nodes"); do
    local port secure
    port=$(free_port); secure=$(free_port)
    if [ "$nodes" -eq 1 ]; then
      set -- ; name=""
    else
      set -- --name "node$i@127.0.0.1" --config "$cfg" --cookie bench
    fi
    set -- "$@" "${wc_limits[@]}"
    HOME=$home WATERCOOLER_STATE_DIR=$home/state ERL_EPMD_PORT=$epmd PORT=$port SECURE_PORT=$secure \
      taskset -c 0 "$build/watercooler" "$@" >"$home/node$i.log" 2>&1 &
    started+=($!)
    pids=${pids:+$pids,}$!
    ports=${ports:+$ports,}$port
  done
  pub_port=${ports%%,*}
  for port in ${ports//,/ }; do wait_http "http://127.0.0.1:$port/"; done
  if [ "$nodes" -eq 2 ]; then # wait until a publish on node1 reaches node2 (up to ~20 s)
    for _ in $(seq 20); do
      load --mode watercooler --ports "${ports#*,}" --publish-port "$pub_port" --subscribers 1 \
        --messages 1 --rate 10 --connect-timeout 2 --drain-timeout 1 --label probe >/dev/null 2>&1 \
        && return 0
      sleep 0.5
    done
    echo "cluster did not form; see $home/node*.log" >&2
    return 1
  fi
}

start_nchan() {
  local dir=$tmp/nginx.$RANDOM port
  mkdir -p "$dir"
  port=$(free_port)
  cat >"$dir/nginx.conf" <<EOF
load_module $nchan_so;
worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$port;
    location ~ ^/pub/(\w+)$ { nchan_publisher; nchan_channel_id \$1; }
    location ~ ^/sub/(\w+)$ {
      nchan_subscriber;
      nchan_channel_id \$1;
      nchan_subscriber_first_message newest;
    }
  }
}
EOF
  taskset -c 0 nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/out.log" 2>&1 &
  started+=($!)
  local master=$!
  wait_http "http://127.0.0.1:$port/pub/probe"
  local worker
  worker=$(pgrep -P "$master" | head -1)
  pids=$master${worker:+,$worker}
  ports=$port
  pub_port=$port
}

if [ -n "$points" ]; then
  :
elif [ "$quick" -eq 1 ]; then
  points="1000:10 10000:10"
else
  points="1000:10 1000:200 5000:10 5000:200 10000:10 10000:200"
fi
# 10 msg/s for 10 s (100 messages); 200 msg/s for 5 s (1,000 messages).
echo "# $(date -u '+%F %T') UTC, $(nproc) cores, $(uname -r); points: $points; rounds: $rounds"
for point in $points; do
  n=${point%%:*}
  rate=${point##*:}
  if [ "$rate" -le 10 ]; then messages=$((rate * 10)); else messages=$((rate * 5)); fi
  for round in $(seq "$rounds"); do
    for subject in wc1 wc2 nchan; do
      case $subject in
        wc1) start_wc 1; mode=watercooler; channel="" ;;
        wc2) start_wc 2; mode=watercooler; channel="" ;;
        nchan) start_nchan; mode=nchan; channel="--channel r$round$n$rate" ;;
      esac
      # shellcheck disable=SC2086
      timeout 150 taskset -c 1 "$build/watercooler_pubsub_load" --mode "$mode" --ports "$ports" \
        --publish-port "$pub_port" --pid "$pids" --subscribers "$n" --messages "$messages" \
        --rate "$rate" --connect-timeout 60 --drain-timeout 20 \
        --label "$subject/r$round" $channel | tee -a "$results" | grep -v '^RESULT' \
        || echo "($subject, $n subscribers, $rate msg/s: reported failures)"
      stop_started
      sleep 1
    done
  done
done

python3 - "$results" "$out" "$command_line" "$quick" <<'EOF'
import re, statistics, subprocess, sys, datetime
results, out, command, quick = sys.argv[1:5]
rows = {}
for line in open(results):
    if not line.startswith("RESULT "):
        continue
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    key = (int(kv["subscribers"]), int(float(kv["rate"])), kv["label"].split("/")[0])
    rows.setdefault(key, []).append(kv)
def med(key, field):
    return statistics.median(float(r[field]) for r in rows[key])
names = {"wc1": "watercooler, 1 node", "wc2": "watercooler, 2 nodes", "nchan": "nginx + nchan"}
head = ("| subscribers | msg/s | subject | connected | connect s | published | deliveries/s | p50 ms "
        "| p99 ms | max ms | lost | dup | reordered | RSS B/sub | server CPU s |\n|" + "---|" * 15)
table = [head]
ratios = ["| subscribers | msg/s | p99 latency 1 node / nchan | CPU 1 node / nchan "
          "| RSS per sub 1 node / nchan | p99 2 nodes / nchan | CPU 2 nodes / nchan |",
          "|" + "---|" * 7]
def ratio(a, b):
    return f"{a / b:.2f}x" if b > 0 else "n/a"
for n, rate in sorted({(k[0], k[1]) for k in rows}):
    for s in ("wc1", "wc2", "nchan"):
        k = (n, rate, s)
        if k not in rows:
            continue
        f = lambda x: med(k, x)
        table.append(f"| {n:,} | {rate} | {names[s]} | {f('connected'):.0f} | {f('connect_s'):.2f} "
                     f"| {f('published'):.0f} / {f('messages'):.0f} | {f('deliveries_per_s'):,.0f} | {f('p50_ms'):.1f} | {f('p99_ms'):.1f} "
                     f"| {f('max_ms'):.1f} | {f('lost'):.0f} | {f('duplicated'):.0f} "
                     f"| {f('out_of_order'):.0f} | {f('rss_per_sub_b'):,.0f} | {f('cpu_s'):.2f} |")
    a, b, c = (n, rate, "wc1"), (n, rate, "wc2"), (n, rate, "nchan")
    if a in rows and c in rows:
        r2 = [ratio(med(b, "p99_ms"), med(c, "p99_ms")), ratio(med(b, "cpu_s"), med(c, "cpu_s"))] \
            if b in rows else ["n/a", "n/a"]
        ratios.append(f"| {n:,} | {rate} | {ratio(med(a, 'p99_ms'), med(c, 'p99_ms'))} "
                      f"| {ratio(med(a, 'cpu_s'), med(c, 'cpu_s'))} "
                      f"| {ratio(med(a, 'rss_per_sub_b'), med(c, 'rss_per_sub_b'))} | "
                      + " | ".join(r2) + " |")
cpu = subprocess.run("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2", shell=True,
                     capture_output=True, text=True).stdout.strip()
nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
kernel = subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout.strip()
nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
nchan = subprocess.run("dpkg-query -W -f '${Version}' libnginx-mod-nchan", shell=True,
                       capture_output=True, text=True).stdout.strip()
print("\n".join(table))
print()
print("\n".join(ratios))
with open(out, "w") as f:
    f.write(f"""# Benchmarks: watercooler vs nginx + nchan

Generated by `bench/compare.sh` (edit the script, not this file's tables; the analysis at the end
is written by hand after a run).

```sh
{command}
```

- machine: {nproc} cores ({cpu}), Linux {kernel}; loopback only; shared machine, so other load
  may have run on both cores
- date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC
- subjects: one watercooler node; a two-node watercooler cluster (subscribers split evenly,
  every publish to node 1); {nginx}, libnginx-mod-nchan {nchan}, one worker, one channel per run
- each server process runs on core 0 (`taskset -c 0`), the load generator
  (`build/watercooler_pubsub_load`, bench/pubsub_load.cpp) on core 1; every subject is started
  fresh for every run; subjects alternate within each point
- a run: N SSE subscribers connect (watercooler `GET /listen`, nchan `GET /sub/<id>` with
  `Accept: text/event-stream`), then M messages are published open-loop at R msg/s by 8
  keep-alive publisher threads (watercooler `POST /publish` form `message=`, nchan `POST
  /pub/<id>` raw body). 10 msg/s runs publish 100 messages (10 s), 200 msg/s runs 1,000 (5 s);
  the run ends when every subscriber has every message, or 20 s after the last publish
- latency: from the message's *scheduled* send time (in the payload) to its parse by the
  subscriber, so a publisher that falls behind shows as latency (no coordinated omission)
- RSS per subscriber: server RSS after all subscribed minus before, / N (nginx: master + worker;
  cluster: both nodes); server CPU: utime + stime of the server process(es) from the first
  publish to the end of the run
- values are medians over the rounds run per point (`--rounds`, default 1)

## Results

{chr(10).join(table)}

Ratios (above 1 means watercooler needs more / is slower):

{chr(10).join(ratios)}

A point/subject missing from the table did not finish within its 150 s bound.

<details><summary>Raw result lines (bench/pubsub_load output)</summary>

```
{"".join(l for l in open(results) if l.startswith("RESULT "))}```

</details>
""")
EOF
echo "wrote $out"
