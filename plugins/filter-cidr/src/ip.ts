import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP addresses and networks as Ruby's IPAddr reads them (which Logstash's cidr filter uses), and a
 * set of networks compiled once: per address family, one Set of masked network values per prefix
 * length, so a lookup costs one mask and one Set probe per distinct prefix length (at most 33 for
 * IPv4, 129 for IPv6), whatever the number of networks.
 */

/** An address or network: IPv4 as an unsigned 32-bit number, IPv6 as a 128-bit bigint; `bits` is the prefix length. */
export type Net = { v6: false; value: number; bits: number } | { v6: true; value: bigint; bits: number };

function v4Value(s: string): number {
  const p = s.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

const V4_MASKS: number[] = Array.from({ length: 33 }, (_, n) => (n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0));
const ALL128 = (1n << 128n) - 1n;
const V6_MASKS: bigint[] = Array.from({ length: 129 }, (_, n) => (n === 0 ? 0n : (ALL128 << BigInt(128 - n)) & ALL128));

function v6Value(s: string): bigint {
  // an embedded dotted quad (::ffff:1.2.3.4) becomes its two groups
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v = v4Value(tail);
    s = `${s.slice(0, lastColon + 1)}${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}`;
  }
  const dbl = s.indexOf('::');
  let groups: string[];
  if (dbl === -1) groups = s.split(':');
  else {
    const head = s.slice(0, dbl) === '' ? [] : s.slice(0, dbl).split(':');
    const rest = s.slice(dbl + 2) === '' ? [] : s.slice(dbl + 2).split(':');
    groups = [...head, ...Array<string>(8 - head.length - rest.length).fill('0'), ...rest];
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
  return v;
}

/** `a.b.c.d` or an IPv6 address (a `%zone` and surrounding brackets are dropped), without a prefix; undefined if it is neither. */
function parseAddress(text: string): Net | undefined {
  if (isIPv4(text)) return { v6: false, value: v4Value(text), bits: 32 };
  let s = text;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  if (isIPv6(s)) return { v6: true, value: v6Value(s), bits: 128 };
  return undefined;
}

const DIGITS = /^\d{1,3}$/;

/**
 * A network as IPAddr reads it: `addr`, `addr/len` or (IPv4) `addr/netmask`; host bits are masked
 * away (`192.168.0.5/24` is `192.168.0.0/24`). Undefined when it is none of those. An address is
 * read the same way, so an address with a prefix is a range, matched when a network holds all of it.
 */
export function parseNet(text: string): Net | undefined {
  const slash = text.indexOf('/');
  if (slash === -1) return parseAddress(text);
  const base = parseAddress(text.slice(0, slash));
  if (base === undefined) return undefined;
  const suffix = text.slice(slash + 1);
  let bits: number;
  if (DIGITS.test(suffix)) {
    bits = Number(suffix);
    if (bits > (base.v6 ? 128 : 32)) return undefined;
  } else if (!base.v6 && isIPv4(suffix)) {
    // a netmask: contiguous ones only
    const m = v4Value(suffix);
    bits = V4_MASKS.indexOf(m);
    if (bits === -1) return undefined;
  } else return undefined;
  return base.v6 ? { v6: true, value: base.value & V6_MASKS[bits]!, bits } : { v6: false, value: (base.value & V4_MASKS[bits]!) >>> 0, bits };
}

/** Networks compiled for lookup. */
export class NetworkSet {
  private readonly v4 = new Map<number, Set<number>>();
  private readonly v6 = new Map<number, Set<bigint>>();
  private v4Bits: number[] = [];
  private v6Bits: number[] = [];
  size = 0;

  add(n: Net): void {
    if (n.v6) {
      let s = this.v6.get(n.bits);
      if (!s) {
        this.v6.set(n.bits, (s = new Set()));
        this.v6Bits = [...this.v6.keys()].sort((a, b) => a - b);
      }
      s.add(n.value);
    } else {
      let s = this.v4.get(n.bits);
      if (!s) {
        this.v4.set(n.bits, (s = new Set()));
        this.v4Bits = [...this.v4.keys()].sort((a, b) => a - b);
      }
      s.add(n.value);
    }
    this.size++;
  }

  /** Whether a network of the set holds the address (or the whole of an address range). Families never mix, as in IPAddr. */
  has(a: Net): boolean {
    if (a.v6) {
      for (const bits of this.v6Bits) {
        if (bits > a.bits) break;
        if (this.v6.get(bits)!.has(a.value & V6_MASKS[bits]!)) return true;
      }
      return false;
    }
    for (const bits of this.v4Bits) {
      if (bits > a.bits) break;
      if (this.v4.get(bits)!.has((a.value & V4_MASKS[bits]!) >>> 0)) return true;
    }
    return false;
  }
}
