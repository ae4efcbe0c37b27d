import { isIP } from 'node:net';

/**
 * An address parsed once, on a cache miss: the text to look up, the text written to `ip` (as
 * Logstash writes it: Java's InetAddress.getHostAddress, so IPv6 in full, uncompressed, lowercase
 * form, and an IPv4-mapped IPv6 address as the IPv4 address it maps), and its bytes (for `network`).
 */
export interface ParsedAddress {
  lookup: string;
  text: string;
  bytes: Uint8Array;
}

/** undefined when `s` is not an IPv4 or IPv6 address (hostnames are not resolved, see README). */
export function parseAddress(s: string): ParsedAddress | undefined {
  const version = isIP(s);
  if (version === 4) return { lookup: s, text: s, bytes: Uint8Array.from(s.split('.'), Number) };
  if (version !== 6) return undefined;
  const pct = s.indexOf('%');
  const zone = pct < 0 ? '' : s.slice(pct);
  const bytes = ipv6Bytes(pct < 0 ? s : s.slice(0, pct));
  // ::ffff:a.b.c.d: Java makes it an Inet4Address, looked up and written as a.b.c.d
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (bytes[i] !== 0) mapped = false;
  if (mapped) {
    const v4 = bytes.slice(12);
    const text = v4.join('.');
    return { lookup: text, text, bytes: v4 };
  }
  return { lookup: pct < 0 ? s : s.slice(0, pct), text: v6Text(bytes) + zone, bytes };
}

/** The 16 bytes of an IPv6 address that node:net's isIP accepted (no zone). */
function ipv6Bytes(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  let tail: number[] = [];
  // an embedded IPv4 address in the last 32 bits
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) >= 0) {
    tail = text.slice(lastColon + 1).split('.').map(Number);
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const dbl = text.indexOf('::');
  let words: number[];
  if (dbl < 0) words = groups(text);
  else {
    const left = groups(text.slice(0, dbl));
    const right = groups(text.slice(dbl + 2));
    words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  for (let i = 0; i < 8; i++) {
    out[i * 2] = (words[i]! >> 8) & 0xff;
    out[i * 2 + 1] = words[i]! & 0xff;
  }
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

function v6Text(b: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return parts.join(':');
}

/** The network of `prefix` bits holding the address, as Java's Network.toString(): `1.128.0.0/11`. */
export function networkText(bytes: Uint8Array, prefix: number): string {
  const masked = bytes.slice();
  for (let bit = prefix; bit < masked.length * 8; bit++) masked[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return `${masked.length === 4 ? masked.join('.') : v6Text(masked)}/${prefix}`;
}
