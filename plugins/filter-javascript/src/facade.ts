import { compileTemplate, deepCopy, Event, fieldRef, setField, Timestamp, type Fields, type Template } from '@pipeline/core';

/**
 * What operator code sees as `event`: Logstash's Event API (get, set, remove, include?, tag,
 * cancel, clone, to_hash, timestamp, sprintf) over core's Event. A thin class compiled once; one
 * small object per event. The core Event sits in a private field, so code reaches the event's data
 * through these methods only, and every field access goes through core's field references
 * (compiled once per distinct reference text and cached by core), where keys stay literal.
 */
export class ScriptEvent {
  readonly #e: Event;
  /** Set when the event has been handed on (emitted or returned), so it is handed on once. */
  #taken = false;

  constructor(e: Event) {
    this.#e = e;
  }

  /** The core Event behind a facade (for the filter, not reachable from operator code). */
  static unwrap(s: ScriptEvent): Event {
    return s.#e;
  }

  /** Marks a facade as handed on; false when it already was. */
  static take(s: ScriptEvent): boolean {
    if (s.#taken) return false;
    s.#taken = true;
    return true;
  }

  /** The value at a field reference (`message`, `[a][b]`), undefined when missing. */
  get(ref: string): unknown {
    return fieldRef(ref).get(this.#e.fields);
  }

  /** Sets a field (a copy of an object or array value, so no two fields share one); returns the value. */
  set(ref: string, value: unknown): unknown {
    const r = fieldRef(ref);
    if (r.path.length === 1 && r.path[0] === '@timestamp') this.#e.timestamp = toTimestamp(value);
    else this.#e.set(r, toFieldValue(value));
    return value;
  }

  /** Removes a field; returns the value it had. */
  remove(ref: string): unknown {
    return this.#e.remove(ref);
  }

  /** Logstash's `include?`: the field exists (its value may be null). */
  includes(ref: string): boolean {
    return this.#e.includes(ref);
  }

  include(ref: string): boolean {
    return this.#e.includes(ref);
  }

  /** Adds a tag once. */
  tag(tag: string): void {
    this.#e.tag(String(tag));
  }

  untag(tag: string): void {
    this.#e.untag(String(tag));
  }

  hasTag(tag: string): boolean {
    return this.#e.hasTag(String(tag));
  }

  /** A copy of the tags. */
  get tags(): string[] {
    return this.#e.tags.slice();
  }

  /** Drops the event after this filter. */
  cancel(): void {
    this.#e.cancelled = true;
  }

  uncancel(): void {
    this.#e.cancelled = false;
  }

  get cancelled(): boolean {
    return this.#e.cancelled;
  }

  /** A deep copy, `@metadata` included, as a new event (emit it, or return it from a path script's filter). */
  clone(): ScriptEvent {
    return new ScriptEvent(this.#e.clone());
  }

  /** A deep copy of the fields without `@metadata`. */
  toHash(): Fields {
    return deepCopy(this.#e.toJSON()) as Fields;
  }

  to_hash(): Fields {
    return this.toHash();
  }

  /** A deep copy of the fields with `@metadata`. */
  toHashWithMetadata(): Fields {
    return deepCopy(this.#e.fields) as Fields;
  }

  to_hash_with_metadata(): Fields {
    return this.toHashWithMetadata();
  }

  get timestamp(): Timestamp {
    return this.#e.timestamp;
  }

  /** Takes a Timestamp, a Date, epoch milliseconds or ISO-8601 text. */
  set timestamp(v: unknown) {
    this.#e.timestamp = toTimestamp(v);
  }

  /** Logstash's `sprintf`: `%{field}` and `%{+yyyy.MM.dd}` rendered against the event. */
  sprintf(template: string): string {
    return templateOf(String(template)).render(this.#e.fields);
  }

  /** What `JSON.stringify(event)` writes: the event's JSON form, without `@metadata`. */
  toJSON(): Fields {
    return this.#e.toJSON();
  }

  to_json(): string {
    return this.#e.json();
  }

  toString(): string {
    return this.#e.toString();
  }
}

const templates = new Map<string, Template>();

/** A sprintf template compiled once per distinct text (bounded, like core's field reference cache). */
function templateOf(text: string): Template {
  let t = templates.get(text);
  if (t === undefined) {
    t = compileTemplate(text);
    if (templates.size < 1000) templates.set(text, t);
  }
  return t;
}

export function toTimestamp(v: unknown): Timestamp {
  if (v instanceof Timestamp) return v;
  if (v instanceof Date) {
    const ms = v.getTime();
    if (!Number.isNaN(ms)) return new Timestamp(ms);
  } else if (typeof v === 'number' && Number.isFinite(v)) return new Timestamp(v);
  else if (typeof v === 'string') {
    const t = Timestamp.parse(v);
    if (t !== undefined) return t;
  }
  throw new TypeError(`@timestamp must be a Timestamp, a Date, epoch milliseconds or ISO-8601 text, got ${describe(v)}`);
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A value as a field holds it: strings, numbers, booleans and null as they are (undefined becomes
 * null, as Ruby's nil), a Date becomes a Timestamp (as Logstash turns a Ruby Time into one),
 * arrays and plain objects are copied with their keys as plain data. Anything else (functions,
 * BigInt, Maps, class instances, another event) cannot be written to JSON and is refused.
 */
export function toFieldValue(v: unknown): unknown {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return v;
    case 'undefined':
      return null;
    case 'object': {
      if (v === null || v instanceof Timestamp) return v;
      if (v instanceof Date) return toTimestamp(v);
      if (Array.isArray(v)) return v.map(toFieldValue);
      if (isPlain(v)) {
        const out: Fields = {};
        for (const k of Object.keys(v)) setField(out, k, toFieldValue((v as Fields)[k]));
        return out;
      }
      break;
    }
  }
  throw new TypeError(`a field cannot hold ${describe(v)}`);
}

/** A new core Event from a plain object handed to emit or returned by a path script. */
export function eventFromObject(v: object): Event {
  if (v instanceof ScriptEvent || Array.isArray(v) || !isPlain(v)) throw new TypeError(`not an event or a plain object of fields: ${describe(v)}`);
  return new Event(toFieldValue(v) as Fields);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof ScriptEvent) return 'an event';
  if (typeof v === 'object') {
    const name = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return typeof name === 'string' && name !== 'Object' ? `a ${name}` : 'an object';
  }
  if (typeof v === 'function') return 'a function';
  return typeof v === 'string' ? `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}` : `${typeof v} ${String(v)}`;
}
