#!/usr/bin/env bash
# Soak (issue 7): the homelab job (scripts/bench/e2e's config: TCP in, reference grok, SEC rules,
# a file per host and program) fed at a steady 5,000 lines/s for a while; prints the RSS and heap
# curve every 30 s, from /proc and the monitoring API. Memory should stay flat.
#   scripts/bench/soak/run.sh [--minutes 10] [--rate 5000]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
shared="${SHARED:-$root/../shared}"
minutes=10 rate=5000
while (($#)); do case "$1" in --minutes) minutes=$2; shift 2 ;; --rate) rate=$2; shift 2 ;; *) echo "unknown $1" >&2; exit 2 ;; esac; done
work=$(mktemp -d); trap 'kill $pid $spid 2>/dev/null || true; rm -rf "$work"' EXIT
lines=$((rate * 60))   # one minute of corpus, sent again and again
port=$((20000 + RANDOM % 20000)) api=$((40000 + RANDOM % 10000))
node "$shared/bench/corpus/gen.mjs" --lines "$lines" --seed 7 --out "$work/corpus.log" >/dev/null
sed -e "s|@PORT@|$port|; s|@OUT@|$work/out|; s|@WORK@|$work|" "$root/scripts/bench/e2e/io.conf.template" > "$work/io.conf"
mkdir -p "$work/conf.d" && cp "$work/io.conf" "$work/conf.d/10-io.conf"
awk '/^filter \{/{on=1} /^output \{/{on=0} on' "$root/pipelines/default.conf" > "$work/conf.d/20-filter-correlate.conf"
(cd "$root" && exec core/bin/pipeline.js start -f "$work/conf.d" --path.data "$work/data" --api.http.port "$api" --log.level warn) > "$work/pipeline.log" 2>&1 &
pid=$!
until ss -Hltn "sport = :$port" | grep -q .; do sleep 0.1; done
(for ((m = 0; m < minutes; m++)); do
  node "$shared/bench/load/send.mjs" --port "$port" --file "$work/corpus.log" --conns 2 --rate "$rate" --timeout 120 >> "$work/send.log" 2>&1
done) &
spid=$!
echo "| minute | RSS MiB | heap used MiB | events out | queue |"
echo "| --- | --- | --- | --- | --- |"
t0=$(date +%s)
while kill -0 $spid 2>/dev/null; do
  sleep 30
  rss=$(awk '/VmRSS/{printf "%.1f", $2/1024}' /proc/$pid/status)
  stats=$(curl -s "http://127.0.0.1:$api/_node/stats" || echo '{}')
  node -e 'const s=JSON.parse(process.argv[1]||"{}");const m=((Date.now()/1000-process.argv[3])/60).toFixed(1);
    console.log(`| ${m} | ${process.argv[2]} | ${s.process?((s.process.mem.heap_used_in_bytes)/1048576).toFixed(1):"?"} | ${s.events?.out??"?"} | ${s.pipelines?.main?.queue?.size??"?"} |`)' "$stats" "$rss" "$t0"
done
echo "peak RSS: $(awk '/VmHWM/{printf "%.1f MiB", $2/1024}' /proc/$pid/status)"
