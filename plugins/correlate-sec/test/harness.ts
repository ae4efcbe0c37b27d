/**
 * Feeds a differential case (test/oracle/cases/NN-name) to the engine on a virtual clock, the way
 * test/oracle/README.md describes (the way vclock-run.mjs makes the real sec see it), and returns
 * what the rules wrote to out.txt and to standard output.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecEngine } from '../src/engine.js';
import { readRuleFile, type RuleError } from '../src/rules.js';
import { toBytes } from '../src/bytes.js';

export const BASE = 1700000000;
export const CASES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../test/oracle/cases');

export interface CaseSpec {
  description: string;
  mode: 'vclock' | 'notail';
  sec_args?: string[];
  shell?: boolean;
}

export interface CaseResult {
  out: string;
  stdout: string;
  errors: RuleError[];
}

export function listCases(): string[] {
  if (!existsSync(CASES_DIR)) return [];
  return readdirSync(CASES_DIR)
    .filter((d) => existsSync(join(CASES_DIR, d, 'case.json')))
    .sort();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runCase(name: string): Promise<CaseResult> {
  process.env.TZ = 'UTC';
  const dir = join(CASES_DIR, name);
  const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as CaseSpec;
  const work = mkdtempSync(join(tmpdir(), 'sec-case-'));
  try {
    const errors: RuleError[] = [];
    const ruleFiles = readdirSync(dir)
      .filter((f) => f.endsWith('.sec'))
      .sort()
      .map((f) => readRuleFile(join(dir, f), { allowShell: !!spec.shell }, errors)!)
      .filter((f) => f !== undefined);
    let now = BASE;
    let stdout = '';
    const args = spec.sec_args ?? [];
    const engine = new SecEngine(
      ruleFiles,
      { now: () => now, workingDir: work, stdout: (t) => void (stdout += t) },
      { intevents: args.includes('--intevents'), intcontexts: args.includes('--intcontexts'), allowShell: !!spec.shell, inputName: spec.mode === 'notail' ? 'in.txt' : '-' },
    );
    engine.start();
    // SingleWithScript: sec notices the script's exit on a later loop; let children finish at directives
    const settle = async () => {
      if (!spec.shell) return;
      await sleep(150);
      engine.runDeferred();
      engine.drain();
    };
    if (spec.mode === 'notail') {
      copyFileSync(join(dir, 'in.txt'), join(work, 'in.txt'));
      const lines = readFileSync(join(dir, 'in.txt'), 'utf8').split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      for (const l of lines) engine.input(toBytes(l));
    } else {
      const lines = readFileSync(join(dir, 'scenario.txt'), 'utf8').split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      for (const line of lines) {
        const m = /^#!\s*(.*)$/.exec(line);
        if (!m) {
          engine.input(toBytes(line));
          continue;
        }
        const d = m[1]!.trim();
        if (d === '' || d.startsWith('#')) continue;
        await settle();
        if (/^\+\d+$/.test(d)) now += Number(d.slice(1));
        else if (/^@\d+$/.test(d)) now = BASE + Number(d.slice(1));
        else throw new Error(`bad directive ${line}`);
        engine.tick();
        engine.drain();
      }
      await settle();
    }
    engine.shutdown();
    const outPath = join(work, 'out.txt');
    const out = existsSync(outPath) ? readFileSync(outPath, 'latin1') : '';
    return { out: Buffer.from(out, 'latin1').toString('utf8'), stdout, errors };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function expected(name: string): { out: string; stdout: string } {
  const dir = join(CASES_DIR, name);
  const so = join(dir, 'expected-stdout.txt');
  return { out: readFileSync(join(dir, 'expected-out.txt'), 'utf8'), stdout: existsSync(so) ? readFileSync(so, 'utf8') : '' };
}
