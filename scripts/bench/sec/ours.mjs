#!/usr/bin/env node
// One process, like `sec --notail --input=FILE`: reads FILE line by line and matches every line
// against RULES, either straight into the engine (--mode engine) or as pipeline events through the
// correlate plugin's filter() (--mode plugin). Prints a JSON line with lines/s and peak RSS.
//   node ours.mjs --rules r.sec --input corpus.txt --workdir DIR [--mode engine|plugin]
import { openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { resolve } from 'node:path';
import { Event } from '@pipeline/core';
import { createPlugin, makeContext } from '@pipeline/core/testing';
import sec, { SecEngine, loadRuleFiles, toBytes } from '../../../plugins/correlate-sec/dist/src/index.js';

const args = process.argv.slice(2);
const arg = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const rules = resolve(arg('--rules'));
const input = resolve(arg('--input'));
const workdir = resolve(arg('--workdir', '.'));
const mode = arg('--mode', 'engine');

const t0 = process.hrtime.bigint();
const decoder = new StringDecoder('utf8');
let feed;
let finish;
if (mode === 'engine') {
  const { files, errors } = loadRuleFiles([rules]);
  if (errors.length) throw new Error(JSON.stringify(errors));
  const now = Math.floor(Date.now() / 1000);
  const engine = new SecEngine(files, { now: () => now, workingDir: workdir }, {});
  engine.start();
  feed = (line) => engine.input(toBytes(line));
  finish = () => engine.shutdown();
} else {
  const ctx = makeContext({ workingDir: workdir, resolvePath: (p) => resolve(workdir, p) });
  const p = await createPlugin(sec, `rules => ["${rules}"]`, ctx);
  const emit = () => {};
  feed = (line) => p.filter(new Event({ message: line }), emit);
  finish = () => p.flush(emit, true);
}
// read in 1 MiB blocks and split on newlines (what a file input does), decoding UTF-8 per block
let n = 0;
const fd = openSync(input, 'r');
const buf = Buffer.alloc(1 << 20);
let rest = '';
for (;;) {
  const got = readSync(fd, buf, 0, buf.length, null);
  if (got === 0) break;
  const text = rest + decoder.write(buf.subarray(0, got));
  let start = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', start)) {
    feed(text.slice(start, at));
    n++;
    start = at + 1;
  }
  rest = text.slice(start);
}
if (rest.length) feed(rest), n++;
finish();
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ mode, lines: n, seconds: secs, linesPerSec: Math.round(n / secs), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
