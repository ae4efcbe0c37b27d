import { createHash } from 'node:crypto';
import type { Fields } from '@pipeline/core';
import type { RenderedMail } from './mail.js';

/**
 * The idempotency key of one event's mail: a hash of the event's fields (without the ones named
 * volatile, `@metadata` by default: they change when the same event is delivered again) and of
 * the rendered mail. The spool remembers delivered keys, so an event the pipeline hands over again
 * after a crash or a retry does not send the same mail twice. `@timestamp` stays in: two alerts
 * alike in every other field but raised at different times are two mails.
 */
export function mailKey(fields: Fields, mail: RenderedMail, volatile: ReadonlySet<string>): string {
  const h = createHash('sha256');
  h.update(canonical(fields, volatile));
  h.update('\u0000');
  h.update(canonical(mail as unknown as Fields, EMPTY));
  return h.digest('base64url');
}

const EMPTY: ReadonlySet<string> = new Set();

/** JSON with object keys sorted, so the same fields always hash the same. */
function canonical(v: unknown, skip: ReadonlySet<string>): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => canonical(x, EMPTY)).join(',')}]`;
  const keys = Object.keys(v).filter((k) => !skip.has(k)).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k], EMPTY)}`).join(',')}}`;
}
