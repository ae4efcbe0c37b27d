/**
 * The test-case file of `pipeline test` (YAML):
 *
 *   config: pipelines/default.conf          # or config_string: "filter { ... }"
 *   cases:
 *     - name: invalid user raises a warning alert
 *       start: 2025-12-03T10:00:00Z         # optional: the clock's start
 *       fields: { type: syslog, tags: [syslog] }   # set on every input event, as an input would
 *       input:                              # a string is a message, a map a whole event, {after: 90s} moves the clock
 *         - "<38>Dec  3 10:00:00 web1 sshd[4242]: Failed password for invalid user bob from 198.51.100.7 port 22 ssh2"
 *       expect:                             # events leaving the filter section, in order
 *         - { syslog_program: sshd, syslog_pid: "4242" }
 *       alerts:                             # events tagged alert or heartbeat the correlate section raised
 *         - { "[alert][resource]": web1 }
 *
 * Anything else is refused with its line, as a config's unknown option is.
 */
import type { Fields } from '../event/field-ref.js';

export type InputItem = { kind: 'message'; message: string } | { kind: 'event'; fields: Fields } | { kind: 'after'; ms: number };

export interface TestCase {
  name: string;
  /** Line of the case in its file. */
  line: number;
  start?: number;
  fields: Fields;
  input: InputItem[];
  expect?: Fields[];
  alerts?: Fields[];
}

export interface TestFile {
  file: string;
  config?: string;
  configString?: string;
  cases: TestCase[];
}

export class CaseFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${reason}`);
  }
}

const FILE_KEYS = ['config', 'config_string', 'cases'];
const CASE_KEYS = ['name', 'start', 'fields', 'input', 'expect', 'alerts'];
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `5m`, `1.5h`, `2d`, `250ms`; a bare number is seconds. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v * 1000 : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  return m ? Number(m[1]) * UNITS[m[2] ?? 's']! : undefined;
}

/** An instant given as ISO-8601 text (or epoch milliseconds). */
export function parseInstant(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function parseCaseFile(file: string, text: string): Promise<TestFile> {
  const YAML = await import('yaml');
  const lc = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new CaseFileError(file, lc.linePos(e.pos[0]).line, e.message.split('\n')[0]!);
  }
  const lineOf = (node: unknown): number | undefined => {
    const r = (node as { range?: [number, number, number] } | null)?.range;
    return r ? lc.linePos(r[0]).line : undefined;
  };
  const root = doc.contents;
  const top = doc.toJS() as unknown;
  if (!isMap(top)) throw new CaseFileError(file, 1, 'expected a map with config: and cases:');
  const pairLine = (map: unknown, key: string): number | undefined => {
    const items = (map as { items?: { key: unknown; value: unknown }[] } | null)?.items ?? [];
    const pair = items.find((p) => (p.key as { value?: unknown })?.value === key);
    return pair ? lineOf(pair.key) : lineOf(map);
  };
  for (const k of Object.keys(top)) if (!FILE_KEYS.includes(k)) throw new CaseFileError(file, pairLine(root, k), `unknown key '${k}' (known: ${FILE_KEYS.join(', ')})`);
  const config = top.config;
  const configString = top.config_string;
  if ((config === undefined) === (configString === undefined)) throw new CaseFileError(file, lineOf(root), 'give the config under test: config: PATH, or config_string: TEXT');
  if (config !== undefined && typeof config !== 'string') throw new CaseFileError(file, pairLine(root, 'config'), 'config: is a path');
  if (configString !== undefined && typeof configString !== 'string') throw new CaseFileError(file, pairLine(root, 'config_string'), 'config_string: is the config text');
  if (!Array.isArray(top.cases) || top.cases.length === 0) throw new CaseFileError(file, pairLine(root, 'cases'), 'cases: is a list of cases, at least one');
  const caseNodes = ((root as { get?: (k: string, keep: boolean) => unknown }).get?.('cases', true) as { items?: unknown[] } | undefined)?.items ?? [];
  const cases = (top.cases as unknown[]).map((c, i) => parseCase(file, c, caseNodes[i], lineOf, pairLine));
  const names = new Set<string>();
  for (const c of cases) {
    if (names.has(c.name)) throw new CaseFileError(file, c.line, `two cases are named '${c.name}'`);
    names.add(c.name);
  }
  return { file, config: config as string | undefined, configString: configString as string | undefined, cases };
}

function parseCase(file: string, c: unknown, node: unknown, lineOf: (n: unknown) => number | undefined, pairLine: (m: unknown, k: string) => number | undefined): TestCase {
  const line = lineOf(node) ?? 1;
  if (!isMap(c)) throw new CaseFileError(file, line, 'a case is a map with name:, input: and expect: or alerts:');
  const at = (k: string) => pairLine(node, k) ?? line;
  for (const k of Object.keys(c)) if (!CASE_KEYS.includes(k)) throw new CaseFileError(file, at(k), `unknown key '${k}' in a case (known: ${CASE_KEYS.join(', ')})`);
  if (typeof c.name !== 'string' || c.name.trim() === '') throw new CaseFileError(file, line, 'a case needs a name:');
  const name = c.name;
  let start: number | undefined;
  if (c.start !== undefined) {
    start = parseInstant(c.start);
    if (start === undefined) throw new CaseFileError(file, at('start'), `start: is an ISO-8601 time, e.g. 2025-12-03T10:00:00Z (got ${JSON.stringify(c.start)})`);
  }
  if (c.fields !== undefined && !isMap(c.fields)) throw new CaseFileError(file, at('fields'), 'fields: is a map of field names to values');
  if (!Array.isArray(c.input)) throw new CaseFileError(file, at('input'), `case '${name}': input: is a list of messages, events and {after: DURATION}`);
  const inputNodes = ((node as { get?: (k: string, keep: boolean) => unknown }).get?.('input', true) as { items?: unknown[] } | undefined)?.items ?? [];
  const input = c.input.map((item, i): InputItem => {
    const where = lineOf(inputNodes[i]) ?? at('input');
    if (typeof item === 'string') return { kind: 'message', message: item };
    if (isMap(item)) {
      if ('after' in item) {
        const ms = parseDuration(item.after);
        if (Object.keys(item).length !== 1 || ms === undefined) throw new CaseFileError(file, where, `{after: DURATION} moves the clock: a number of seconds or 90s, 5m, 2h, 1d, 250ms (got ${JSON.stringify(item)})`);
        return { kind: 'after', ms };
      }
      if ('@timestamp' in item && parseInstant(item['@timestamp']) === undefined) throw new CaseFileError(file, where, `@timestamp is an ISO-8601 time (got ${JSON.stringify(item['@timestamp'])})`);
      return { kind: 'event', fields: item as Fields };
    }
    throw new CaseFileError(file, where, `an input item is a message (string), an event (map) or {after: DURATION} (got ${JSON.stringify(item)})`);
  });
  const list = (k: 'expect' | 'alerts'): Fields[] | undefined => {
    const v = c[k];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every(isMap)) throw new CaseFileError(file, at(k), `${k}: is a list of maps of field references to values ([] for none)`);
    return v as Fields[];
  };
  const expect = list('expect');
  const alerts = list('alerts');
  if (expect === undefined && alerts === undefined) throw new CaseFileError(file, line, `case '${name}' checks nothing: give expect: or alerts: (or both)`);
  return { name, line, start, fields: (c.fields as Fields | undefined) ?? {}, input, expect, alerts };
}
