/**
 * How `expect:` and `alerts:` entries meet events. Each entry maps field references to values;
 * the event matches when every listed field does:
 * - scalars match exactly, type included: "4242" (a string) is not 4242 (a number);
 * - `@timestamp` (or any timestamp) compares as its ISO-8601 text, e.g. 2025-12-03T10:00:00.000Z;
 * - a map matches the fields it lists (others may exist), an array matches element by element;
 * - null (`~`) matches a field that is absent (or null).
 * The lists are in order and complete: as many events as entries.
 */
import type { Event } from '../event/event.js';
import { fieldRef, type Fields } from '../event/field-ref.js';
import { Timestamp } from '../event/timestamp.js';

export interface Mismatch {
  /** `expect` or `alerts`. */
  list: string;
  /** The entry (and event) position. */
  index: number;
  /** The field reference that differs, or undefined when the counts differ. */
  field?: string;
  expected?: unknown;
  actual?: unknown;
  /** One line saying what differs. */
  message: string;
  /** The event at `index` (JSON), when there is one. */
  event?: Fields;
}

const plain = (v: unknown): unknown => (v instanceof Timestamp ? v.toISOString() : v);

function typeName(v: unknown): string {
  if (v === undefined) return 'absent';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'map' : typeof v;
}

/** How a value prints in a diff: JSON text and its type. */
export function show(v: unknown, max = 200): string {
  const p = plain(v);
  if (p === undefined) return 'nothing (field absent)';
  const text = JSON.stringify(p) ?? String(p);
  return `${text.length > max ? `${text.slice(0, max)}...` : text} (${typeName(p)})`;
}

/** The first place where `actual` differs from `expected` below `path`, or undefined. */
function differs(expected: unknown, actual: unknown, path: string): { path: string; expected: unknown; actual: unknown } | undefined {
  const a = plain(actual);
  if (expected === null) return a === undefined || a === null ? undefined : { path, expected, actual: a };
  if (Array.isArray(expected)) {
    if (!Array.isArray(a)) return { path, expected, actual: a };
    for (let i = 0; i < Math.max(expected.length, a.length); i++) {
      if (i >= expected.length || i >= a.length) return { path, expected, actual: a };
      const d = differs(expected[i], a[i], `${path}[${i}]`);
      if (d) return d.path === `${path}[${i}]` && typeof expected[i] !== 'object' ? { path, expected, actual: a } : d;
    }
    return undefined;
  }
  if (typeof expected === 'object') {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) return { path, expected, actual: a };
    for (const [k, v] of Object.entries(expected as Record<string, unknown>)) {
      const d = differs(v, Object.prototype.hasOwnProperty.call(a, k) ? (a as Record<string, unknown>)[k] : undefined, `${path}[${k}]`);
      if (d) return d;
    }
    return undefined;
  }
  return Object.is(expected, a) ? undefined : { path, expected, actual: a };
}

/** `[a][b]` for a reference given as `a` or `[a][b]`. */
const asRef = (k: string) => (k.startsWith('[') ? k : `[${k}]`);

/** The first mismatch between the entries and the events, or undefined when they all match. */
export function firstMismatch(list: string, expected: readonly Fields[], events: readonly Event[]): Mismatch | undefined {
  const n = Math.min(expected.length, events.length);
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    for (const [key, want] of Object.entries(expected[i]!)) {
      const got = e.get(fieldRef(key));
      const d = differs(want, got, asRef(key));
      if (d)
        return {
          list,
          index: i,
          field: d.path,
          expected: d.expected,
          actual: plain(d.actual),
          message: `${list}[${i}] ${d.path}: expected ${show(d.expected)}, got ${show(d.actual)}`,
          event: e.toJSON() as Fields,
        };
    }
  }
  if (expected.length === events.length) return undefined;
  const what = list === 'alerts' ? 'alert' : 'event';
  const counted = `expected ${expected.length} ${what}${expected.length === 1 ? '' : 's'}, got ${events.length}`;
  if (events.length > expected.length) {
    const extra = events[expected.length]!;
    return { list, index: expected.length, message: `${list}: ${counted}; the first unexpected one is ${list}[${expected.length}]`, event: extra.toJSON() as Fields };
  }
  return { list, index: events.length, message: `${list}: ${counted}; nothing matched ${list}[${events.length}] ${JSON.stringify(expected[events.length])}` };
}
