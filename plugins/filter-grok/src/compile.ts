/**
 * One grok expression → one JS RegExp and a capture plan, both built at load.
 * The plan follows jls-grok/Logstash: distinct group names in order of first appearance, each
 * with its group numbers ascending; the name splits on ':' into [pattern, field, type]; `int` and
 * `float` coerce with Ruby's to_i/to_f; values land through Logstash's merge rules (§4).
 */
import { fieldRef, type FieldRef, type Fields } from '@pipeline/core';
import { expandPattern } from './expand.js';
import { RepeatFixer, type RepeatLoop } from './onig/repeat.js';
import { translate, type Translation } from './onig/translate.js';
import { rubyToF, rubyToI } from './ruby-numbers.js';

export interface CaptureSlot {
  /** The field as the pattern names it (used for `overwrite`). */
  readonly field: string;
  readonly ref: FieldRef;
  readonly coerce: ((s: string) => number) | undefined;
  /** JS group numbers holding this name, ascending. */
  readonly indices: readonly number[];
  readonly overwrite: boolean;
}

export interface CompiledGrok {
  readonly pattern: string;
  readonly regex: RegExp;
  readonly slots: readonly CaptureSlot[];
  /** Text every match contains: when the input lacks it the regex cannot match (checked first). */
  readonly literal: string | undefined;
  /** How many groups captureGroups(slots) lists (offsets the match worker sends back). */
  readonly groupCount: number;
  /** Repeated groups holding named groups (Oniguruma keeps their last set values; see onig/repeat.ts). */
  readonly repeats: readonly RepeatLoop[];
  /** Their fix, undefined when the pattern has none (the usual case: nothing extra per match). */
  readonly repeat: RepeatFixer | undefined;
}

export interface CompileOptions {
  namedCapturesOnly: boolean;
  target: string | undefined;
  overwrite: ReadonlySet<string>;
}

function targetField(field: string, target: string | undefined): string {
  if (target === undefined) return field;
  const t = target.startsWith('[') ? target : `[${target}]`;
  return field.startsWith('[') ? t + field : `${t}[${field}]`;
}

/**
 * Translations by structure: the expanded pattern with its group names replaced by placeholders in
 * order of first appearance. Grok blocks that differ only in their field names (a common shape of
 * big configs) then translate once; the JS source holds no names (the plan maps group numbers).
 */
const translations = new Map<string, Translation>();
const GROUP_NAME = /\(\?<([^=!>][^>]*)>/g;

function translateByStructure(expanded: string, patternName: string): Translation {
  // named backreferences and other name syntaxes refer to the names: translate as is
  if (expanded.includes('\\k') || expanded.includes('\\g') || expanded.includes("(?'")) return translate(expanded, patternName);
  const names: string[] = [];
  const index = new Map<string, number>();
  const key = expanded.replace(GROUP_NAME, (_, name: string) => {
    let i = index.get(name);
    if (i === undefined) {
      i = names.length;
      index.set(name, i);
      names.push(name);
    }
    return `(?<n${i}>`;
  });
  let t = translations.get(key);
  if (t === undefined) {
    t = translate(key, patternName);
    if (translations.size >= 2048) translations.clear();
    translations.set(key, t);
  }
  return { ...t, names: t.names.map((n) => ({ name: names[Number(n.name.slice(1))]!, indices: n.indices })) };
}

export function compileGrok(pattern: string, library: Map<string, string>, opts: CompileOptions): CompiledGrok {
  const expanded = expandPattern(pattern, library, opts.namedCapturesOnly);
  const t = translateByStructure(expanded, JSON.stringify(pattern));
  const slots: CaptureSlot[] = [];
  for (const { name, indices } of t.names) {
    const parts = name.split(':');
    const field = parts.length >= 2 ? parts[1]! : parts[0]!;
    const type = parts[2];
    const coerce = type === 'int' ? rubyToI : type === 'float' ? rubyToF : undefined;
    const full = targetField(field, opts.target);
    slots.push({ field, ref: fieldRef(full), coerce, indices, overwrite: opts.overwrite.has(field) || opts.overwrite.has(full) });
  }
  const literal = t.requiredLiteral !== undefined && t.requiredLiteral.length >= 2 ? t.requiredLiteral : undefined;
  const repeat = t.repeats.length > 0 ? new RepeatFixer(t.repeats, t.source, t.flags) : undefined;
  return { pattern, regex: new RegExp(t.source, t.flags), slots, literal, groupCount: captureGroups(slots).length, repeats: t.repeats, repeat };
}

/** Runs the pattern on the input as Logstash would: the match, with repeated groups' captures fixed. */
export function execGrok(g: CompiledGrok, input: string): RegExpExecArray | null {
  const m = g.regex.exec(input);
  if (m !== null && g.repeat !== undefined) g.repeat.fixMatch(input, m);
  return m;
}

/**
 * Writes one successful match's captures into the event fields (Logstash `handle`): nil skipped,
 * "" skipped unless keepEmpty (checked after coercion), overwrite sets, otherwise nil → set,
 * Array → append, String → [old, new], any other existing value keeps and drops the new one.
 */
export function applyCaptures(m: RegExpExecArray, slots: readonly CaptureSlot[], fields: Fields, keepEmpty: boolean): void {
  for (let s = 0; s < slots.length; s++) {
    const slot = slots[s]!;
    const idx = slot.indices;
    for (let k = 0; k < idx.length; k++) {
      const raw = m[idx[k]!];
      if (raw !== undefined) mergeCapture(slot, raw, fields, keepEmpty);
    }
  }
}

/**
 * The same as applyCaptures, from capture offsets instead of a match array: `offsets[at + 2q]`,
 * `offsets[at + 2q + 1]` are start and end (UTF-16 units) of the q-th group of captureGroups(slots),
 * start -1 when the group did not take part. Used with the match worker's results.
 */
export function applyCaptureOffsets(input: string, offsets: Int32Array, at: number, slots: readonly CaptureSlot[], fields: Fields, keepEmpty: boolean): void {
  let q = at;
  for (let s = 0; s < slots.length; s++) {
    const slot = slots[s]!;
    const n = slot.indices.length;
    for (let k = 0; k < n; k++, q += 2) {
      const start = offsets[q]!;
      if (start >= 0) mergeCapture(slot, input.substring(start, offsets[q + 1]!), fields, keepEmpty);
    }
  }
}

/** The group numbers applyCaptureOffsets reads, in its order (slots, then each slot's indices). */
export function captureGroups(slots: readonly CaptureSlot[]): number[] {
  const out: number[] = [];
  for (const slot of slots) out.push(...slot.indices);
  return out;
}

function mergeCapture(slot: CaptureSlot, raw: string, fields: Fields, keepEmpty: boolean): void {
  const value: string | number = slot.coerce === undefined ? raw : slot.coerce(raw);
  if (value === '' && !keepEmpty) return;
  if (slot.overwrite) {
    slot.ref.set(fields, value);
    return;
  }
  const old = slot.ref.get(fields);
  if (old === undefined || old === null) slot.ref.set(fields, value);
  else if (Array.isArray(old)) old.push(value);
  else if (typeof old === 'string') slot.ref.set(fields, [old, value]);
  // Integer, Float, Hash, ...: Logstash keeps the old value and drops the new one
}
