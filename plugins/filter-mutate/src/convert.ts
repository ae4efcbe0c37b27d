/**
 * mutate's `convert` targets, with Logstash's (8.14+) rules: `,` is a thousands separator in
 * integer/float (and `.` in the _eu forms), booleans become 1/0, hex strings are read as hex,
 * text that is not a number fails the whole mutate (tag_on_failure) for float, while integer reads
 * the leading digits of a string the way Ruby's String#to_i does.
 */
export type Conversion = 'integer' | 'float' | 'string' | 'boolean' | 'integer_eu' | 'float_eu';
export const CONVERSIONS: readonly Conversion[] = ['integer', 'float', 'string', 'boolean', 'integer_eu', 'float_eu'];

export class ConversionError extends Error {}

const TRUE_RE = /^(true|t|yes|y|1|1.0)$/im;
const FALSE_RE = /^(false|f|no|n|0|0.0)$/im;
const HEX_RE = /^[+-]?0x/i;
const HEX_BODY_RE = /^0x[0-9a-f]+(?:_[0-9a-f]+)*$/i;
// Ruby's Float(): optional sign, digits with single underscores between them, optional fraction
// and exponent, surrounding whitespace allowed.
const FLOAT_RE = /^\s*[+-]?(?:\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?\s*$/;
// Ruby's String#to_i: leading whitespace, sign, digits with single underscores; stops at the rest.
const TO_I_RE = /^\s*([+-]?\d+(?:_\d+)*)/;

/** Ruby's String#strip set: whitespace and NUL. */
const STRIP_RE = /^[\0\t\n\v\f\r ]+|[\0\t\n\v\f\r ]+$/g;

function clean(s: string): string {
  return s.replace(STRIP_RE, '').replaceAll(',', '');
}

/** Swaps `,` and `.` as Ruby's `tr(",.", ".,")` does. */
function euToUs(s: string): string {
  let out = '';
  for (const ch of s) out += ch === ',' ? '.' : ch === '.' ? ',' : ch;
  return out;
}

function signedHex(s: string): number | undefined {
  if (!HEX_RE.test(s)) return undefined;
  const neg = s.startsWith('-');
  const body = s.replace(/^[+-]/, '');
  if (!HEX_BODY_RE.test(body)) throw new ConversionError(`invalid value for Float(): "${s}"`);
  const n = parseInt(body.slice(2).replaceAll('_', ''), 16);
  return neg ? -n : n;
}

function rubyFloat(s: string): number {
  if (!FLOAT_RE.test(s)) throw new ConversionError(`invalid value for Float(): "${s}"`);
  return Number(s.trim().replaceAll('_', ''));
}

function toInteger(value: unknown): number {
  if (typeof value === 'string') {
    const s = clean(value);
    const hex = signedHex(s);
    if (hex !== undefined) return Math.trunc(hex);
    if (s.includes('e')) return Math.trunc(rubyFloat(s));
    const m = TO_I_RE.exec(s);
    return m ? Number(m[1]!.replaceAll('_', '')) : 0;
  }
  if (value === true) return 1;
  if (value === false) return 0;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ConversionError(`cannot convert ${value} to an integer`);
    return Math.trunc(value);
  }
  throw new ConversionError(`cannot convert ${typeof value} into Integer`);
}

function toFloat(value: unknown): number {
  if (typeof value === 'string') {
    const s = clean(value);
    const hex = signedHex(s);
    if (hex !== undefined) return hex;
    return rubyFloat(s);
  }
  if (value === true) return 1;
  if (value === false) return 0;
  if (typeof value === 'number') return value;
  throw new ConversionError(`cannot convert ${typeof value} into Float`);
}

function toStringValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Returns the converted value; a value that is not a boolean word passes through unchanged. */
function toBoolean(value: unknown): unknown {
  const s = toStringValue(value);
  if (TRUE_RE.test(s)) return true;
  if (s === '' || FALSE_RE.test(s)) return false;
  return value;
}

export function converter(type: Conversion): (value: unknown) => unknown {
  switch (type) {
    case 'integer':
      return toInteger;
    case 'float':
      return toFloat;
    case 'string':
      return toStringValue;
    case 'boolean':
      return toBoolean;
    case 'integer_eu':
      return (v) => toInteger(typeof v === 'string' ? euToUs(v) : v);
    case 'float_eu':
      return (v) => toFloat(typeof v === 'string' ? euToUs(v) : v);
  }
}
