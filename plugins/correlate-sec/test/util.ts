/** Runs a rule text over timed lines ("@N" sets the clock to BASE+N) and returns out.txt. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecEngine, type EngineHooks } from '../src/engine.js';
import { compileRuleFile, type RuleError } from '../src/rules.js';
import { toBytes } from '../src/bytes.js';

export const T0 = 1700000000;

export function runRules(rules: string, lines: string[], opts: { intevents?: boolean; intcontexts?: boolean; hooks?: Partial<EngineHooks> } = {}): { out: string; errors: RuleError[]; engine: SecEngine } {
  process.env.TZ = 'UTC';
  const work = mkdtempSync(join(tmpdir(), 'sec-unit-'));
  try {
    const errors: RuleError[] = [];
    const f = compileRuleFile(rules, join(work, 'r.sec'), {}, errors);
    let now = T0;
    const engine = new SecEngine([f], { now: () => now, workingDir: work, stdout: () => {}, ...opts.hooks }, opts);
    engine.start();
    for (const l of lines) {
      const m = /^@(\d+)$/.exec(l);
      if (m) {
        now = T0 + Number(m[1]);
        engine.tick();
        engine.drain();
      } else engine.input(toBytes(l));
    }
    engine.shutdown();
    const p = join(work, 'out.txt');
    return { out: existsSync(p) ? readFileSync(p, 'utf8') : '', errors, engine };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function tempRuleFile(text: string, name = 'r.sec'): { path: string; dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sec-rf-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return { path, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
