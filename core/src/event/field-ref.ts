/**
 * Field references, Logstash style: `[a][b]` names a nested field, `a` a top-level one, and
 * `a.b` is one literal top-level key. A reference is compiled once into a FieldRef whose
 * get/set/remove walk a fixed path; nothing parses a path per event.
 */
export type Fields = Record<string, unknown>;

export class FieldRefError extends Error {}

export interface FieldRef {
  readonly text: string;
  readonly path: readonly string[];
  get(fields: Fields): unknown;
  set(fields: Fields, value: unknown): void;
  remove(fields: Fields): unknown;
  has(fields: Fields): boolean;
}

/** Splits `[a][b]` into ['a','b']; a bare name is one key. Throws on a malformed reference. */
export function parseFieldPath(text: string): string[] {
  if (!text.startsWith('[')) {
    if (text.length === 0) throw new FieldRefError('empty field reference');
    return [text];
  }
  const path: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '[') throw new FieldRefError(`malformed field reference '${text}'`);
    const end = text.indexOf(']', i + 1);
    if (end < 0) throw new FieldRefError(`malformed field reference '${text}': missing ']'`);
    const key = text.slice(i + 1, end);
    if (key.length === 0 || key.includes('[')) throw new FieldRefError(`malformed field reference '${text}'`);
    path.push(key);
    i = end + 1;
  }
  return path;
}

/**
 * Keys are data. A key taken from a log line (kv, json, syslog structured data...) may be
 * `__proto__`, `constructor` or `hasOwnProperty`; on a plain object these name inherited
 * properties, and `o.__proto__ = x` replaces the prototype. Every read and write of a field goes
 * through the two helpers below, which see only own properties and create `__proto__` as an
 * ordinary property, so no key can reach Object.prototype or change an event's prototype.
 */
const INHERITED: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/** The own value of `key`, never an inherited one. */
export function getField(o: Fields, key: string): unknown {
  return INHERITED.has(key) && !Object.hasOwn(o, key) ? undefined : o[key];
}

/** Sets `key` as an own, enumerable data property (for `__proto__` too). */
export function setField(o: Fields, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  else o[key] = value;
}

/** A container a reference can walk into: a plain object or an array, not a Timestamp or Buffer. */
function isObject(v: unknown): v is Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

const cache = new Map<string, FieldRef>();

/** The compiled accessor for a reference; compiled once per distinct text and cached. */
export function fieldRef(text: string): FieldRef {
  let ref = cache.get(text);
  if (ref === undefined) {
    ref = compileFieldRef(parseFieldPath(text), text);
    if (cache.size < 10_000) cache.set(text, ref);
  }
  return ref;
}

function compileFieldRef(path: string[], text: string): FieldRef {
  if (path.length === 1) {
    const k = path[0]!;
    // Most names are not Object.prototype's: their accessors need no own-property check.
    if (!INHERITED.has(k)) {
      return {
        text,
        path,
        get: (f) => f[k],
        set: (f, v) => {
          f[k] = v;
        },
        remove: (f) => {
          const v = f[k];
          delete f[k];
          return v;
        },
        has: (f) => f[k] !== undefined,
      };
    }
    return {
      text,
      path,
      get: (f) => getField(f, k),
      set: (f, v) => setField(f, k, v),
      remove: (f) => {
        const v = getField(f, k);
        if (Object.hasOwn(f, k)) delete f[k];
        return v;
      },
      has: (f) => getField(f, k) !== undefined,
    };
  }
  const last = path[path.length - 1]!;
  const parents = path.slice(0, -1);
  /** The value under `key` in a container (an array takes numeric keys), own properties only. */
  const child = (cur: Fields | unknown[], key: string): unknown =>
    Array.isArray(cur) ? cur[arrayIndex(cur, key)] : getField(cur, key);
  const walk = (f: Fields): Fields | unknown[] | undefined => {
    let cur: unknown = f;
    for (const key of parents) {
      if (Array.isArray(cur) || isObject(cur)) cur = child(cur, key);
      else return undefined;
    }
    return isObject(cur) || Array.isArray(cur) ? cur : undefined;
  };
  return {
    text,
    path,
    get: (f) => {
      const p = walk(f);
      return p === undefined ? undefined : child(p, last);
    },
    set: (f, v) => {
      let cur: Fields | unknown[] = f;
      for (const key of parents) {
        let next = child(cur, key);
        if (!isObject(next) && !Array.isArray(next)) {
          next = {};
          if (Array.isArray(cur)) {
            const i = arrayIndex(cur, key);
            if (i < 0) return; // no such element to create under: Logstash leaves the event as it is
            cur[i] = next;
          } else setField(cur, key, next);
        }
        cur = next as Fields | unknown[];
      }
      if (Array.isArray(cur)) {
        const i = arrayIndex(cur, last);
        if (i >= 0) cur[i] = v;
      } else setField(cur, last, v);
    },
    remove: (f) => {
      const p = walk(f);
      if (p === undefined) return undefined;
      const v = child(p, last);
      if (Array.isArray(p)) {
        const i = arrayIndex(p, last);
        if (i >= 0 && i < p.length) p.splice(i, 1);
      } else if (Object.hasOwn(p, last)) delete p[last];
      return v;
    },
    has: (f) => {
      const p = walk(f);
      return p !== undefined && child(p, last) !== undefined;
    },
  };
}

/** Logstash accepts numeric keys into arrays, negative ones counting from the end. */
function arrayIndex(arr: unknown[], key: string): number {
  if (!/^-?\d+$/.test(key)) return -1;
  const n = Number(key);
  return n < 0 ? arr.length + n : n;
}
