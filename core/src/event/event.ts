import { fieldRef, setField, type FieldRef, type Fields } from './field-ref.js';
import { Timestamp } from './timestamp.js';

/** Set while `fromWire` constructs, so the constructor leaves the fields to be parsed later. */
let wiring = false;

/**
 * One log event: a plain object of fields plus Logstash's special ones. `@timestamp` is a
 * Timestamp, `@metadata` is kept on the event but never serialised, `tags` is an array of strings.
 * Accessors take a field reference text (compiled once, cached) or a precompiled FieldRef.
 */
export class Event {
  private own: Fields | undefined;
  /** A wire-form event's `@metadata` JSON text, parsed with the rest on first access to `fields`. */
  private wireMetadata: string | undefined = undefined;
  /**
   * A wire-form event's values of the top-level fields the pipeline thread reads (conditions and
   * templates of the correlate and output sections), so routing an event need not parse it all;
   * `hintKeys` are the names it covers, present in the event or not.
   */
  private hints: Fields | undefined = undefined;
  private hintKeys: ReadonlySet<string> | undefined = undefined;
  /** Set by a filter (drop) to stop the event from going further. */
  cancelled = false;
  /**
   * The JSON text of `toJSON()`, made by `json()` and kept while the event is unchanged, so that
   * SEC's `match_json_lines` and a json_lines output share one encoding. Every mutator below
   * drops it; the executor also drops it after each filter that may write `fields` directly.
   */
  private jsonText: string | undefined = undefined;

  constructor(fields: Fields = {}, timestamp?: Timestamp) {
    if (wiring) {
      this.own = undefined;
      return;
    }
    this.own = fields;
    normalise(fields, timestamp);
  }

  /**
   * An event that arrives as text from a filter worker thread: `json` is its `json()` text (which
   * outputs and SEC's match_json_lines then use as is), `metadata` the JSON of its `@metadata`,
   * if any. The fields are parsed only when something reads them. Values keep their JSON form:
   * a Timestamp other than `@timestamp` arrives as its ISO text.
   */
  static fromWire(json: string, metadata: string | undefined, hints?: Fields, hintKeys?: ReadonlySet<string>): Event {
    wiring = true;
    let e: Event;
    try {
      e = new Event();
    } finally {
      wiring = false;
    }
    e.jsonText = json;
    e.wireMetadata = metadata;
    e.hints = hints;
    e.hintKeys = hintKeys;
    return e;
  }

  /** The fields, as a plain object that filters read and write directly (then calling `changed()`). */
  get fields(): Fields {
    return this.own ?? this.parseWire();
  }

  /**
   * Something to read the top-level field `key` (and below it) from, never to write to: the
   * fields, or for a wire-form event not yet parsed, its hints when they cover `key`.
   */
  fieldsFor(key: string): Fields {
    if (this.own !== undefined) return this.own;
    return this.hintKeys !== undefined && this.hintKeys.has(key) ? this.hints! : this.parseWire();
  }

  /** As `fieldsFor`, for several top-level fields (a template's `keys`). */
  fieldsForKeys(keys: readonly string[]): Fields {
    if (this.own !== undefined) return this.own;
    const covered = this.hintKeys;
    if (covered === undefined) return this.parseWire();
    for (let i = 0; i < keys.length; i++) if (!covered.has(keys[i]!)) return this.parseWire();
    return this.hints!;
  }

  private parseWire(): Fields {
    const fields = JSON.parse(this.jsonText!) as Fields;
    if (this.wireMetadata !== undefined) fields['@metadata'] = JSON.parse(this.wireMetadata);
    normalise(fields, undefined);
    this.own = fields;
    this.hints = undefined;
    return fields;
  }

  /** The JSON text of `@metadata` (undefined when there is none), which `json()` leaves out: with it, another thread rebuilds the whole event. */
  metadataJson(): string | undefined {
    if (this.own === undefined) return this.wireMetadata;
    const meta = this.own['@metadata'];
    return meta === undefined ? undefined : JSON.stringify(meta);
  }

  get timestamp(): Timestamp {
    return this.fields['@timestamp'] as Timestamp;
  }

  set timestamp(ts: Timestamp) {
    const f = this.fields;
    this.jsonText = undefined;
    f['@timestamp'] = ts;
  }

  get(ref: string | FieldRef): unknown {
    return (typeof ref === 'string' ? fieldRef(ref) : ref).get(this.fields);
  }

  set(ref: string | FieldRef, value: unknown): void {
    const f = this.fields;
    this.jsonText = undefined;
    (typeof ref === 'string' ? fieldRef(ref) : ref).set(f, value);
  }

  remove(ref: string | FieldRef): unknown {
    const f = this.fields;
    this.jsonText = undefined;
    return (typeof ref === 'string' ? fieldRef(ref) : ref).remove(f);
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
    const f = this.fields;
    this.jsonText = undefined;
    const t = f.tags;
    if (t === undefined || t === null) f.tags = [tag];
    else if (Array.isArray(t)) {
      if (!t.includes(tag)) t.push(tag);
    } else if (t !== tag) f.tags = [t, tag];
  }

  untag(tag: string): void {
    const f = this.fields;
    this.jsonText = undefined;
    const t = f.tags;
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
    // a wire-form event not yet parsed cannot have been written: its text is still right
    if (this.own !== undefined) this.jsonText = undefined;
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

/** `@timestamp` as a Timestamp (parsed from ISO text or epoch ms, else `timestamp` or now), `@version` set. */
function normalise(fields: Fields, timestamp: Timestamp | undefined): void {
  const ts = fields['@timestamp'];
  if (!(ts instanceof Timestamp)) {
    const parsed = typeof ts === 'string' ? Timestamp.parse(ts) : typeof ts === 'number' ? new Timestamp(ts) : undefined;
    fields['@timestamp'] = parsed ?? timestamp ?? Timestamp.now();
  }
  if (fields['@version'] === undefined) fields['@version'] = '1';
}
