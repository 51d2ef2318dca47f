#!/usr/bin/env bash
# Compares watercooler (one node, two-node cluster) with nginx + nchan on this machine using
# bench/pubsub_load.cpp, and writes BENCHMARKS.md.
# Usage: bench/compare.sh [--quick] [--rounds N] [--points "N:R ..."] [--build DIR] [--out FILE]
#   full: {1000, 5000, 10000} subscribers x {10 msg/s, the highest rate that keeps p99 <= 100 ms
#   ("N:max", searched per subject)}; --quick: {1000, 10000} x 10 msg/s.
# Loopback only. Servers run on core 0, the load generator on core 1. Everything started here is
# stopped by PID on exit. Installs nginx-light and libnginx-mod-nchan with apt only if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
quick=0
rounds=1
out=BENCHMARKS.md
points=""
from=""
command_line="bench/compare.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --rounds) rounds=$2; shift ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    --points) points=$2; shift ;; # e.g. "1000:10 5000:max" (subscribers:msg/s, or max)
    --from) from=$2; shift ;; # only write the report, from the RESULT/MAX lines of a run
    *) echo "usage: bench/compare.sh [--quick] [--rounds N] [--points \"N:R ...\"] [--build DIR] [--out FILE] [--from RAW]" >&2; exit 2 ;;
  esac
  shift
done

# The tables of BENCHMARKS.md from the RESULT and MAX lines in $results.
write_report() {
python3 - "$results" "$out" "$command_line" "$quick" <<'EOF'
import re, statistics, subprocess, sys, datetime
results, out, command, quick = sys.argv[1:5]
rows = {}
steps = {}  # (subscribers, subject, round, rate) -> a search step's result
maxima = {}  # (subscribers, subject) -> [(round, highest rate with p99 <= 100 ms)]
run_date = f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M}"
for line in open(results):
    if line.startswith("RUN "):
        run_date, command = line[4:].rstrip("\n").split("|", 1)
        continue
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    if line.startswith("MAX "):
        maxima.setdefault((int(kv["subscribers"]), kv["subject"]), []).append(
            (kv["round"], int(kv["rate"])))
        continue
    if not line.startswith("RESULT "):
        continue
    label = kv["label"].split("/")
    if label[-1] == "step":
        steps[(int(kv["subscribers"]), label[0], label[1][1:], int(float(kv["rate"])))] = kv
        continue
    key = (int(kv["subscribers"]), int(float(kv["rate"])), label[0])
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
highest = ["| subscribers | subject | msg/s | vs nchan | deliveries/s | p50 ms | p99 ms "
           "| server CPU s | per round |", "|" + "---|" * 9]
best_rate = {}
for n, s in sorted(maxima, key=lambda k: (k[0], list(names).index(k[1]))):
    found = maxima[(n, s)]
    rate = statistics.median_low(r for _, r in found)
    best_rate[(n, s)] = rate
for n, s in sorted(maxima, key=lambda k: (k[0], list(names).index(k[1]))):
    found, rate = maxima[(n, s)], best_rate[(n, s)]
    nchan_rate = best_rate.get((n, "nchan"), 0)
    versus = f"{rate / nchan_rate:.1f}x" if nchan_rate > 0 else ("n/a" if rate == 0 else "above")
    # None held 100 ms: the 1 msg/s step shows how long one message took to reach everyone.
    shown_at = rate if rate > 0 else 1
    at = [steps[(n, s, rnd, shown_at)] for rnd, r in found
          if r == rate and (n, s, rnd, shown_at) in steps]
    f = lambda x: statistics.median(float(k[x]) for k in at) if at else float("nan")
    shown = f"{rate:,}" if rate > 0 else "none (1 msg/s shown)"
    highest.append(f"| {n:,} | {names[s]} | {shown} | {versus} | {f('deliveries_per_s'):,.0f} | "
                   f"{f('p50_ms'):.1f} | {f('p99_ms'):.1f} | {f('cpu_s'):.2f} | "
                   + ", ".join(str(r) for _, r in found) + " |")
print("\n".join(table))
print()
print("\n".join(highest))
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
- date: {run_date} UTC
- subjects: one watercooler node; a two-node watercooler cluster (subscribers split evenly,
  every publish to node 1); {nginx}, libnginx-mod-nchan {nchan}, one worker, one channel per run
- each server process runs on core 0 (`taskset -c 0`), the load generator
  (`build/watercooler_pubsub_load`, bench/pubsub_load.cpp) on core 1; every subject is started
  fresh for every run; subjects alternate within each point
- a run: N SSE subscribers connect (watercooler `GET /listen`, nchan `GET /sub/<id>` with
  `Accept: text/event-stream`), then M messages are published open-loop at R msg/s by 8
  keep-alive publisher threads (watercooler `POST /publish` form `message=`, nchan `POST
  /pub/<id>` raw body). 10 msg/s runs publish 100 messages (10 s), other fixed rates 5 s worth;
  the run ends when every subscriber has every message, or 20 s after the last publish
- latency: from the message's *scheduled* send time (in the payload) to its parse by the
  subscriber, so a publisher that falls behind shows as latency (no coordinated omission)
