import { Timestamp } from '@pipeline/core';

// ISO-8601 as Logstash's Timestamp accepts it: a date, optionally a time (T or space), optional
// fraction and offset. A time without an offset is UTC.
const ISO_RE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Reads a JSON `@timestamp` value; undefined when it is not an ISO-8601 string. */
export function parseEventTimestamp(v: unknown): Timestamp | undefined {
  if (typeof v !== 'string') return undefined;
  const m = ISO_RE.exec(v);
  if (!m) return undefined;
  let off = m[3] ?? 'Z';
  if (/^[+-]\d{2}$/.test(off)) off += ':00';
  else if (/^[+-]\d{4}$/.test(off)) off = off.slice(0, 3) + ':' + off.slice(3);
  let time = m[2] ?? '00:00:00';
  time = time.replace(',', '.');
  // JavaScript's Date reads at most milliseconds reliably: cut the fraction there.
  time = time.replace(/\.(\d{1,3})\d*$/, '.$1');
  const ms = Date.parse(`${m[1]}T${time}${off}`);
  return Number.isNaN(ms) ? undefined : new Timestamp(ms);
}
