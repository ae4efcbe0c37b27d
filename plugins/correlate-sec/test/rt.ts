/**
 * A runtime for the unit tests of the engine's parts: a SecEngine on one rule file (compiled
 * from text) and a settable clock, whose `write -` lines are collected, and which can be given
 * the current event without running the rules, so that a part (a correlation type, an action)
 * can be called by itself.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { SecEngine, type EngineHooks, type EngineOptions } from '../src/engine.js';
import { compileRuleFile, type Rule, type RuleError, type RuleFile } from '../src/rules.js';
import { toBytes } from '../src/bytes.js';
import { parseActionList, type Action } from '../src/actions.js';
import type { CorrelationType } from '../src/correlation/kind.js';

export const T0 = 1700000000;
export const RULE_FILE = '/rules/t.sec';

export interface TestRt {
  engine: SecEngine;
  file: RuleFile;
  rules: Rule[];
  /** What `write -` wrote, one entry per write, without its newline. */
  out: string[];
  /** What the engine logged, as "level: message". */
  logs: string[];
  /** Seconds since T0. */
  at(sec: number): void;
  /** The current event becomes `line` (a new event: the pattern match cache is emptied). */
  event(line: string): void;
  /** An action list parsed as in rule number `ruleId` of the rule file. */
  actions(text: string, ruleId?: number): Action[];
  /** Events at seconds since T0, each given to `kind`'s match for the first rule: what it returned. */
  feed(kind: CorrelationType, events: [number, string][]): number[];
}

/** `more`: further rule files (name, text), loaded after the first, e.g. file sets for Jump; `hooks`: more engine hooks. */
export function testRuntime(ruleText: string, opts: EngineOptions & { workingDir?: string; more?: [string, string][]; hooks?: Partial<EngineHooks> } = {}): TestRt {
  process.env.TZ = 'UTC';
  const errors: RuleError[] = [];
  const file = compileRuleFile(ruleText, RULE_FILE, { allowShell: opts.allowShell }, errors);
  const others = (opts.more ?? []).map(([name, text]) => compileRuleFile(text, `/rules/${name}`, { allowShell: opts.allowShell }, errors));
  assert.deepEqual(errors, [], 'the rules compile');
  let now = T0;
  const out: string[] = [];
  const logs: string[] = [];
  const engine = new SecEngine(
    [file, ...others],
    {
      now: () => now,
      workingDir: opts.workingDir ?? tmpdir(),
      stdout: (t) => void out.push(t.replace(/\n$/, '')),
      log: (level, msg) => void logs.push(`${level}: ${msg}`),
      ...opts.hooks,
    },
    opts,
  );
  const t: TestRt = {
    engine,
    file,
    rules: file.rules,
    out,
    logs,
    at: (sec) => void (now = T0 + sec),
    event(line) {
      engine.lines.push(toBytes(line), false);
      engine.pmatch.clear();
    },
    actions: (text, ruleId = 0) => parseActionList(toBytes(text), { conffile: RULE_FILE, ruleId }),
    feed: (kind, events) =>
      events.map(([sec, line]) => {
        t.at(sec);
        t.event(line);
        return kind.match(engine, file.rules[0]!, 0);
      }),
  };
  return t;
}