- RSS per subscriber: server RSS after all subscribed minus before, / N (nginx: master + worker;
  cluster: both nodes); server CPU: utime + stime of the server process(es) from the first
  publish to the end of the run
- values are medians over the rounds run per point (`--rounds`, default 1)

## Results

{chr(10).join(table)}

Highest rate at which each subject kept p99 latency at or under 100 ms with nothing lost (the
`N:max` points: a ladder of 1, 2, 5, 10, 20, 50, 100, 200, 500, 1,000, 2,000 msg/s, climbed from
10 while it holds and descended from 10 while it does not; each step publishes for 3 s to a
freshly started subject; median over rounds, the other columns are that rate's step):

{chr(10).join(highest)}

Ratios (above 1 means watercooler needs more / is slower):

{chr(10).join(ratios)}

A point/subject missing from the table did not finish within its 150 s bound.

<details><summary>Raw result lines (bench/pubsub_load output)</summary>

```
{"".join(l for l in open(results) if l.startswith(("RUN ", "RESULT ", "MAX ")))}```

</details>
""")
EOF
echo "wrote $out"
}
if [ -n "$from" ]; then
  results=$from
  write_report
  exit 0
fi

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
  local nodes=$1 home=$tmp/home.$RANDOM epmd i cfg
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
      set --
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
  points="1000:10 1000:max 5000:10 5000:max 10000:10 10000:max"
fi

# One run of SUBJECT (wc1, wc2, nchan) with N subscribers, M messages at R msg/s; its RESULT
# line goes to $results with LABEL. Fails when the run did not keep p99 <= 100 ms with every
# message published and delivered (what the search below asks of a rate).
run_one() { # SUBJECT N R M LABEL DRAIN_S
  local subject=$1 n=$2 rate=$3 messages=$4 label=$5 drain=$6 mode channel line
  case $subject in
    wc1) start_wc 1; mode=watercooler; channel="" ;;
    wc2) start_wc 2; mode=watercooler; channel="" ;;
    nchan) start_nchan; mode=nchan; channel="--channel c$RANDOM$n$rate" ;;
  esac
  # shellcheck disable=SC2086
  line=$(timeout 150 taskset -c 1 "$build/watercooler_pubsub_load" --mode "$mode" --ports "$ports" \
    --publish-port "$pub_port" --pid "$pids" --subscribers "$n" --messages "$messages" \
    --rate "$rate" --connect-timeout 60 --drain-timeout "$drain" --label "$label" $channel \
    | grep '^RESULT' || true)
  stop_started
  sleep 1
  if [ -z "$line" ]; then
    echo "($subject, $n subscribers, $rate msg/s: no result)"
    return 1
  fi
  echo "$line" >>"$results"
  echo "$line" | python3 -c '
import re, sys
kv = dict(re.findall(r"(\w+)=(\S+)", sys.stdin.read()))
print("  {label}: {subscribers} x {rate} msg/s: connect {connect_s} s, {deliveries_per_s} "
      "deliveries/s, p99 {p99_ms} ms, lost {lost}, published {published}/{messages}".format(**kv))
ok = float(kv["p99_ms"]) <= 100 and kv["lost"] == "0" and kv["published"] == kv["messages"]
sys.exit(0 if ok else 1)'
}

# The highest rate of the ladder at which SUBJECT keeps p99 <= 100 ms for N subscribers: up
# from 10 msg/s while it holds, down from 10 while it does not. Each step publishes for 3 s.
ladder=(1 2 5 10 20 50 100 200 500 1000 2000)
search() { # SUBJECT N ROUND
  local subject=$1 n=$2 round=$3 i=3 best=0 rate
  while [ "$i" -ge 0 ] && [ "$i" -lt "${#ladder[@]}" ]; do
    rate=${ladder[$i]}
    if run_one "$subject" "$n" "$rate" $((rate * 3 > 10 ? rate * 3 : 10)) \
      "$subject/r$round/step" 10; then
      best=$rate
      [ "$i" -lt 3 ] && break # coming down: the first rate that holds
      i=$((i + 1))
    else
      [ "$i" -gt 3 ] || [ "$best" -gt 0 ] && break # going up: the last one held
      i=$((i - 1))
    fi
  done
  echo "MAX subject=$subject subscribers=$n round=$round rate=$best" | tee -a "$results"
}

# 10 msg/s runs publish 100 messages (10 s); other fixed rates 5 s worth.
echo "# $(date -u '+%F %T') UTC, $(nproc) cores, $(uname -r); points: $points; rounds: $rounds"
echo "RUN $(date -u '+%Y-%m-%d %H:%M')|$command_line" >>"$results" # for the report, also --from
for point in $points; do
  n=${point%%:*}
  rate=${point##*:}
  for round in $(seq "$rounds"); do
    for subject in wc1 wc2 nchan; do
      if [ "$rate" = max ]; then
        search "$subject" "$n" "$round"
      else
        if [ "$rate" -le 10 ]; then messages=$((rate * 10)); else messages=$((rate * 5)); fi
        run_one "$subject" "$n" "$rate" "$messages" "$subject/r$round" 20 || true
      fi
    done
  done
done

write_report

