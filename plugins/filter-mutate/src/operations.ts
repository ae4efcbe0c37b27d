/**
 * Each mutate operation compiles, at create(), into a function of an event. Field references,
 * sprintf templates and gsub regexes are built here once; the functions only walk fixed paths.
 * An operation throws on an error Logstash treats as fatal to the mutate (tag_on_failure).
 */
import { compileTemplate, deepCopy, fieldRef, setField, type Event, type FieldRef, type Template } from '@pipeline/core';
import { converter, type Conversion } from './convert.js';
import { compileRubyReplacement, rubyGsub, type Replacer } from './ruby-replacement.js';
import { translateRubyRegex } from './ruby-regex.js';
import { rubyCapitalize, rubyJoin, rubySplit, rubyStrip } from './ruby-string.js';

export type Operation = (event: Event) => void;

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

/** A field name that may itself be a template (`field_%{x}`): static ones resolve once. */
function dynamicRef(name: string): (e: Event) => FieldRef {
  const t = compileTemplate(name);
  if (!t.dynamic) {
    const ref = fieldRef(name);
    return () => ref;
  }
  return (e) => fieldRef(t.render(e.fields));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

export function coerce(map: Record<string, unknown>): Operation {
  const ops = Object.entries(map).map(([f, v]) => [fieldRef(f), compileTemplate(str(v))] as const);
  return (e) => {
    for (const [ref, t] of ops) if (ref.get(e.fields) === null) ref.set(e.fields, t.render(e.fields));
  };
}

export function rename(map: Record<string, unknown>): Operation {
  const ops = Object.entries(map).map(([from, to]) => [dynamicRef(from), dynamicRef(str(to))] as const);
  return (e) => {
    for (const [from, to] of ops) {
      const src = from(e);
      if (!src.has(e.fields)) continue;
      const dst = to(e);
      dst.set(e.fields, src.remove(e.fields));
    }
  };
}

export function update(map: Record<string, unknown>): Operation {
  const ops = Object.entries(map).map(([f, v]) => [fieldRef(f), compileTemplate(str(v))] as const);
  return (e) => {
    for (const [ref, t] of ops) if (ref.get(e.fields) !== undefined) ref.set(e.fields, t.render(e.fields));
  };
}

export function replace(map: Record<string, unknown>): Operation {
  const ops = Object.entries(map).map(([f, v]) => [fieldRef(f), compileTemplate(str(v))] as const);
  return (e) => {
    for (const [ref, t] of ops) ref.set(e.fields, t.render(e.fields));
  };
}

export function convert(map: Record<string, unknown>): Operation {
  const ops = Object.entries(map).map(([f, type]) => [fieldRef(f), converter(type as Conversion)] as const);
  return (e) => {
    for (const [ref, conv] of ops) {
      const v = ref.get(e.fields);
      if (v === undefined || v === null || isPlainObject(v)) continue;
      if (Array.isArray(v)) ref.set(e.fields, v.map((x) => (x === null || x === undefined ? x : conv(x))));
      else ref.set(e.fields, conv(v));
    }
  };
}

interface GsubRule {
  ref: FieldRef;
  /** The compiled needle, or a template rendered per event when it holds `%{...}`. */
  needle: RegExp | Template;
  /** The compiled replacement, or a template rendered per event. */
  replacement: Replacer | string | Template;
}

export function gsub(triples: unknown[]): Operation {
  const rules: GsubRule[] = [];
  for (let i = 0; i < triples.length; i += 3) {
    const [field, needle, repl] = [str(triples[i]), str(triples[i + 1]), str(triples[i + 2])];
    const rt = compileTemplate(repl);
    rules.push({
      ref: fieldRef(field),
      needle: needle.includes('%{') ? compileTemplate(needle) : translateRubyRegex(needle),
      replacement: rt.dynamic ? rt : compileRubyReplacement(repl),
    });
  }
  // Per-event regexes (needles with %{...}) are cached by their rendered text, bounded.
  const dynamicCache = new Map<string, RegExp>();
  const regexFor = (t: Template, e: Event): RegExp => {
    const src = t.render(e.fields);
    let re = dynamicCache.get(src);
    if (!re) {
      re = translateRubyRegex(src);
      if (dynamicCache.size >= 1000) dynamicCache.clear();
      dynamicCache.set(src, re);
    }
    return re;
  };
  return (e) => {
    for (const r of rules) {
      const v = r.ref.get(e.fields);
      if (typeof v !== 'string' && !Array.isArray(v)) continue;
      const re = r.needle instanceof RegExp ? r.needle : regexFor(r.needle, e);
      const rep = typeof r.replacement === 'object' ? compileRubyReplacement(r.replacement.render(e.fields)) : r.replacement;
      if (typeof v === 'string') r.ref.set(e.fields, rubyGsub(v, re, rep));
      else r.ref.set(e.fields, v.map((x) => (typeof x === 'string' ? rubyGsub(x, re, rep) : x)));
    }
  };
}

function caseOp(fields: unknown[], fn: (s: string) => string): Operation {
  const refs = fields.map((f) => fieldRef(str(f)));
  return (e) => {
    for (const ref of refs) {
      const v = ref.get(e.fields);
      if (typeof v === 'string') ref.set(e.fields, fn(v));
      else if (Array.isArray(v)) ref.set(e.fields, v.map((x) => (typeof x === 'string' ? fn(x) : x)));
    }
  };
}

export const uppercase = (fields: unknown[]): Operation => caseOp(fields, (s) => s.toUpperCase());
export const lowercase = (fields: unknown[]): Operation => caseOp(fields, (s) => s.toLowerCase());
export const capitalize = (fields: unknown[]): Operation => caseOp(fields, rubyCapitalize);

export function strip(fields: unknown[]): Operation {
  const refs = fields.map((f) => fieldRef(str(f)));
  return (e) => {
    for (const ref of refs) {
      const v = ref.get(e.fields);
      if (typeof v === 'string') ref.set(e.fields, rubyStrip(v));
      else if (Array.isArray(v))
        ref.set(
          e.fields,
          v.map((x) => {
            // Logstash calls strip on every element; anything but a string fails the mutate.
            if (typeof x !== 'string') throw new Error(`strip: element of '${ref.text}' is not a string`);
            return rubyStrip(x);
          }),
        );
    }
  };
}

export function split(map: Record<string, unknown>): Operation {
  const ops = Object.entries(map).map(([f, sep]) => [fieldRef(f), str(sep)] as const);
  return (e) => {
    for (const [ref, sep] of ops) {
      const v = ref.get(e.fields);
      if (typeof v === 'string') ref.set(e.fields, rubySplit(v, sep));
    }
  };
}

export function join(map: Record<string, unknown>): Operation {
  const ops = Object.entries(map).map(([f, sep]) => [fieldRef(f), str(sep)] as const);
  return (e) => {
    for (const [ref, sep] of ops) {
      const v = ref.get(e.fields);
      if (Array.isArray(v)) ref.set(e.fields, rubyJoin(v, sep));
    }
  };
}

/** Ruby's Array(): nil → [], an array as is, anything else wrapped. */
const toArray = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

export function merge(map: Record<string, unknown>, warn: (msg: string) => void): Operation {
  const ops = Object.entries(map).map(([dest, added]) => [fieldRef(dest), toArray(added).map((a) => fieldRef(str(a)))] as const);
  return (e) => {
    for (const [dest, addedRefs] of ops) {
      for (const addedRef of addedRefs) {
        const d = dest.get(e.fields);
        const a = addedRef.get(e.fields);
        if (isPlainObject(d) !== isPlainObject(a)) {
          warn(`merge: cannot merge an array and a hash ('${dest.text}' and '${addedRef.text}')`);
          continue;
        }
        if (isPlainObject(d)) {
          // not Object.assign: a `__proto__` key from the data would replace d's prototype
          for (const k of Object.keys(a as Record<string, unknown>)) setField(d, k, (a as Record<string, unknown>)[k]);
          dest.set(e.fields, d);
        }
        else dest.set(e.fields, [...toArray(d), ...toArray(a)]);
      }
    }
  };
}

export function copy(map: Record<string, unknown>): Operation {
  const ops = Object.entries(map).map(([src, dst]) => [fieldRef(src), fieldRef(str(dst))] as const);
  return (e) => {
    for (const [src, dst] of ops) {
      const v = src.get(e.fields);
      if (v === undefined || v === null) continue;
      dst.set(e.fields, deepCopy(v));
    }
  };
}
