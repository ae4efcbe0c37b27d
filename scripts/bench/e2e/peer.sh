#!/usr/bin/env bash
# Starts Pipeline as a run-peers.sh peer: the rendered io.conf.template ($1) plus the filter and
# correlate sections of pipelines/default.conf, from the repository root so rule paths resolve.
# PIPELINE_ARGS adds options (e.g. "-w 1" to keep the filter section on the pipeline thread).
set -euo pipefail
conf=$1 work=$2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
mkdir -p "$work/conf.d"
cp "$conf" "$work/conf.d/10-io.conf"
awk '/^filter \{/{on=1} /^output \{/{on=0} on' "$root/pipelines/default.conf" > "$work/conf.d/20-filter-correlate.conf"
cd "$root"
exec core/bin/pipeline.js start -f "$work/conf.d" --path.data "$work/data" --api.enabled false --log.level warn ${PIPELINE_ARGS:-}
