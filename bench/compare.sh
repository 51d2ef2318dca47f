#!/usr/bin/env bash
# Compares watercooler (one node, two-node cluster) with nginx + nchan on this machine using
# bench/pubsub_load.cpp, and writes BENCHMARKS.md.
# Usage: bench/compare.sh [--quick] [--slowloris] [--rounds N] [--points "N:R ..."] [--build DIR]
#          [--before-build DIR] [--out FILE] [--from RAW]
#   full: {1000, 5000, 10000} subscribers x {10 msg/s, the highest rate that keeps p99 <= 100 ms
#   ("N:max", searched per subject)}, and the slowloris point; --quick: {1000, 10000} x 10 msg/s.
#   --slowloris adds the point "slowloris" (also accepted in --points): publishing to one node and
#   to nchan with and without 1,000 slowhttptest slow-header connections open. --before-build DIR:
#   the slowloris point also measures DIR/watercooler (e.g. the commit before a change).
# Loopback only. Servers run on core 0, the load generator on core 1. Everything started here is
# stopped by PID on exit. Installs nginx-light and libnginx-mod-nchan (and slowhttptest for the
# slowloris point) with apt only if missing. A hand-written "## Analysis" section already at the
# end of the output file is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
quick=0
rounds=1
out=BENCHMARKS.md
points=""
from=""
slowloris=0
before_build=""
command_line="bench/compare.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --slowloris) slowloris=1 ;;
    --before-build) before_build=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    --points) points=$2; shift ;; # e.g. "1000:10 5000:max" (subscribers:msg/s, or max)
    --from) from=$2; shift ;; # only write the report, from the RESULT/MAX lines of a run
    *) echo "usage: bench/compare.sh [--quick] [--slowloris] [--rounds N] [--points \"N:R ...\"] [--build DIR] [--before-build DIR] [--out FILE] [--from RAW]" >&2; exit 2 ;;
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
slow = []  # the slowloris point's RESULT lines
run_date = f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M}"
run = (run_date, command)  # the RUN line a result follows (a raw file may join several runs)
main_run = slow_run = None
for line in open(results):
    if line.startswith("RUN "):
        run = tuple(line[4:].rstrip("\n").split("|", 1))
        continue
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    if kv.get("point") == "slowloris":
        slow.append(kv)
        slow_run = slow_run or run
        continue
    if line.startswith(("MAX ", "RESULT ")):
        main_run = main_run or run
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
# The slowloris point: medians over rounds of each (attack, loop, subject).
slow_names = {"wc1before": "watercooler, 1 node, before", "wc1": "watercooler, 1 node",
              "nchan": "nginx + nchan"}
def slow_med(group, field):
    return statistics.median(float(k[field]) for k in group)
slow_groups = {}
for kv in slow:
    slow_groups.setdefault((int(kv["attack"]), kv["loop"], kv["subject"]), []).append(kv)
def slow_order(key):
    return (key[0], ["open", "closed"].index(key[1]), list(slow_names).index(key[2]))
slow_table = ["| slowloris connections | publishing | subject | held at start / end "
              "| subscribers | published | failed | publishes/s | publish p50 ms | publish p99 ms "
              "| publish max ms | delivery p99 ms | lost |", "|" + "---|" * 13]
for key in sorted(slow_groups, key=slow_order):
    g = slow_groups[key]
    m = lambda x: slow_med(g, x)
    attack, loop, s = key
    who = slow_names[s]
    if s != "nchan":
        who += f" `{g[0]['source']}`"
        if g[0].get("per_address_limit") == "0":
            who += ", `--max-connections-per-address 0`"
    how = (f"open-loop {m('rate'):.0f} msg/s" if loop == "open"
           else f"closed-loop {m('closed_loop_s'):.0f} s")
    # n/a: nothing was published (latency) or delivered (delivery latency)
    pub = lambda x: f"{m(x):.2f}" if m("published") > 0 else "n/a"
    dlv = f"{m('p99_ms'):.1f}" if m("deliveries") > 0 else "n/a"
    slow_table.append(
        f"| {attack:,} | {how} | {who} | {m('held_start'):,.0f} / {m('held_end'):,.0f} "
        f"| {m('connected'):.0f} / {m('subscribers'):.0f} | {m('published'):,.0f} "
        f"| {m('publish_failed'):,.0f} | {m('publishes_per_s'):,.1f} | {pub('pub_p50_ms')} "
        f"| {pub('pub_p99_ms')} | {pub('pub_max_ms')} | {dlv} | {m('lost'):.0f} |")
