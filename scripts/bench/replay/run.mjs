#!/usr/bin/env node
// Replay throughput: `pipeline replay` with the default pipeline (pipelines/default.conf: the
// reference grok and the homelab rules, matched on each event's JSON line) over N lines of the
// shared bench corpus (shared/bench/corpus/gen.mjs, raw syslog lines), beside the real
// `sec --notail` reading the same file with the same rules, in the same run, whole process against
// whole process. sec cannot run the native alert/heartbeat actions: in its copy of the rules each
// becomes `write out.txt alert ...` with the same parameters, so both engines do one action per
// firing, and the script prints both counts. A third row replays the rules alone on the raw lines
// (no filter section, sec's own input), to tell the engine's speed from the filters'.
//   node scripts/bench/replay/run.mjs [--lines 1000000] [--keep]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const args = process.argv.slice(2);
const LINES = args.includes('--lines') ? Number(args[args.indexOf('--lines') + 1]) : 1_000_000;
const work = mkdtempSync(join(tmpdir(), 'replay-bench-'));

const gen = [resolve(root, '../shared/bench/corpus/gen.mjs'), '/work/shared/bench/corpus/gen.mjs'].find((p) => existsSync(p));
if (!gen) throw new Error('shared/bench/corpus/gen.mjs not found beside the repository');
const corpus = join(work, 'corpus.log');
spawnSync(process.execPath, [gen, '--lines', String(LINES), '--out', corpus], { stdio: 'inherit' });

// sec's copy of the default rules: native actions written to out.txt instead
const rules = readFileSync(join(root, 'pipelines/rules/homelab.sec'), 'utf8').replace(/^action=(alert|heartbeat) /gm, 'action=write out.txt $1 ');
writeFileSync(join(work, 'sec-rules.sec'), rules);

function timed(cmd, cmdArgs, cwd) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...cmdArgs], { cwd, encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, TZ: 'UTC' } });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  const last = r.stderr.trim().split('\n').pop().split(' ');
  return { wall: Number(last[0]), maxRssMB: Math.round(Number(last[1]) / 1024), stdout: r.stdout };
}

const replayRun = (configArgs) => {
  const t = timed(process.execPath, [join(root, 'core/bin/pipeline.js'), 'replay', ...configArgs, '--summary', 'json', corpus], mkdtempSync(join(work, 'ours-')));
  const summary = JSON.parse(t.stdout);
  return { ...t, summary, alerts: summary.alerts.reduce((a, r) => a + r.count, 0) };
};
const ours = replayRun(['-f', join(root, 'pipelines/default.conf')]);
const summary = ours.summary;
const oursAlerts = ours.alerts;
// the correlate section alone, rules on the raw line as sec reads it: engine against engine
const bare = replayRun(['-e', `correlate { sec { rules => ["${join(root, 'pipelines/rules/homelab.sec')}"] } }`]);

const secDir = mkdtempSync(join(work, 'sec-'));
const sec = timed('sec', [`--conf=${join(work, 'sec-rules.sec')}`, `--input=${corpus}`, '--notail', '--debug=1'], secDir);
const secOut = join(secDir, 'out.txt');
const secAlerts = existsSync(secOut) ? readFileSync(secOut, 'utf8').split('\n').filter(Boolean).length : 0;

const rate = (s) => Math.round(LINES / s);
const lines = [
  `Replay benchmark, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${LINES.toLocaleString('en')} lines of the bench corpus, the default pipeline's filters and rules`,
  '',
  '| | seconds | lines/s | peak RSS (MB) | alerts |',
  '| --- | --- | --- | --- | --- |',
  `| pipeline replay (default.conf: grok + homelab.sec on JSON lines) | ${ours.wall.toFixed(2)} | ${rate(ours.wall).toLocaleString('en')} | ${ours.maxRssMB} | ${oursAlerts.toLocaleString('en')} |`,
  `| pipeline replay, the rules alone on the raw lines (no grok, no JSON) | ${bare.wall.toFixed(2)} | ${rate(bare.wall).toLocaleString('en')} | ${bare.maxRssMB} | ${bare.alerts.toLocaleString('en')} |`,
  `| sec 2.9.1 --notail (same rules, same file) | ${sec.wall.toFixed(2)} | ${rate(sec.wall).toLocaleString('en')} | ${sec.maxRssMB} | ${secAlerts.toLocaleString('en')} |`,
  '',
  `ratio: pipeline replay with the default pipeline is ${(sec.wall / ours.wall).toFixed(1)}x sec --notail; the rules alone ${(sec.wall / bare.wall).toFixed(1)}x`,
  `parse failures: ${JSON.stringify(summary.failures)}`,
];
console.log(lines.join('\n'));
writeFileSync(join(here, 'RESULTS.md'), lines.join('\n') + '\n');
if (args.includes('--keep')) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
