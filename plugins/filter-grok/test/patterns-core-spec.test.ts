/**
 * Every legacy-mode example of logstash-patterns-core's spec/patterns/*.rb, run through this grok
 * filter with ecs_compatibility disabled.
 *
 * The examples are in fixtures/patterns-core-legacy.json, transcribed from the spec files by
 * fixtures/extract-patterns-core-spec.rb (a stand-in for RSpec that records instead of running).
 * One example: `runs`, each a grok filter (`pattern` matched against the `message` field, extra
 * `options`) applied to an event holding `message`; `expect`, each an RSpec expectation on one
 * run's resulting event: `path` walks into it (`get` is Ruby's `[]`, `field` Event#get, `keys`,
 * `first`, `last`, `to_s`, `to_i`), `matcher` is the RSpec matcher and `negate` stands for
 * not_to. Expected values are JSON, except `{"$float": x}` (a Ruby Float), `{"$hash_including":
 * {...}}` and `{"$class": name}`. Matching follows RSpec's rules (values_match?: hashes by their
 * whole key set, arrays element-wise, 1 == 1.0), so a failing example fails as it would in RSpec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPlugin, optionsFromConfig, runFilter } from '@pipeline/core/testing';
import { fieldRef } from '@pipeline/core';
import grok from '../src/index.js';

interface Run {
  pattern: string;
  message: string;
  mode: 'legacy' | 'default';
  options?: Record<string, number | string>;
}
type Op = [string] | [string, string | number];
interface Expectation {
  run: number;
  path: Op[];
  matcher: Record<string, unknown>;
  negate: boolean;
}
interface Example {
  name: string;
  runs: Run[];
  expect: Expectation[];
}
interface Fixture {
  source: string;
  examples: Example[];
  skipped: { file: string; example: string; line: number; why: string }[];
}

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/patterns-core-legacy.json', import.meta.url), 'utf8')) as Fixture;

// ---- Ruby values and RSpec matching ----

const NIL = undefined;

function isHash(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function hasKey(h: Record<string, unknown>, k: unknown): boolean {
  return typeof k === 'string' && Object.prototype.hasOwnProperty.call(h, k) && h[k] !== undefined;
}

function tagged(e: unknown, tag: string): boolean {
  return isHash(e) && Object.keys(e).length === 1 && tag in e;
}

/** Ruby `==`. */
function rubyEq(exp: unknown, act: unknown): boolean {
  if (tagged(exp, '$float')) return typeof act === 'number' && act === (exp as { $float: number }).$float;
  if (exp === null) return act === null || act === NIL;
  if (Array.isArray(exp)) return Array.isArray(act) && act.length === exp.length && exp.every((x, i) => rubyEq(x, act[i]));
  if (isHash(exp)) {
    if (!isHash(act)) return false;
    const ek = Object.keys(exp);
    const ak = Object.keys(act).filter((k) => act[k] !== undefined);
    return ek.length === ak.length && ek.every((k) => hasKey(act, k) && rubyEq(exp[k], act[k]));
  }
  return exp === act;
}

/** RSpec's values_match? (FuzzyMatcher), with hash_including as the one matcher used as a value. */
function valuesMatch(exp: unknown, act: unknown): boolean {
  if (tagged(exp, '$hash_including')) {
    const want = (exp as { $hash_including: Record<string, unknown> }).$hash_including;
    return isHash(act) && Object.keys(want).every((k) => hasKey(act, k) && valuesMatch(want[k], act[k]));
  }
  if (tagged(exp, '$float')) return rubyEq(exp, act);
  if (isHash(act)) {
    if (!isHash(exp)) return false;
    const ek = Object.keys(exp);
    const ak = Object.keys(act).filter((k) => act[k] !== undefined);
    return ek.length === ak.length && ek.every((k) => hasKey(act, k) && valuesMatch(exp[k], act[k]));
  }
  if (Array.isArray(exp) && Array.isArray(act)) return exp.length === act.length && exp.every((x, i) => valuesMatch(x, act[i]));
  return rubyEq(exp, act);
}

/** The single checks of `include(...)`: one per expected item, one per key of an expected hash. */
function includeChecks(act: unknown, items: unknown[]): boolean[] | undefined {
  const out: boolean[] = [];
  for (const item of items) {
    if (isHash(act)) {
      if (isHash(item) && !tagged(item, '$hash_including')) {
        for (const [k, v] of Object.entries(item)) out.push(hasKey(act, k) && valuesMatch(v, act[k]));
      } else out.push(hasKey(act, item) || Object.keys(act).some((k) => valuesMatch(item, k)));
    } else if (Array.isArray(act)) out.push(act.some((x) => valuesMatch(item, x)));
    else if (typeof act === 'string' && typeof item === 'string') out.push(act.includes(item));
    else return undefined; // nil (or a number) does not respond to include?: the matcher fails either way
  }
  return out;
}

function rubyToS(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === NIL || v === null) return '';
  return String(v);
}

