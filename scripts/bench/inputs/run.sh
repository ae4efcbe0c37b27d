#!/usr/bin/env bash
# Input benchmark: Pipeline's tcp, tls (4 connections) and udp inputs into a null sink, beside
# rsyslog receiving the same corpus and filing it, in the same run of ../shared/bench/run-peers.sh.
#   scripts/bench/inputs/run.sh [run-peers options, e.g. --lines 1000000 --reps 3]
# Extra rows: UDP paced at 50k, 100k and 200k datagrams/s (where loss starts).
set -euo pipefail
PROJECT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
BENCH="${BENCH:-$(cd "$PROJECT/../shared/bench" && pwd)}"
export PROJECT
SERVE='node "$PROJECT/scripts/bench/inputs/serve.mjs" --port "$PORT" --out "$OUT" --tls "$TLS"'
exec "$BENCH/run-peers.sh" \
  --peer "pipeline-tcp|tcp|lf|rfc3164|-|$SERVE --input tcp" \
  --peer "pipeline-tcp-octet|tcp|octet|rfc3164|-|$SERVE --input tcp" \
  --peer "pipeline-tls|tls|lf|rfc3164|-|$SERVE --input tls" \
  --peer "pipeline-udp-50k|udp|lf|rfc3164|-|$SERVE --input udp --rcvbuf 4194304|--rate 50000" \
  --peer "pipeline-udp-100k|udp|lf|rfc3164|-|$SERVE --input udp --rcvbuf 4194304|--rate 100000" \
  --peer "pipeline-udp-200k|udp|lf|rfc3164|-|$SERVE --input udp --rcvbuf 4194304|--rate 200000" \
  --only rsyslog-tcp,rsyslog-tcp-octet,rsyslog-tls,rsyslog-udp-50k,pipeline-tcp,pipeline-tcp-octet,pipeline-tls,pipeline-udp-50k,pipeline-udp-100k,pipeline-udp-200k \
  "$@"
