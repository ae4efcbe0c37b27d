/**
 * The numeric formats: `UNIX` (seconds, with up to millisecond fractions), `UNIX_MS` and `TAI64N`,
 * with the rules of Logstash's Java date filter: integers and floats are accepted as numbers or
 * strings, seconds beyond 2^31-1 are refused, fractions beyond milliseconds are cut.
 */
import { DateParseError } from './joda.js';

const MAX_EPOCH_SECONDS = 2_147_483_647;
const LONG_RE = /^[+-]?\d+$/;

/** Java's Long.parseLong: optional sign and digits, nothing else. */
function parseLong(s: string): number {
  if (!LONG_RE.test(s)) throw new DateParseError(`'${s}' is not a number`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new DateParseError(`'${s}' is out of range`);
  return n;
}

function secondsToMillis(sec: number): number {
  if (sec > MAX_EPOCH_SECONDS) throw new DateParseError('value larger than the UNIX epoch maximum seconds');
  return sec * 1000;
}

export function parseUnix(value: unknown): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new DateParseError(`${value} is not a date`);
    if (Number.isInteger(value)) return secondsToMillis(value);
    if (Math.trunc(value) > MAX_EPOCH_SECONDS) throw new DateParseError('value larger than the UNIX epoch maximum seconds');
    return Math.trunc(value * 1000);
  }
  if (typeof value !== 'string') throw new DateParseError(`cannot parse a date from a ${typeof value}`);
  const dot = value.indexOf('.');
  if (dot < 0) return secondsToMillis(parseLong(value));
  const ms = secondsToMillis(parseLong(value.slice(0, dot)));
  const sub = value.slice(dot + 1, dot + 1 + Math.min(3, value.length - dot - 1));
  const frac = parseLong(sub);
  return ms + frac * 10 ** (3 - sub.length);
}

export function parseUnixMs(value: unknown): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new DateParseError(`${value} is not a date`);
    return Math.trunc(value);
  }
  if (typeof value !== 'string') throw new DateParseError(`cannot parse a date from a ${typeof value}`);
  return parseLong(value);
}

const HEX_RE = /^[0-9a-fA-F]+$/;

export function parseTai64n(value: unknown): number {
  if (typeof value !== 'string') throw new DateParseError(`TAI64N expects a string, got a ${typeof value}`);
  const off = value.startsWith('@') ? 1 : 0;
  const secHex = value.slice(off, off + 16);
  const nanoHex = value.slice(off + 16, off + 24);
  if (secHex.length !== 16 || nanoHex.length !== 8 || !HEX_RE.test(secHex) || !HEX_RE.test(nanoHex)) throw new DateParseError(`'${value}' is not TAI64N`);
  // TAI64 puts the UNIX epoch at 2^62; Logstash removes a fixed 10 s of TAI–UTC difference.
  const seconds = Number(BigInt('0x' + secHex) & ((1n << 62n) - 1n)) - 10;
  const nanos = parseInt(nanoHex, 16);
  return seconds * 1000 + Math.floor(nanos / 1_000_000);
}
