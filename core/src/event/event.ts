import { fieldRef, setField, type FieldRef, type Fields } from './field-ref.js';
import { Timestamp } from './timestamp.js';

/**
 * One log event: a plain object of fields plus Logstash's special ones. `@timestamp` is a
 * Timestamp, `@metadata` is kept on the event but never serialised, `tags` is an array of strings.
 * Accessors take a field reference text (compiled once, cached) or a precompiled FieldRef.
 */
export class Event {
  readonly fields: Fields;
  /** Set by a filter (drop) to stop the event from going further. */
  cancelled = false;
  /**
   * The JSON text of `toJSON()`, made by `json()` and kept while the event is unchanged, so that
   * SEC's `match_json_lines` and a json_lines output share one encoding. Every mutator below
   * drops it; the executor also drops it after each filter that may write `fields` directly.
   */
  private jsonText: string | undefined = undefined;

  constructor(fields: Fields = {}, timestamp?: Timestamp) {
    this.fields = fields;
    const ts = fields['@timestamp'];
    if (!(ts instanceof Timestamp)) {
      const parsed = typeof ts === 'string' ? Timestamp.parse(ts) : typeof ts === 'number' ? new Timestamp(ts) : undefined;
      fields['@timestamp'] = parsed ?? timestamp ?? Timestamp.now();
    }
    if (fields['@version'] === undefined) fields['@version'] = '1';
  }

  get timestamp(): Timestamp {
    return this.fields['@timestamp'] as Timestamp;
  }

  set timestamp(ts: Timestamp) {
    this.jsonText = undefined;
    this.fields['@timestamp'] = ts;
  }

  get(ref: string | FieldRef): unknown {
    return (typeof ref === 'string' ? fieldRef(ref) : ref).get(this.fields);
  }

  set(ref: string | FieldRef, value: unknown): void {
    this.jsonText = undefined;
    (typeof ref === 'string' ? fieldRef(ref) : ref).set(this.fields, value);
  }

  remove(ref: string | FieldRef): unknown {
    this.jsonText = undefined;
    return (typeof ref === 'string' ? fieldRef(ref) : ref).remove(this.fields);
  }

  includes(ref: string | FieldRef): boolean {
    return (typeof ref === 'string' ? fieldRef(ref) : ref).has(this.fields);
  }

  get metadata(): Fields {
    let m = this.fields['@metadata'] as Fields | undefined;
    if (m === undefined) {
      m = {};
      this.fields['@metadata'] = m;
    }
    return m;
  }

  get tags(): string[] {
    const t = this.fields.tags;
    return Array.isArray(t) ? (t as string[]) : typeof t === 'string' ? [t] : [];
  }

  hasTag(tag: string): boolean {
    const t = this.fields.tags;
    return Array.isArray(t) ? t.includes(tag) : t === tag;
  }

  /** Adds a tag once, as Logstash's `add_tag` does. */
  tag(tag: string): void {
    this.jsonText = undefined;
    const t = this.fields.tags;
    if (t === undefined || t === null) this.fields.tags = [tag];
    else if (Array.isArray(t)) {
      if (!t.includes(tag)) t.push(tag);
    } else if (t !== tag) this.fields.tags = [t, tag];
  }

  untag(tag: string): void {
    this.jsonText = undefined;
    const t = this.fields.tags;
    if (Array.isArray(t)) {
      const i = t.indexOf(tag);
      if (i >= 0) t.splice(i, 1);
    } else if (t === tag) this.fields.tags = [];
  }

  /** A deep copy: filters that fork events (clone, split) use it. */
  clone(): Event {
    return new Event(deepCopy(this.fields) as Fields);
  }

  /**
   * The event as one JSON text (what `JSON.stringify(event)` gives), computed at most once while
   * the event is unchanged. Code that writes `fields` or a nested value directly, rather than
   * through set/remove/tag/untag, must call `changed()` afterwards.
   */
  json(): string {
    return (this.jsonText ??= JSON.stringify(this));
  }

  /** Drops the cached JSON text after a direct write to `fields`. */
  changed(): void {
    this.jsonText = undefined;
  }

  /** The serialisable view: every field but `@metadata`. */
  toJSON(): Fields {
    if (this.fields['@metadata'] === undefined) return this.fields;
    const out: Fields = {};
    for (const k in this.fields) if (k !== '@metadata') setField(out, k, this.fields[k]);
    return out;
  }

  /** Logstash's `event.to_s`: timestamp, host and message (what plain and line codecs write by default). */
  toString(): string {
    const host = this.fields.host;
    const hostText = host === undefined || host === null ? '%{host}' : typeof host === 'object' ? JSON.stringify(host) : String(host);
    const message = this.fields.message;
    return `${this.timestamp.toISOString()} ${hostText} ${message === undefined || message === null ? '%{message}' : String(message)}`;
  }
}

export function deepCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(deepCopy);
  if (v instanceof Timestamp) return v;
  if (typeof v === 'object' && v !== null) {
    const out: Fields = {};
    for (const k of Object.keys(v)) setField(out, k, deepCopy((v as Fields)[k]));
    return out;
  }
  return v;
}
