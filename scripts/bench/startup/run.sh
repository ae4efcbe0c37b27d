#!/usr/bin/env bash
# Start-up benchmark (issue 20): time from exec to a listening TCP socket for `pipeline start` on
# the default pipeline, beside a bare `node` that opens a socket (the peer), alternating in the
# same run; plus the default pipeline's RSS once idle. Prints medians and the ratio.
#   scripts/bench/startup/run.sh [--runs N]     (default 7)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
runs=7
while (($#)); do case "$1" in --runs) runs=$2; shift 2 ;; *) echo "unknown $1" >&2; exit 2 ;; esac; done
cd "$root"

listening() { ss -Hltn "sport = :$1" | grep -q .; }
wait_listen() { # port pid
  until listening "$1"; do kill -0 "$2" 2>/dev/null || { echo "process $2 died before listening" >&2; exit 1; }; sleep 0.002; done
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }

pipe_ms=() node_ms=() idle_kib=()
for ((i = 1; i <= runs; i++)); do
  port=$((20000 + RANDOM % 20000)) w=$(mktemp -d)
  t0=$(date +%s%N)
  PIPELINE_SYSLOG_PORT=$port core/bin/pipeline.js start --path.data "$w" --api.enabled false --log.level warn > "$w/log" 2>&1 &
  pid=$!
  wait_listen "$port" "$pid"
  t1=$(date +%s%N)
  sleep 3 # idle: timers armed, first GC done
  idle_kib+=("$(ps -o rss= -p "$pid" | tr -d ' ')")
  kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$w"
  pipe_ms+=($(((t1 - t0) / 1000000)))

  port=$((20000 + RANDOM % 20000))
  t0=$(date +%s%N)
  node -e "require('node:net').createServer().listen($port, '0.0.0.0')" &
  pid=$!
  wait_listen "$port" "$pid"
  t1=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  node_ms+=($(((t1 - t0) / 1000000)))
  echo "run $i: pipeline ${pipe_ms[-1]} ms (idle RSS ${idle_kib[-1]} KiB), bare node ${node_ms[-1]} ms"
done
p=$(printf '%s\n' "${pipe_ms[@]}" | median) n=$(printf '%s\n' "${node_ms[@]}" | median) r=$(printf '%s\n' "${idle_kib[@]}" | median)
echo "median: pipeline $p ms, bare node $n ms, ratio $(awk -v p="$p" -v n="$n" 'BEGIN {printf "%.1f", p / n}')x; idle RSS $((r / 1024)) MiB"
