import { fieldRef, type FieldRef, type Fields } from './field-ref.js';
import { compileJoda } from './joda.js';
import { Timestamp } from './timestamp.js';

/**
 * Logstash sprintf templates: `%{field}`, `%{[a][b]}`, `%{+yyyy.MM.dd}` (Joda, UTC, of `@timestamp`)
 * and `%{+%s}` (epoch seconds). A template compiles once; a missing field leaves its `%{...}` text
 * in place, as Logstash does. A template with no `%{` is returned as is, without work per event.
 */
export interface Template {
  readonly source: string;
  /** True when the template holds at least one `%{...}`. */
  readonly dynamic: boolean;
  render(fields: Fields): string;
  /** The static text before the first reference: file outputs confine paths to it. */
  readonly staticPrefix: string;
  /** The top-level fields it reads (`@timestamp` for a date format), for `Event.fieldsForKeys`. */
  readonly keys: readonly string[];
}

type Piece = string | ((f: Fields) => string);

/** Logstash's string form of a field value inside a template. */
export function valueToString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Timestamp) return v.toISOString();
  if (Array.isArray(v)) return v.map(valueToString).join(',');
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

function timestampOf(f: Fields): number | undefined {
  const ts = f['@timestamp'];
  return ts instanceof Timestamp ? ts.ms : undefined;
}

function compilePiece(inner: string, raw: string): Piece {
  if (inner === '+%s') {
    return (f) => {
      const ms = timestampOf(f);
      return ms === undefined ? raw : String(Math.floor(ms / 1000));
    };
  }
  if (inner.startsWith('+')) {
    const fmt = compileJoda(inner.slice(1));
    return (f) => {
      const ms = timestampOf(f);
      return ms === undefined ? raw : fmt(ms);
    };
  }
  let ref: FieldRef;
  try {
    ref = fieldRef(inner);
  } catch {
    return raw;
  }
  return (f) => {
    const v = ref.get(f);
    return v === undefined || v === null ? raw : valueToString(v);
  };
}

/** The top-level field a `%{...}` reads: `@timestamp` for a date format, none for a malformed reference. */
function topKeyOf(inner: string): string | undefined {
  if (inner.startsWith('+')) return '@timestamp';
  try {
    return fieldRef(inner).path[0];
  } catch {
    return undefined;
  }
}

const cache = new Map<string, Template>();

export function compileTemplate(source: string): Template {
  const cached = cache.get(source);
  if (cached) return cached;
  const pieces: Piece[] = [];
  const keys: string[] = [];
  let i = 0;
  let staticPrefix: string | undefined;
  while (i < source.length) {
    const start = source.indexOf('%{', i);
    if (start < 0) break;
    const end = source.indexOf('}', start + 2);
    if (end < 0) break;
    if (start > i) pieces.push(source.slice(i, start));
    if (staticPrefix === undefined) staticPrefix = source.slice(0, start);
    const inner = source.slice(start + 2, end);
    pieces.push(compilePiece(inner, source.slice(start, end + 1)));
    const key = topKeyOf(inner);
    if (key !== undefined && !keys.includes(key)) keys.push(key);
    i = end + 1;
  }
  if (i < source.length) pieces.push(source.slice(i));
  const dynamic = pieces.some((p) => typeof p !== 'string');
  let render: (f: Fields) => string;
  if (!dynamic) render = () => source;
  else if (pieces.length === 1) render = pieces[0] as (f: Fields) => string;
  else
    render = (f) => {
      let out = '';
      for (let k = 0; k < pieces.length; k++) {
        const p = pieces[k]!;
        out += typeof p === 'string' ? p : p(f);
      }
      return out;
    };
  const t: Template = { source, dynamic, render, staticPrefix: staticPrefix ?? source, keys };
  if (cache.size < 10_000) cache.set(source, t);
  return t;
}
