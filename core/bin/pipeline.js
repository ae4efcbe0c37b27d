#!/usr/bin/env -S node --max-old-space-size=1024 --max-semi-space-size=4
// The heap flags on the line above (set when the file is run as a command, as npx and an installed
// `pipeline` do; `node core/bin/pipeline.js` must pass them itself) bound how far V8 lets the heap
// grow between collections: with its default limits (a quarter of RAM) the homelab job peaked at
// 220-230 MiB RSS, with these at 125-135 MiB for the same throughput (BENCHMARKS.md, "Memory").
// 1024 MiB of old space is Logstash's default heap (-Xmx1g); raise it with
// `node --max-old-space-size=N core/bin/pipeline.js ...` for very large correlation state.
import { setFlagsFromString } from 'node:v8';

// V8 regex flags, before any module compiles a regex (hence the dynamic import below):
// - a regex V8's linear-time engine accepts falls back to it after 50,000 backtracks, so it cannot
//   run away (=~ conditions and SEC patterns rely on it; see core/src/config/conditions.ts);
// - a regex is compiled to machine code after 100 runs instead of 1: a config with hundreds of
//   grok patterns, most of them run rarely (under conditionals), keeps them as compact bytecode
//   (measured: scripts/bench/grok-many, about 15 MiB less at 200 filters), while hot ones still
//   get native code within their first milliseconds.
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
setFlagsFromString('--regexp-tier-up-ticks=100');

const { main } = await import('../dist/src/cli/main.js');

main().then(
  (code) => {
    // Let stdout drain before leaving: the stdout output may have written a lot.
    process.stdout.write('', () => process.exit(code));
  },
  (err) => {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
