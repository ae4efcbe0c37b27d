import { ConfigError, deepCopy, Event, type Fields } from '@pipeline/core';
import { placeOf, type Emit, type Script } from './compile.js';
import { describe, ScriptEvent, toFieldValue } from './facade.js';
import { handOn, messageOf, readResults } from './run.js';

/** A logger for scripts run by `-t`: their tests log nothing. */
export const SILENT_LOGGER = Object.freeze({ trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} });

interface TestCase {
  name: string;
  parameters: unknown;
  inputs: unknown[];
  expects: [string, (events: ScriptEvent[]) => unknown][];
}

function readCase(t: unknown, i: number): TestCase {
  const label = `test ${i + 1}`;
  if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new Error(`${label} is ${describe(t)}, not { name, parameters, in_event, expect }`);
  const o = t as Record<string, unknown>;
  const name = typeof o.name === 'string' ? o.name : label;
  const input = o.in_event ?? o.in_events;
  if (input === undefined) throw new Error(`test '${name}' has no in_event`);
  const inputs = Array.isArray(input) ? input : [input];
  inputs.forEach((e) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new Error(`test '${name}': in_event must be an object of fields or an array of them, got ${describe(e)}`);
  });
  const ex = o.expect;
  let expects: TestCase['expects'];
  if (typeof ex === 'function') expects = [['expect', ex as (events: ScriptEvent[]) => unknown]];
  else if (typeof ex === 'object' && ex !== null && !Array.isArray(ex)) {
    expects = Object.entries(ex as Record<string, unknown>).map(([k, f]) => {
      if (typeof f !== 'function') throw new Error(`test '${name}': expect '${k}' must be a function of the events`);
      return [k, f as (events: ScriptEvent[]) => unknown];
    });
  } else throw new Error(`test '${name}' has no expect (a function of the resulting events, or an object of them by name)`);
  return { name, parameters: o.parameters ?? {}, inputs, expects };
}

/**
 * Logstash's inline test framework for script files, in JavaScript: a script may define
 * `tests = [{ name, parameters, in_event, expect }]`. Each test loads the script afresh, calls
 * `register(parameters)`, runs `filter` on each input event and collects what it returns (and
 * emits); each `expect` function gets those events and must return a true value. Run at `-t` and at
 * start: a failing test stops the pipeline from starting, as in Logstash.
 */
export function runScriptTests(script: Script): { passed: number } {
  const fail = (msg: string) => ConfigError.forOption('path', `javascript: ${script.path}: ${msg}`);
  let tests: unknown;
  try {
    ({ tests } = script.load(SILENT_LOGGER));
  } catch (e) {
    const place = placeOf(e, script.path, script.where);
    throw fail(`loading the script failed: ${messageOf(e)}${place ? ` (at ${place})` : ''}`);
  }
  if (tests === undefined) return { passed: 0 };
  if (!Array.isArray(tests)) throw fail(`tests must be an array of { name, parameters, in_event, expect }, got ${describe(tests)}`);
  const failures: string[] = [];
  let passed = 0;
  tests.forEach((t, i) => {
    let c: TestCase;
    try {
      c = readCase(t, i);
    } catch (e) {
      failures.push(messageOf(e));
      return;
    }
    let results: ScriptEvent[];
    try {
      const parts = script.load(SILENT_LOGGER);
      parts.register?.(deepCopy(c.parameters));
      results = [];
      for (const input of c.inputs) {
        const facade = new ScriptEvent(new Event(toFieldValue(input) as Fields));
        const emitted: Event[] = [];
        const emit: Emit = (x) => void emitted.push(handOn(x, facade));
        const ordered: Event[] = [];
        readResults(parts.filter(facade, emit, emit), facade, ordered, true);
        for (const e of emitted) results.push(new ScriptEvent(e));
        for (const e of ordered) results.push(e === ScriptEvent.unwrap(facade) ? facade : new ScriptEvent(e));
      }
    } catch (e) {
      failures.push(`'${c.name}' raised: ${messageOf(e)}`);
      return;
    }
    for (const [name, f] of c.expects) {
      try {
        if (f(results)) passed++;
        else failures.push(`'${c.name}' / '${name}' failed`);
      } catch (e) {
        failures.push(`'${c.name}' / '${name}' raised: ${messageOf(e)}`);
      }
    }
  });
  if (failures.length) throw fail(`${failures.length} script test${failures.length === 1 ? '' : 's'} failed: ${failures.join('; ')}`);
  return { passed };
}