slow_effect = ["| subject | open-loop publish p99 ms: without / with | closed-loop publishes/s: "
               "without / with | with / without |", "|---|---|---|---|"]
attack_n = max([k[0] for k in slow_groups] or [0])
for s in slow_names:
    o0, o1 = slow_groups.get((0, "open", s)), slow_groups.get((attack_n, "open", s))
    c0, c1 = slow_groups.get((0, "closed", s)), slow_groups.get((attack_n, "closed", s))
    if not (o0 or o1 or c0 or c1) or attack_n == 0:
        continue
    v = lambda g, x, fmt: (format(slow_med(g, x), fmt)
                           if g and (x == "publishes_per_s" or slow_med(g, "published") > 0)
                           else "n/a")
    share = (ratio(slow_med(c1, "publishes_per_s"), slow_med(c0, "publishes_per_s"))
             if c0 and c1 else "n/a")
    slow_effect.append(f"| {slow_names[s]} | {v(o0, 'pub_p99_ms', '.2f')} / {v(o1, 'pub_p99_ms', '.2f')} "
                       f"| {v(c0, 'publishes_per_s', ',.1f')} / {v(c1, 'publishes_per_s', ',.1f')} "
                       f"| {share} |")
slow_section = ""
if slow:
    slow_date, slow_command = slow_run
    slow_section = f"""
## Publishing during a slowloris attack

```sh
{slow_command}
```

- date: {slow_date} UTC; same machine, pinning and subjects' flags as above
- attack: `slowhttptest -c 1000 -H -i 10 -r 200 -x 24 -u http://127.0.0.1:PORT/ -l 120` (slow
  headers: 1,000 connections opened at 200/s, each sends another header line every 10 s and never
  ends its head), against a freshly started subject, on core 1 with the load generator (it polls
  its sockets busily, so the load generator has less of its core during an attack). The runs
  start when 1,000 connections to the port are established (client side, `ss`; at most 20 s
  after the attack started); "held" is that count just before and just after each run
- watercooler is also given `--read-timeout 60` (nginx's `client_header_timeout` is 60 s by
  default; watercooler's `--read-timeout` 10 s would cut the attack's connections during the
  run), `--publish-rate 0` (else the closed loop measures the 4,000 msg/s limit) and, where the
  node has it, `--max-connections-per-address 0` (named in the subject; the attack, like every
  client here, comes from 127.0.0.1): every connection is accepted and held, the hard case
- a run, after the attack's connections are open: 10 SSE subscribers connect, then 8 keep-alive
  publisher threads on their own connections publish, either open-loop (500 messages at 50 msg/s)
  or closed-loop (each thread sends its next message when its last one was answered, for 5 s).
  Publish latency: from a request's send to its response, successful publishes only;
  publishes/s: successful publishes / time from the first send to the last answer; delivery p99:
  to the 10 subscribers, from the scheduled (open-loop) or actual (closed-loop) send; a publish
  fails on an error status or no answer within 5 s
- values are medians over the rounds run

{chr(10).join(slow_table)}

{chr(10).join(slow_effect)}
"""
if main_run:
    run_date, command = main_run
print("\n".join(table))
print()
print("\n".join(highest))
print()
print("\n".join(ratios))
if slow:
    print()
    print("\n".join(slow_table))
    print()
    print("\n".join(slow_effect))
# A hand-written analysis at the end of the file is kept.
analysis = ""
try:
    old = open(out).read()
    at = old.find("\n## Analysis")
    if at >= 0:
        analysis = old[at:]
except FileNotFoundError:
    pass
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
{slow_section}
<details><summary>Raw result lines (bench/pubsub_load output)</summary>

