#!/usr/bin/env node
// Memory per open correlation operation: N distinct keys held open at once (SingleWithThreshold,
// thresh 2, window 1 h: every line opens an operation, none fires, none expires, nothing evicted).
//   node --expose-gc opmem.mjs [--keys 1000000]
import { SecEngine, compileRuleFile, toBytes } from '../../../plugins/correlate-sec/dist/src/index.js';

const args = process.argv.slice(2);
const N = Number(args.includes('--keys') ? args[args.indexOf('--keys') + 1] : 1_000_000);
const errors = [];
const rf = compileRuleFile('type=SingleWithThreshold\nptype=RegExp\npattern=sshd\\[\\d+\\]: Failed password for (\\S+) from ([\\d.]+)\ndesc=failures for $1 from $2\naction=write /dev/null %s\nwindow=3600\nthresh=2\n', '/bench/opmem.sec', {}, errors);
if (errors.length) throw new Error(JSON.stringify(errors));
const now = 1700000000;
const engine = new SecEngine([rf], { now: () => now, workingDir: '/tmp' });
engine.start();
const heap = () => {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
};
const before = heap();
const rssBefore = process.memoryUsage().rss;
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  engine.input(toBytes(`Nov 14 22:13:20 web1 sshd[${1000 + (i % 5000)}]: Failed password for user${i} from 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} port 22 ssh2`));
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const after = heap();
if (engine.ops.size !== N) throw new Error(`expected ${N} operations, have ${engine.ops.size}`);
console.log(JSON.stringify({ keys: N, openOperations: engine.ops.size, heapBytesPerOperation: Math.round((after - before) / N), rssDeltaMB: Math.round((process.memoryUsage().rss - rssBefore) / 1048576), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), linesPerSec: Math.round(N / secs) }));
