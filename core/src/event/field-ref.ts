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

function isObject(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
  const last = path[path.length - 1]!;
  const parents = path.slice(0, -1);
  const walk = (f: Fields): Fields | undefined => {
    let cur: unknown = f;
    for (const key of parents) {
      if (Array.isArray(cur)) cur = cur[arrayIndex(cur, key)];
      else if (isObject(cur)) cur = cur[key];
      else return undefined;
    }
    return isObject(cur) || Array.isArray(cur) ? (cur as Fields) : undefined;
  };
  const lastKey = (parent: Fields): string | number => (Array.isArray(parent) ? arrayIndex(parent, last) : last);
  return {
    text,
    path,
    get: (f) => {
      const p = walk(f);
      return p === undefined ? undefined : p[lastKey(p) as string];
    },
    set: (f, v) => {
      let cur: Fields = f;
      for (const key of parents) {
        let next = cur[key];
        if (!isObject(next) && !Array.isArray(next)) {
          next = {};
          cur[key] = next;
        }
        cur = next as Fields;
      }
      cur[lastKey(cur) as string] = v;
    },
    remove: (f) => {
      const p = walk(f);
      if (p === undefined) return undefined;
      const k = lastKey(p);
      const v = p[k as string];
      if (Array.isArray(p)) {
        if (typeof k === 'number' && k >= 0 && k < p.length) p.splice(k, 1);
      } else delete p[k as string];
      return v;
    },
    has: (f) => {
      const p = walk(f);
      return p !== undefined && p[lastKey(p) as string] !== undefined;
    },
  };
}

/** Logstash accepts numeric keys into arrays, negative ones counting from the end. */
function arrayIndex(arr: unknown[], key: string): number {
  const n = Number(key);
  if (!Number.isInteger(n)) return -1;
  return n < 0 ? arr.length + n : n;
}
