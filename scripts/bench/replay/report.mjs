#!/usr/bin/env node
// An example replay report: N lines of the shared bench corpus (syslog lines from 2024-03-01 on)
// through pipelines/default.conf with a date filter added (the corpus lines carry no year: 2024 is
// given), written to --out (default docs/replay-report.html in a temporary folder), and with
// --screenshot PNG a picture of it taken by headless Chromium (`apt-get install chromium`).
//   node scripts/bench/replay/report.mjs [--lines 1000000] [--out report.html] [--screenshot docs/replay-report.png]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const args = process.argv.slice(2);
const arg = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const LINES = Number(arg('--lines', 1_000_000));
const work = mkdtempSync(join(tmpdir(), 'replay-report-'));
const out = resolve(arg('--out', join(work, 'report.html')));

const gen = [resolve(root, '../shared/bench/corpus/gen.mjs'), '/work/shared/bench/corpus/gen.mjs'].find((p) => existsSync(p));
if (!gen) throw new Error('shared/bench/corpus/gen.mjs not found beside the repository');
const corpus = join(work, 'corpus.log');
spawnSync(process.execPath, [gen, '--lines', String(LINES), '--out', corpus], { stdio: 'inherit' });
const date = `filter {
  if [syslog_timestamp] {
    mutate { add_field => { "[@metadata][ts]" => "2024 %{syslog_timestamp}" } }
    date { match => [ "[@metadata][ts]", "yyyy MMM dd HH:mm:ss", "yyyy MMM  d HH:mm:ss" ] timezone => "UTC" }
  }
}
correlate {`;
const config = readFileSync(join(root, 'pipelines/default.conf'), 'utf8').replace(/^correlate \{/m, date);
writeFileSync(join(work, 'replay.conf'), config);
const r = spawnSync(process.execPath, [join(root, 'core/bin/pipeline.js'), 'replay', '-f', join(work, 'replay.conf'), '--report', out, corpus], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
// the corpus is large: only the report stays (in the work folder when no --out was given)
rmSync(corpus, { force: true });
if (!out.startsWith(work)) rmSync(work, { recursive: true, force: true });
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`report: ${out}`);
const shot = arg('--screenshot');
if (shot) {
  const browser = ['chromium', 'chromium-browser', 'google-chrome'].find((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0);
  if (!browser) throw new Error('no chromium found (apt-get install chromium)');
  const s = spawnSync(browser, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--screenshot=${resolve(shot)}`, '--window-size=1400,1300', `file://${out}`], { encoding: 'utf8' });
  if (s.status !== 0) throw new Error(`${browser} failed: ${s.stderr}`);
  console.log(`screenshot: ${resolve(shot)}`);
}
