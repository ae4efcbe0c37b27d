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
  if (s.indexOf(':') < 0) {
    const v4 = parseV4(s, 0, s.length);
    return v4 === undefined ? undefined : { lookup: s, text: s, bytes: v4 };
  }
  const pct = s.indexOf('%');
  if (pct === 0 || pct === s.length - 1) return undefined;
  const end = pct < 0 ? s.length : pct;
  const bytes = parseV6(s, end);
  if (bytes === undefined) return undefined;
  // ::ffff:a.b.c.d: Java makes it an Inet4Address, looked up and written as a.b.c.d
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (bytes[i] !== 0) mapped = false;
  if (mapped) {
    const v4 = bytes.slice(12);
    const text = `${v4[0]}.${v4[1]}.${v4[2]}.${v4[3]}`;
    return { lookup: text, text, bytes: v4 };
  }
  const bare = pct < 0 ? s : s.slice(0, pct);
  return { lookup: bare, text: pct < 0 ? v6Text(bytes) : v6Text(bytes) + s.slice(pct), bytes };
}

/** A dotted quad in s[from, to): four decimal octets, 0-255, no leading zeros (as node:net). */
function parseV4(s: string, from: number, to: number): Uint8Array | undefined {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = from; i <= to; i++) {
    const c = i === to ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return undefined; // leading zero
      value = value * 10 + (c - 48);
      if (value > 255) return undefined;
      digits++;
    } else return undefined;
  }
  return part === 4 ? out : undefined;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The 16 bytes of the IPv6 address in s[0, end): hex groups, one `::`, an IPv4 tail. */
function parseV6(s: string, end: number): Uint8Array | undefined {
  const words = new Uint16Array(8);
  let n = 0; // words written
  let gap = -1; // where `::` stands
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return undefined;
    gap = 0;
    i = 2;
    if (i === end) return expand(words, n, gap);
  }
  for (;;) {
    // one group, or an IPv4 tail
    let value = 0;
    let digits = 0;
    let j = i;
    for (; j < end; j++) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      if (++digits > 4) return undefined;
    }
    if (j < end && s.charCodeAt(j) === 46) {
      if (n > 6) return undefined;
      const v4 = parseV4(s, i, end);
      if (v4 === undefined) return undefined;
      words[n++] = (v4[0]! << 8) | v4[1]!;
      words[n++] = (v4[2]! << 8) | v4[3]!;
      break;
    }
    if (digits === 0 || n > 7) return undefined;
    words[n++] = value;
    if (j === end) break;
    if (s.charCodeAt(j) !== 58) return undefined;
    j++;
    if (s.charCodeAt(j) === 58) {
      if (gap >= 0) return undefined;
      gap = n;
      j++;
      if (j === end) break;
    } else if (j === end) return undefined; // a trailing single colon
    i = j;
  }
  return expand(words, n, gap);
}

function expand(words: Uint16Array, n: number, gap: number): Uint8Array | undefined {
  if (gap < 0 ? n !== 8 : n > 7) return undefined;
  const out = new Uint8Array(16);
  const shift = 8 - n;
  for (let k = 0; k < n; k++) {
    const at = gap >= 0 && k >= gap ? k + shift : k;
    out[at * 2] = words[k]! >> 8;
    out[at * 2 + 1] = words[k]! & 0xff;
  }
  return out;
}

function v6Text(b: Uint8Array): string {
  let t = ((b[0]! << 8) | b[1]!).toString(16);
  for (let i = 2; i < 16; i += 2) t += ':' + ((b[i]! << 8) | b[i + 1]!).toString(16);
  return t;
}

/** The network of `prefix` bits holding the address, as Java's Network.toString(): `1.128.0.0/11`. */
export function networkText(bytes: Uint8Array, prefix: number): string {
  const masked = bytes.slice();
  for (let bit = prefix; bit < masked.length * 8; bit++) masked[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return `${masked.length === 4 ? masked.join('.') : v6Text(masked)}/${prefix}`;
}
