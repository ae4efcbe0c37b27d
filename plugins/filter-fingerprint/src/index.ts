import { createHmac, hash as oneShotHash, randomUUID } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { ConfigError, definePlugin, fieldRef, opt, Timestamp, type FieldRef, type Fields } from '@pipeline/core';
import { murmur3_128, murmur3_32 } from './murmur3.js';

export { murmur3_128, murmur3_32 } from './murmur3.js';

const METHODS = ['SHA1', 'SHA256', 'SHA384', 'SHA512', 'MD5', 'MURMUR3', 'MURMUR3_128', 'IPV4_NETWORK', 'UUID', 'PUNCTUATION'] as const;
type Method = (typeof METHODS)[number];
const DIGESTS: Partial<Record<Method, string>> = { SHA1: 'sha1', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512', MD5: 'md5' };

const options = {
  source: opt.fields({ default: ['message'], description: 'field(s) whose value is fingerprinted; sorted by name when concatenated' }),
  target: opt.field({ description: 'field the fingerprint is written to (overwritten); default: fingerprint, or [event][hash] with ECS compatibility on' }),
  method: opt.string({ default: 'SHA1', values: METHODS, description: 'hash (SHA*, MD5: hex text; MURMUR3: an integer; MURMUR3_128: hex text), IPV4_NETWORK (the address masked to key bits), UUID (random), PUNCTUATION (the punctuation and symbols of the text)' }),
  key: opt.password({ description: 'HMAC key for SHA1, SHA256, SHA384, SHA512 and MD5; the prefix length (0-32) for IPV4_NETWORK, where it is required' }),
  base64encode: opt.bool({ default: false, description: 'SHA*, MD5 and MURMUR3_128: base64 instead of hex' }),
  concatenate_sources: opt.bool({ default: false, description: 'fingerprint one string |name|value|name|value| of all source fields (sorted by name), not each field' }),
  concatenate_all_fields: opt.bool({ default: false, description: 'fingerprint one string |name|value|... of every field of the event (sorted by name, @metadata left out)' }),
  ecs_compatibility: opt.string({ default: 'disabled', values: ['disabled', 'v1', 'v8'], description: 'v1 or v8: the default target is [event][hash]' }),
};

type Options = {
  source: string[];
  target?: string | undefined;
  method: string;
  key?: string | undefined;
  base64encode: boolean;
  concatenate_sources: boolean;
  concatenate_all_fields: boolean;
  ecs_compatibility: string;
};

// ---- Ruby's to_s, for the text Logstash hashes ----

/** A Float as Ruby's Float#to_s writes it ("0.1", "1.0e-05", "1.0e+16"): the shortest round-trip digits. */
export function rubyFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, exp] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const e = Number(exp);
  const decpt = e + 1;
  if (decpt < -3 || decpt > 16) {
    const abs = Math.abs(e);
    return `${sign}${digits[0]}.${digits.length > 1 ? digits.slice(1) : '0'}e${e < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/**
 * A number as Ruby sees it: JSON gives one number type here, so a whole number (that JavaScript
 * holds exactly) is an Integer and anything else a Float.
 */
function isRubyInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** `to_s` of a scalar field value: nil is "", a timestamp its ISO text with milliseconds. */
export function rubyToS(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return isRubyInteger(v) ? String(v) : rubyFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Timestamp) return v.toISOString();
  return String(canonical(v));
}

/** Ruby's String ordering (by UTF-8 bytes), which is code point order; JavaScript's `<` orders by UTF-16 units. */
export function byteOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // a surrogate (an astral code point) sorts after U+E000-U+FFFF in code point order
    if (x >= 0xd800 && y >= 0xd800) {
      if (x < 0xe000) x += 0x10000;
      if (y < 0xe000) y += 0x10000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function isHash(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Timestamp);
}

/**
 * Logstash's to_canonical_value: a hash is `key|value|key|value` with its keys sorted, an array its
 * elements joined with `|`, each at any depth; a scalar is returned as it is (MURMUR3 hashes an
 * integer by its bytes).
 */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((e) => rubyToS(canonical(e))).join('|');
  if (isHash(v)) {
    const keys = Object.keys(v).sort(byteOrder);
    let out = '';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      out += `${i ? '|' : ''}${k}|${rubyToS(canonical(v[k]))}`;
    }
    return out;
  }
  return v;
}

// ---- the methods ----

type Fingerprint = (value: unknown) => unknown;

/** A buffer reused to hand a string's UTF-8 bytes to murmur3 without allocating per event. */
let scratch = Buffer.allocUnsafe(4096);
function utf8(s: string): number {
  if (s.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(Math.max(s.length * 3, scratch.length * 2));
  return scratch.write(s, 0, 'utf8');
}
const int32 = Buffer.alloc(4);
const int64 = Buffer.alloc(8);

/** The prefix length of IPV4_NETWORK, from the key. */
function prefixOf(o: Options): number {
  const text = (o.key ?? '').trim();
  const n = Number(text);
  if (text === '' || !Number.isInteger(n) || n < 0 || n > 32) throw ConfigError.forOption('key', `fingerprint: method IPV4_NETWORK needs 'key' set to a prefix length from 0 to 32${o.key === undefined ? '' : `, got '${o.key}'`}`);
  return n;
}

/** Everything the filter compiles, made by check (for -t) and create alike. */
function compile(o: Options) {
  const method = o.method as Method;
  if ((o.concatenate_sources || o.concatenate_all_fields) && (method === 'UUID' || method === 'PUNCTUATION')) {
    // Logstash ignores the concatenation options with these methods; say so rather than do nothing quietly
    throw ConfigError.forOption(o.concatenate_all_fields ? 'concatenate_all_fields' : 'concatenate_sources', `fingerprint: concatenation has no meaning with method ${method}`);
  }
  const encoding = o.base64encode ? 'base64' : 'hex';
  let fp: Fingerprint;
  const digest = DIGESTS[method];
  if (digest !== undefined) {
    const key = o.key;
    fp =
      key === undefined
        ? (v) => oneShotHash(digest, rubyToS(v), encoding)
        : (v) => createHmac(digest, key).update(rubyToS(v), 'utf8').digest(encoding);
  } else if (method === 'MURMUR3') {
    fp = (v) => {
      if (isRubyInteger(v)) {
        int64.writeBigInt64LE(BigInt(v));
        return murmur3_32(int64, 8, 0);
      }
      return murmur3_32(scratch, utf8(rubyToS(v)), 0);
    };
  } else if (method === 'MURMUR3_128') {
    // The murmurhash3 gem's V128 with seed 2, as Logstash calls it; a 32-bit integer hashes its 4 bytes, a larger one 8.
    fp = (v) => {
      let d: Buffer;
      if (isRubyInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) {
        int32.writeInt32LE(v);
        d = murmur3_128(int32, 4, 2);
      } else if (isRubyInteger(v)) {
        int64.writeBigInt64LE(BigInt(v));
        d = murmur3_128(int64, 8, 2);
      } else d = murmur3_128(scratch, utf8(rubyToS(v)), 2);
      return d.toString(encoding);
    };
  } else if (method === 'IPV4_NETWORK') {
    const bits = prefixOf(o);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    fp = (v) => {
      const s = rubyToS(v);
      if (!isIPv4(s)) return undefined;
      const p = s.split('.');
      const n = ((((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0) & mask) >>> 0;
      return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    };
  } else if (method === 'PUNCTUATION') {
    const notPunct = /[^\p{P}\p{S}]/gu;
    fp = (v) => rubyToS(canonical(v)).replace(notPunct, '');
  } else fp = () => randomUUID();
  const target = fieldRef(o.target ?? (o.ecs_compatibility === 'disabled' ? 'fingerprint' : '[event][hash]'));
  // Logstash sorts the source names for concatenation and for PUNCTUATION (the last one found wins)
  const sorted = [...o.source].map(String).sort(byteOrder);
  const names = method === 'PUNCTUATION' || o.concatenate_sources ? sorted : o.source.map(String);
  const sources: [string, FieldRef][] = names.map((n) => [n, fieldRef(n)]);
  return { method, fp, target, sources };
}

export default definePlugin({
  kind: 'filter',
  name: 'fingerprint',
  description: 'Adds a hash or UUID of chosen fields.',
  options,
  parallel: true,
  check(o) {
    compile(o);
  },
  create(o) {
    const { method, fp, target, sources } = compile(o);
    const { concatenate_sources: concatSources, concatenate_all_fields: concatAll } = o;
    return {
      filter(event) {
        const fields = event.fields;
        if (method === 'UUID') {
          event.set(target, fp(undefined));
        } else if (concatAll || concatSources) {
          let text = '';
          if (concatAll) {
            // every field but @metadata, sorted by name, nested hashes sorted too
            const keys = Object.keys(fields).sort(byteOrder);
            for (const k of keys) if (k !== '@metadata') text += `|${k}|${rubyToS(canonical(fields[k]))}`;
          } else {
            for (const [name, ref] of sources) text += `|${name}|${rubyToS(canonical(ref.get(fields)))}`;
          }
          event.set(target, fp(text + '|'));
        } else {
          // each source in turn; the last one present wins, as in Logstash
          for (const [, ref] of sources) {
            const v = ref.get(fields);
            if (v === undefined) continue;
            const out = Array.isArray(v) && method !== 'PUNCTUATION' ? v.map((e) => fp(canonical(e))) : fp(method === 'PUNCTUATION' ? v : canonical(v));
            if (out !== undefined) event.set(target, out);
          }
        }
        // Logstash calls filter_matched whatever it found: add_tag and friends always apply
        return true;
      },
    };
  },
});
