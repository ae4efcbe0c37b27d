/**
 * convert_datatype: Logstash's dissect converts with Java's BigDecimal, so a value converts when
 * it is a decimal number as BigDecimal reads it (sign, digits, a point, an exponent; no spaces,
 * no underscores, no hex), `int` truncating toward zero (`"3.9"` → 3). A value that does not
 * convert stays as it was and the event gets a tag naming the field and the type.
 */
import { fieldRef, type FieldRef, type Fields } from '@pipeline/core';

export type Datatype = 'int' | 'float';

export interface Conversion {
  readonly field: string;
  readonly ref: FieldRef;
  readonly type: Datatype;
  /** Tag for a field that is missing or null. */
  readonly nullTag: string;
  /** Tag for a value that is not a number. */
  readonly badTag: string;
}

export function compileConversion(field: string, typeText: string): Conversion {
  const type = typeText.toLowerCase();
  if (type !== 'int' && type !== 'float') throw new RangeError(`datatype '${typeText}' is not supported for field '${field}': int or float`);
  return {
    field,
    ref: fieldRef(field),
    type,
    nullTag: `_dataconversionnullvalue_${field}_${typeText}`,
    badTag: `_dataconversionuncoercible_${field}_${typeText}`,
  };
}

const ZERO = 48;
const NINE = 57;
const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;

/**
 * Where the integer part of `s` ends, and whether it has no exponent, when `s` is a BigDecimal
 * literal (`-12`, `3.`, `.5`, `1.5e-3`); undefined otherwise. Scanned by hand: this runs per event.
 */
function decimalIntEnd(s: string): { intEnd: number; plain: boolean } | undefined {
  const n = s.length;
  let i = 0;
  if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++; // + -
  const intStart = i;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  const intEnd = i;
  let digits = intEnd - intStart;
  if (i < n && s.charCodeAt(i) === 46) {
    // .
    i++;
    const f = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    digits += i - f;
  }
  if (digits === 0) return undefined;
  let plain = true;
  if (i < n && (s.charCodeAt(i) === 101 || s.charCodeAt(i) === 69)) {
    // e E
    plain = false;
    i++;
    if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++;
    const e = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === e) return undefined;
  }
  return i === n ? { intEnd, plain } : undefined;
}

/** The converted number, or undefined when the value does not convert. */
export function toNumber(value: unknown, type: Datatype): number | undefined {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    if (type === 'int') return Math.trunc(value) + 0;
    return value;
  } else return undefined;
  const d = decimalIntEnd(text);
  if (d === undefined) return undefined;
  let n: number;
  if (type === 'float') n = Number(text);
  // without an exponent, the integer part is the truncation, read exactly as written
  else if (d.plain) n = d.intEnd === (text.charCodeAt(0) === 43 || text.charCodeAt(0) === 45 ? 1 : 0) ? 0 : Number(text.slice(0, d.intEnd));
  else n = Math.trunc(Number(text));
  if (!Number.isFinite(n)) return undefined;
  return n + 0; // -0 → 0
}

/** Applies one conversion to the fields; returns the tag to add when it failed. */
export function applyConversion(c: Conversion, fields: Fields): string | undefined {
  const v = c.ref.get(fields);
  if (v === undefined || v === null) return c.nullTag;
  const n = toNumber(v, c.type);
  if (n === undefined) return c.badTag;
  c.ref.set(fields, n);
  return undefined;
}
