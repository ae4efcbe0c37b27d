/**
 * Runs one rule set and one scenario through the real sec 2.9.1 (the oracle in shared/sec-oracle,
 * on a virtual clock) and through our engine, for the differential tests on whole rule files
 * (brackets.test.ts, ssh-ruleset.check.ts). Scenario format: that of the oracle's vclock-run.mjs
 * (`#! +N` advances the clock, `#! @N` sets it to BASE+N, `#! # text` is a comment).
 *
 * A missing oracle or a missing `sec` (Debian package, scripts/setup-debian.sh) is a failed
 * assertion, never a skip.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecEngine } from '../src/engine.js';
import { readRuleFile, isWarning, type RuleError } from '../src/rules.js';
import { toBytes } from '../src/bytes.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from plugins/correlate-sec/dist/test). */
export const REPO = resolve(here, '../../../..');
/** The package's test/ folder (sources and fixtures). */
export const TEST_DIR = resolve(here, '../../test');
export const BASE = 1700000000;

export function firstExisting(what: string, candidates: string[]): string {
  const found = candidates.find((c) => existsSync(c));
  assert.ok(found, `${what} not found; looked in:\n  ${candidates.join('\n  ')}`);
  return found;
}

/** The steering tree's shared/ folder, beside the working tree or at /work/shared. */
export const SHARED = [resolve(REPO, '../shared'), '/work/shared'];

export const oracleDir = () =>
  firstExisting('the SEC oracle (shared/sec-oracle, or $SEC_ORACLE)', [
    ...(process.env.SEC_ORACLE ? [process.env.SEC_ORACLE] : []),
    ...SHARED.map((s) => join(s, 'sec-oracle')),
  ]);

/** The shared oracle with its clock file written atomically (see test/oracle/README.md). */
export function oracleCopy(dir: string): string {
  const src = oracleDir();
  copyFileSync(join(src, 'sec-vclock.pl'), join(dir, 'sec-vclock.pl'));
  let runner = readFileSync(join(src, 'vclock-run.mjs'), 'utf8');
  runner = runner.replace('import { readFileSync, writeFileSync,', 'import { renameSync, readFileSync, writeFileSync,');
  let swaps = 0;
  runner = runner.replace(/^( *)writeFileSync\(clockFile, `\$\{now\}\\n`\);/gm, (_m, indent: string) => {
    swaps++;
    return `${indent}writeFileSync(clockFile + '.tmp', \`\${now}\\n\`); renameSync(clockFile + '.tmp', clockFile);`;
  });
  assert.equal(swaps, 2, 'the oracle runner changed: the atomic clock patch no longer applies');
  assert.match(runner, /import \{ renameSync,/);
  writeFileSync(join(dir, 'vclock-run.mjs'), runner);
  return join(dir, 'vclock-run.mjs');
}

export interface Side {
  /** Standard output, one char per byte. */
  stdout: string;
  /** The files named in `files` as the rules left them in the working directory, one char per byte ('' when absent). */
  files: Record<string, string>;
  /** The rules a side refused to load (see refusal()), sorted. */
  refused: string[];
}

/**
 * A refused rule, named so both sides compare: sec 2.9.1 gives the wrong line for the second of
 * two bad rules (both "at line 137"), so a rule refused for its context expression is named by
 * that expression; any other refusal by its message.
 */
export function refusal(message: string, file: string, line: number): string {
  const m = /invalid context expression '(.*)'/i.exec(message);
  if (!m) return `other: ${message}`;
  const ctx = file ? /^\s*context\s*=(.*)$/.exec(readFileSync(file, 'latin1').split('\n')[line - 1] ?? '') : null;
  return `context: ${(ctx ? ctx[1]! : m[1]!).trim()}`;
}

const readFiles = (work: string, files: string[]) =>
  Object.fromEntries(files.map((f) => [f, existsSync(join(work, f)) ? readFileSync(join(work, f), 'latin1') : '']));

/** The real sec on `rules` (loaded in this order) and `scenario`, in the empty directory `work`. */
export function realSec(runner: string, rules: string[], scenario: string, work: string, files: string[] = []): Side {
  const args = [runner, '--rules', rules.join(','), '--scenario', scenario, '--workdir', work, '--base', String(BASE), '--sec-arg=--log=sec.log'];
  const r = spawnSync(process.execPath, args, {
    cwd: work,
    env: { ...process.env, TZ: 'UTC' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.ok(!r.error, `could not run the oracle: ${r.error?.message}`);
  const read = (f: string) => (existsSync(join(work, f)) ? readFileSync(join(work, f), 'utf8') : '');
  assert.equal(r.status, 0, `the real sec failed (is the Debian package sec installed?): ${r.stderr}\n${read('stderr.txt')}`);
  const log = read('sec.log');
  // sec logs the rule-file errors (--debug=3 keeps only errors and warnings)
  const refused = [...log.matchAll(/Rule in \S+ at line \d+: (.*)/g)].map((m) => refusal(m[1]!, '', 0)).sort();
  return { stdout: readFileSync(join(work, 'stdout.txt'), 'latin1'), files: readFiles(work, files), refused };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Our engine on the same rules and scenario, fed as vclock-run.mjs feeds sec, in the empty directory `work`. */
export async function ourEngine(rules: string[], scenario: string, work: string, files: string[] = []): Promise<Side> {
  process.env.TZ = 'UTC';
  const errors: RuleError[] = [];
  const loaded = rules.map((f) => readRuleFile(f, { allowShell: false }, errors)).filter((f) => f !== undefined);
  let now = BASE;
  let stdout = '';
  const engine = new SecEngine(loaded, { now: () => now, workingDir: work, stdout: (t) => void (stdout += t) }, { inputName: '-' });
  engine.start();
  const lines = readFileSync(scenario, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    const m = /^#!\s*(.*)$/.exec(line);
    if (!m) {
      engine.input(toBytes(line));
      continue;
    }
    const d = m[1]!.trim();
    if (d === '' || d.startsWith('#')) continue;
    if (/^\+\d+$/.test(d)) now += Number(d.slice(1));
    else if (/^@\d+$/.test(d)) now = BASE + Number(d.slice(1));
    else throw new Error(`bad directive ${line}`);
    engine.tick();
    engine.drain();
    await sleep(0);
  }
  engine.shutdown();
  const refused = errors.filter((e) => !isWarning(e)).map((e) => refusal(e.message, e.file, e.line)).sort();
  return { stdout: Buffer.from(stdout, 'utf8').toString('latin1'), files: readFiles(work, files), refused };
}

/**
 * Both sides on copies of `rules` (pairs of name and text, written latin1, loaded in this order)
 * and `scenario`, each in a fresh directory; `files` are the output files to compare.
 */
export async function bothSides(
  rules: Array<[name: string, text: string]>,
  scenario: string,
  files: string[] = [],
): Promise<{ want: Side; got: Side }> {
  const work = mkdtempSync(join(tmpdir(), 'sec-diff-'));
  try {
    const rulesDir = join(work, 'rules');
    mkdirSync(rulesDir);
    const paths = rules.map(([name, text]) => {
      writeFileSync(join(rulesDir, name), text, 'latin1');
      return join(rulesDir, name);
    });
    const runner = oracleCopy(work);
    const secWork = join(work, 'sec');
    const ourWork = join(work, 'ours');
    mkdirSync(secWork);
    mkdirSync(ourWork);
    const want = realSec(runner, paths, scenario, secWork, files);
    const got = await ourEngine(paths, scenario, ourWork, files);
    return { want, got };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