function walk(fields: Record<string, unknown>, path: Op[]): unknown {
  let cur: unknown = fields;
  for (const [op, arg] of path) {
    if (op === 'field') {
      cur = fieldRef(String(arg)).get(cur as Record<string, unknown>);
      continue;
    }
    if (cur === NIL || cur === null) throw new Error(`undefined method '${op}' for nil (path ${JSON.stringify(path)})`);
    if (op === 'get') cur = Array.isArray(cur) ? cur.at(Number(arg)) : isHash(cur) ? (hasKey(cur, arg) ? cur[arg as string] : NIL) : assert.fail(`[] on ${JSON.stringify(cur)}`);
    else if (op === 'keys') cur = isHash(cur) ? Object.keys(cur).filter((k) => (cur as Record<string, unknown>)[k] !== undefined) : assert.fail('keys on a non-hash');
    else if (op === 'first') cur = Array.isArray(cur) ? cur[0] : assert.fail('first on a non-array');
    else if (op === 'last') cur = Array.isArray(cur) ? cur[cur.length - 1] : assert.fail('last on a non-array');
    else if (op === 'to_s') cur = rubyToS(cur);
    else if (op === 'to_i') cur = typeof cur === 'number' ? Math.trunc(cur) : parseInt(String(cur), 10) || 0;
    else throw new Error(`unknown op ${op}`);
  }
  return cur;
}

/** Whether `expect(act).to(matcher)` (or `not_to` when negate) passes, as RSpec decides. */
function passes(matcher: Record<string, unknown>, act: unknown, negate: boolean): boolean {
  const [kind] = Object.keys(matcher) as [string];
  if (kind === 'include') {
    // not_to include(...) passes when none of the single checks holds
    const checks = includeChecks(act, matcher[kind] as unknown[]);
    if (checks === undefined) return false;
    return negate ? !checks.some(Boolean) : checks.every(Boolean);
  }
  return matches(kind, matcher[kind], act) !== negate;
}

function matches(kind: string, arg: unknown, act: unknown): boolean {
  switch (kind) {
    case 'eq':
    case 'eql':
      return rubyEq(arg, act);
    case 'equal':
      return arg === null ? act === NIL || act === null : act === arg;
    case 'truthy':
      return act !== NIL && act !== null && act !== false;
    case 'have_key':
      return isHash(act) && hasKey(act, arg);
    case 'start_with':
      return typeof act === 'string' && act.startsWith(String(arg));
    case 'end_with':
      return typeof act === 'string' && act.endsWith(String(arg));
    case 'pass':
      return isHash(act) && !hasKey(act, 'tags');
    default:
      throw new Error(`matcher ${kind} is not supported`);
  }
}

// ---- running the examples through the grok filter ----

/**
 * One run: the spec's options (timeout_millis 30000 unless given: patterns the backtracking proof
 * refuses, EXIM's among them, match in the guard worker), or with `direct` timeout_millis => 0
 * (everything on this thread).
 */
async function runGrok(run: Run, direct: boolean): Promise<Record<string, unknown>> {
  const given = { ...run.options, ...(direct ? { timeout_millis: 0 } : {}) };
  const extra = Object.entries(given)
    .map(([k, v]) => `${k} => ${typeof v === 'number' ? v : JSON.stringify(v)}`)
    .join('\n');
  const opts = optionsFromConfig(grok, `ecs_compatibility => disabled\n${extra}`);
  // the pattern goes in as the value Logstash's spec hands the filter, no config quoting involved
  opts.match = { message: run.pattern };
  const f = await createPlugin(grok, opts);
  try {
    const [ev] = runFilter(f, [{ message: run.message }]);
    return ev!.fields as Record<string, unknown>;
  } finally {
    await f.close?.();
  }
}

test('patterns-core spec: the fixture holds every legacy-mode example', () => {
  assert.equal(fixture.examples.length, 375);
  const files = new Set(fixture.examples.map((e) => e.name.split(':')[0]));
  assert.equal(files.size, 21);
  // what is left out, and why: xit, pending, or nothing asserted outside ECS mode
  for (const s of fixture.skipped) assert.ok(['xit', 'pending', 'no expectation in legacy mode'].includes(s.why), s.example);
});

// each example twice: with the spec's options, and matched on this thread (timeout_millis => 0)
for (const ex of fixture.examples) {
  test(`patterns-core spec ${ex.name}`, async () => {
    for (const direct of [false, true]) await check(ex, direct);
  });
}

/** Runs the example's grok runs, then checks each expectation on its run's event. */
async function check(ex: Example, direct: boolean): Promise<void> {
  const results: Record<string, unknown>[] = [];
  for (const run of ex.runs) results.push(await runGrok(run, direct));
  for (const e of ex.expect) {
    const fields = results[e.run]!;
    const act = walk(fields, e.path);
    assert.ok(
      passes(e.matcher, act, e.negate),
      `expected ${JSON.stringify(e.path)} ${e.negate ? 'not ' : ''}to ${JSON.stringify(e.matcher)}\n` +
        `  got ${JSON.stringify(act)}\n  run ${JSON.stringify(ex.runs[e.run])}${direct ? ' (timeout_millis => 0)' : ''}\n  event ${JSON.stringify(fields)}`,
    );
  }
}
