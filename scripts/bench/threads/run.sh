#!/usr/bin/env bash
# Filter worker threads (issue 20, item 3): the same job with -w 1 (the peer: everything on the
# pipeline thread) and -w 2, alternating in one run, for a light filter section (the default
# pipeline's grok and tags) and a heavy one (8 grok + 8 kv blocks). Lines come from stdin (the
# syslog corpus of ../shared/bench, priority stripped) and go to one JSON-lines file.
# Prints wall time, CPU time and peak RSS per run, the medians and the ratios, and whether the
# threads started (they start only when the section keeps the pipeline thread busy at >= 40 µs
# per event: see Pipeline.noteFilterTime).
#   scripts/bench/threads/run.sh [--lines N] [--runs R]      (defaults 180000, 3)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
shared="${SHARED:-$root/../shared}"
lines=180000 runs=3
while (($#)); do case "$1" in --lines) lines=$2; shift 2 ;; --runs) runs=$2; shift 2 ;; *) echo "unknown $1" >&2; exit 2 ;; esac; done
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
node "$shared/bench/corpus/gen.mjs" --lines "$lines" --out "$w/corpus.raw"
sed 's/^<[0-9]*>//' "$w/corpus.raw" > "$w/lines.txt"
{
  echo 'input { stdin { type => syslog } }'
  awk '/^filter \{/{on=1} /^correlate \{/{on=0} on' "$root/pipelines/default.conf"
  echo "output { file { path => \"$w/out.jsonl\" } }"
} > "$w/light.conf"
{
  echo 'input { stdin { type => syslog } }'
  echo 'filter {'
  for i in 1 2 3 4 5 6 7 8; do
    echo "  grok { match => { \"message\" => [\"%{SYSLOGTIMESTAMP:ts$i} %{SYSLOGHOST:h$i} %{DATA:p$i}(?:\\\\[%{POSINT:pid$i}\\\\])?: %{GREEDYDATA:m$i}\"] } }"
    echo "  kv { target => \"kv$i\" }"
  done
  echo '}'
  echo "output { file { path => \"$w/out.jsonl\" } }"
} > "$w/heavy.conf"
cd "$root"
for job in light heavy; do
  echo "## $job filter section, $lines lines"
  for ((r = 1; r <= runs; r++)); do
    for workers in 1 2; do
      rm -f "$w/out.jsonl"
      /usr/bin/time -f "%e %U %S %M" -o "$w/time" core/bin/pipeline.js start -f "$w/$job.conf" -w "$workers" --path.data "$w/data" --api.enabled false < "$w/lines.txt" > "$w/log" 2>&1
      read -r wall user sys rss < "$w/time"
      out=$(wc -l < "$w/out.jsonl")
      started=$(grep -c 'running in .* worker threads' "$w/log" || true)
      printf '%s w=%s %s s wall, %s s CPU, peak RSS %s MiB, %s lines out, threads started: %s\n' "$r" "$workers" "$wall" "$(echo "$user + $sys" | bc)" $((rss / 1024)) "$out" "$([[ $started -gt 0 ]] && echo yes || echo no)" | tee -a "$w/$job.results"
    done
  done
  node -e '
    const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => { const m = l.match(/w=(\d) ([\d.]+) s wall, ([\d.]+) s CPU, peak RSS (\d+)/); return { w: +m[1], wall: +m[2], cpu: +m[3], rss: +m[4] }; });
    const med = (xs) => { xs = [...xs].sort((a, b) => a - b); return xs[xs.length >> 1]; };
    const of = (w, k) => med(rows.filter((r) => r.w === w).map((r) => r[k]));
    console.log(`median: -w 1 ${of(1, "wall")} s (CPU ${of(1, "cpu")} s, ${of(1, "rss")} MiB); -w 2 ${of(2, "wall")} s (CPU ${of(2, "cpu")} s, ${of(2, "rss")} MiB); speed -w 2 / -w 1 = ${(of(1, "wall") / of(2, "wall")).toFixed(2)}x`);
  ' "$w/$job.results"
done
