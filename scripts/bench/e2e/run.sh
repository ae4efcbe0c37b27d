#!/usr/bin/env bash
# End-to-end benchmark (issue 7): the homelab job — receive syslog over TCP from 8 senders, grok,
# tag, run the SEC rules, file one log per host and program — Pipeline beside rsyslog doing the
# receive-and-file part of the same job, in the same run of ../shared/bench/run-peers.sh.
#   scripts/bench/e2e/run.sh [--lines N] [--reps R]      (defaults 1000000, 3)
# Also prints Pipeline's start-up time to a listening socket.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
shared="${SHARED:-$root/../shared}"
lines=1000000 reps=3
while (($#)); do case "$1" in --lines) lines=$2; shift 2 ;; --reps) reps=$2; shift 2 ;; *) echo "unknown $1" >&2; exit 2 ;; esac; done

echo "## start-up to listening (5 runs)"
for i in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 20000)) w=$(mktemp -d)
  sed -e "s|@PORT@|$port|; s|@OUT@|$w/out|; s|@WORK@|$w|" "$here/io.conf.template" > "$w/io.conf"
  t0=$(date +%s%N)
  "$here/peer.sh" "$w/io.conf" "$w" > "$w/log" 2>&1 &
  pid=$!
  until ss -Hltn "sport = :$port" | grep -q .; do sleep 0.01; kill -0 $pid 2>/dev/null || { cat "$w/log"; exit 1; }; done
  t1=$(date +%s%N)
  echo "run $i: $(( (t1 - t0) / 1000000 )) ms"
  kill $pid; wait $pid 2>/dev/null || true; rm -rf "$w"
done

echo "## throughput and memory, 8 TCP senders"
bash "$shared/bench/run-peers.sh" --lines "$lines" --reps "$reps" --conns 8 --only rsyslog-tcp,pipeline-homelab \
  --peer "pipeline-homelab|tcp|lf|rfc3164|$here/io.conf.template|$here/peer.sh \"\$CONF\" \"\$WORK\""