```
{"".join(l for l in open(results) if l.startswith(("RUN ", "RESULT ", "MAX ")))}```

</details>
{analysis}""")
EOF
echo "wrote $out"
}
if [ -n "$from" ]; then
  results=$from
  write_report
  exit 0
fi

if [ -n "$points" ]; then
  :
elif [ "$quick" -eq 1 ]; then
  points="1000:10 10000:10"
else
  points="1000:10 1000:max 5000:10 5000:max 10000:10 10000:max slowloris"
fi
[ "$slowloris" -eq 0 ] || [[ " $points " == *" slowloris "* ]] || points="$points slowloris"
with_slowloris=0
[[ " $points " != *" slowloris "* ]] || with_slowloris=1

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
nchan_so=/usr/lib/nginx/modules/ngx_nchan_module.so
if ! command -v nginx >/dev/null || [ ! -f "$nchan_so" ]; then
  $sudo apt-get install -y nginx-light libnginx-mod-nchan
  nchan_so=$(dpkg -L libnginx-mod-nchan | grep 'ngx_nchan_module\.so$' | head -1)
fi
if [ "$with_slowloris" -eq 1 ] && ! command -v slowhttptest >/dev/null; then
  $sudo apt-get install -y slowhttptest
fi
for tool in "$build/watercooler" "$build/watercooler_pubsub_load" \
  ${before_build:+"$before_build/watercooler"}; do
  [ -x "$tool" ] || { echo "missing $tool: cmake --build $(dirname "$tool") --target $(basename "$tool")" >&2; exit 1; }
done
# The commit a build directory was built from: its source tree's, now; "-dirty" if that has
# uncommitted edits outside bench/ (the load tool's own are not the subject's).
source_of() {
  local src commit
  src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$1/CMakeCache.txt" 2>/dev/null || true)
  src=${src:-$1}
  commit=$(git -C "$src" rev-parse --short=7 HEAD 2>/dev/null) || { echo unknown; return; }
  [ -z "$(git -C "$src" status --porcelain --untracked-files=no -- . ':!bench' 2>/dev/null)" ] \
    || commit=$commit-dirty
  echo "$commit"
}
wc_source=$(source_of "$build")
[ -z "$before_build" ] || before_source=$(source_of "$before_build")

ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d)
# private copies, so a rebuild during the run cannot swap or truncate the binaries
cp "$build/watercooler" "$build/watercooler_pubsub_load" "$tmp/"
build=$tmp
if [ -n "$before_build" ]; then
  mkdir "$tmp/before"
  cp "$before_build/watercooler" "$tmp/before/"
  before_build=$tmp/before
fi
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
# ... and the connections per address of a front that limits them (the event-loop front, issue
# 15: default 256); an older node has no such flag and would refuse to start with it.
conn_limit() { # BINARY: the flags that lift its per-address connection limit, if it has one
  local help
  help=$("$1" --help 2>&1 || true)
  [[ $help != *--max-connections-per-address* ]] || echo "--max-connections-per-address 0"
}
use_wc() { # BINARY [FLAGS...]: what start_wc runs: BINARY with wc_limits, its limit and FLAGS
  wc_bin=$1
  shift
  # shellcheck disable=SC2207
  wc_more=($(conn_limit "$wc_bin") "$@")
}
use_wc "$build/watercooler"

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
    set -- "$@" "${wc_limits[@]}" ${wc_more[@]+"${wc_more[@]}"}
    HOME=$home WATERCOOLER_STATE_DIR=$home/state ERL_EPMD_PORT=$epmd PORT=$port SECURE_PORT=$secure \
      taskset -c 0 "$wc_bin" "$@" >"$home/node$i.log" 2>&1 &
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

# The slowloris point: 10 subscribers, then publishing open-loop (50 msg/s for 10 s) and
# closed-loop (each of 8 publishers sends when answered, 5 s), on one subject with 1,000
# slow-header connections held by slowhttptest (core 1, with the load generator), and without.
# The attack's connections are opened first, so the subscribers and publishers are new
# connections that must get through. Both subjects are given 60 s for a request's head
# (watercooler --read-timeout 60; nginx's client_header_timeout default), so neither cuts the
# attack's connections during the ~30 s of a run. The closed loop is measured without the
# publish rate limit (--publish-rate 0), else it would measure the limit (4,000/s).
sl_wc=(--read-timeout 60 --publish-rate 0)
sl_conns=1000
sl_attack=(slowhttptest -c "$sl_conns" -H -i 10 -r 200 -x 24) # + -u URL -l SECONDS
held() { # PORT: connections to it established at the client side (the attack's, between runs)
  ss -Htn state established "( dport = :$1 )" 2>/dev/null | wc -l
}
slowloris_run() { # SUBJECT (wc1, wc1before, nchan) ATTACK (0 or 1) ROUND
  local subject=$1 attack=$2 round=$3 mode channel="" source port before after loop line i
  local wc_more_at_start=default
  case $subject in
    wc1 | wc1before)
      if [ "$subject" = wc1 ]; then
        use_wc "$build/watercooler" "${sl_wc[@]}"; source=$wc_source
      else
        use_wc "$before_build/watercooler" "${sl_wc[@]}"; source=$before_source
      fi
      start_wc 1; mode=watercooler
      [[ " ${wc_more[*]} " != *" --max-connections-per-address 0 "* ]] || wc_more_at_start=0 ;;
    nchan) start_nchan; mode=nchan; channel="--channel sl$RANDOM"; source=nchan ;;
  esac
  use_wc "$build/watercooler"
  port=$pub_port
  if [ "$attack" -eq 1 ]; then
    taskset -c 1 "${sl_attack[@]}" -u "http://127.0.0.1:$port/" -l 120 \
      >"$tmp/slowhttptest.$subject.$round.log" 2>&1 &
    started+=($!)
    for i in $(seq 40); do # it opens 200/s: until all are held, at most 20 s
      [ "$(held "$port")" -lt "$sl_conns" ] || break
      sleep 0.5
    done
    sleep 1
  fi
  for loop in open closed; do
    before=$(held "$port")
    if [ "$loop" = open ]; then set -- --messages 500 --rate 50; else set -- --messages 200000 --closed-loop 5; fi
    # shellcheck disable=SC2086
    line=$(timeout 60 taskset -c 1 "$build/watercooler_pubsub_load" --mode "$mode" --ports "$port" \
      --pid "$pids" --subscribers 10 "$@" --connect-timeout 10 --drain-timeout 10 \
      --label "sl/$subject/r$round/$loop" $channel | grep '^RESULT' || true)
    after=$(held "$port")
    if [ -z "$line" ]; then
      echo "  ($subject, attack $attack, $loop loop: no result)"
      continue
    fi
    line="$line point=slowloris subject=$subject attack=$((attack * sl_conns)) loop=$loop"
    line="$line held_start=$before held_end=$after source=$source"
    [ "$subject" = nchan ] || line="$line per_address_limit=${wc_more_at_start:-default}"
    echo "$line" >>"$results"
    echo "$line" | python3 -c '
import re, sys
kv = dict(re.findall(r"(\w+)=(\S+)", sys.stdin.read()))
print("  {subject} attack={attack} {loop}: held {held_start}->{held_end}, {connected}/10 subscribed, "
      "{published} published ({publish_failed} failed), {publishes_per_s}/s, publish p50 {pub_p50_ms} "
      "p99 {pub_p99_ms} ms, delivery p99 {p99_ms} ms, lost {lost}".format(**kv))'
  done
  stop_started
  sleep 1
}

# 10 msg/s runs publish 100 messages (10 s); other fixed rates 5 s worth.
echo "# $(date -u '+%F %T') UTC, $(nproc) cores, $(uname -r); points: $points; rounds: $rounds"
echo "RUN $(date -u '+%Y-%m-%d %H:%M')|$command_line" >>"$results" # for the report, also --from
for point in $points; do
  if [ "$point" = slowloris ]; then
    for round in $(seq "$rounds"); do
      for attack in 0 1; do
        for subject in ${before_build:+wc1before} wc1 nchan; do
          slowloris_run "$subject" "$attack" "$round"
        done
      done
    done
    continue
  fi
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

