import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/**
 * What the resolver is made of, decided at load: the name servers (or the system's), the search
 * domains and ndots, and the hosts files read before DNS, as Logstash builds Ruby's Resolv.
 */
export interface ResolverSetup {
  /** Servers for `Resolver.setServers` (`1.2.3.4`, `1.2.3.4:5353`, `[::1]:5353`); undefined: the system's (resolv.conf). */
  servers: string[] | undefined;
  /** How many servers a query may try (bounds the wait at shutdown). */
  serverCount: number;
  search: string[];
  ndots: number;
  /** False when DNS is not asked at all (Logstash: `hostsfile` without `nameserver`). */
  dns: boolean;
}

/** One nameserver entry: an address, optionally with a port (`127.0.0.1:5353`, `[::1]:5353`). */
export function serverEntry(text: string): string {
  const s = text.trim();
  let host = s;
  let port: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    host = bracket[1]!;
    port = bracket[2];
  } else if (isIP(s) === 0) {
    const i = s.lastIndexOf(':');
    if (i > 0 && s.indexOf(':') === i) {
      host = s.slice(0, i);
      port = s.slice(i + 1);
    }
  }
  const family = isIP(host);
  if (family === 0) throw new Error(`'${text}' is not an IP address (with an optional port: 127.0.0.1:5353, [::1]:5353)`);
  if (port !== undefined) {
    const n = Number(port);
    if (!/^\d+$/.test(port) || n < 1 || n > 65535) throw new Error(`'${text}': the port must be 1-65535`);
    return family === 6 ? `[${host}]:${n}` : `${host}:${n}`;
  }
  return host;
}

const strs = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** Logstash's `nameserver`: a hash (address, search, ndots), or, as older versions, a string or array of addresses. */
export function nameserverSetup(value: unknown): { servers: string[]; search: string[]; ndots: number } {
  const h: Record<string, unknown> = value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : { address: value };
  if (!('address' in h)) throw new Error("the hash must include 'address'");
  const addresses = strs(h.address);
  if (addresses.length === 0) throw new Error("'address' cannot be empty");
  const servers = addresses.map(serverEntry);
  const search = strs(h.search);
  if (search.length > 6) throw new Error(`at most 6 'search' domains are accepted (got ${search.length})`);
  let ndots = 1;
  if (h.ndots !== undefined) {
    ndots = Number(h.ndots);
    if (!Number.isInteger(ndots) || ndots <= 0) throw new Error(`'ndots' must be a positive whole number (got ${String(h.ndots)})`);
  }
  const unknown = Object.keys(h).filter((k) => k !== 'address' && k !== 'search' && k !== 'ndots');
  if (unknown.length) throw new Error(`unknown key(s) ${unknown.map((k) => `'${k}'`).join(', ')} (known: address, search, ndots)`);
  return { servers, search, ndots };
}

/** `search`/`domain`, `options ndots:n` and the number of `nameserver` lines of a resolv.conf text. */
export function parseResolvConf(text: string): { search: string[]; ndots: number; servers: number } {
  let search: string[] = [];
  let ndots = 1;
  let servers = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver') servers++;
    else if (key === 'search' || key === 'domain') search = rest.slice(0, 6);
    else if (key === 'options')
      for (const o of rest) {
        const m = /^ndots:(\d+)$/.exec(o);
        if (m) ndots = Math.max(1, Number(m[1]));
      }
  }
  return { search, ndots, servers };
}

/** A hosts file read once: first address per name (IPv4 before IPv6 for a name), first name per address. */
export class Hosts {
  private readonly byName = new Map<string, { v4?: string; v6?: string }>();
  private readonly byAddress = new Map<string, string>();

  /** Reads the files in order; a name or address seen in an earlier file wins. */
  constructor(texts: readonly string[]) {
    for (const text of texts)
      for (const raw of text.split('\n')) {
        const line = raw.replace(/#.*$/, '').trim();
        if (line === '') continue;
        const [addr, ...names] = line.split(/\s+/);
        const family = isIP(addr!);
        if (family === 0 || names.length === 0) continue;
        const key = canonical(addr!);
        if (!this.byAddress.has(key)) this.byAddress.set(key, names[0]!);
        for (const n of names) {
          const name = n.toLowerCase();
          let e = this.byName.get(name);
          if (e === undefined) this.byName.set(name, (e = {}));
          if (family === 4) e.v4 ??= addr;
          else e.v6 ??= addr;
        }
      }
  }

  get size(): number {
    return this.byAddress.size;
  }

  address(name: string): string | undefined {
    if (this.byName.size === 0) return undefined;
    const e = this.byName.get(name.toLowerCase().replace(/\.$/, ''));
    return e === undefined ? undefined : (e.v4 ?? e.v6);
  }

  name(address: string): string | undefined {
    if (this.byAddress.size === 0) return undefined;
    return this.byAddress.get(canonical(address));
  }
}

/** IPv6 written one way (compressed, lower case) so `::1` and `0:0::1` meet; IPv4 as is. */
function canonical(addr: string): string {
  if (isIP(addr) !== 6) return addr;
  try {
    return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  } catch {
    return addr.toLowerCase();
  }
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Logstash's candidate names for a query (Ruby Resolv::DNS::Config#generate_candidates). */
export function candidates(name: string, search: readonly string[], ndots: number): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const dots = name.split('.').length - 1;
  const out = dots >= ndots ? [name] : [];
  for (const s of search) out.push(`${name}.${s.replace(/^\.|\.$/g, '')}`);
  if (!out.includes(name)) out.push(name);
  return out;
}

/** The PTR name of an address: `9.113.0.203.in-addr.arpa`, or 32 nibbles under `ip6.arpa`. */
export function arpaName(address: string): string {
  if (isIP(address) === 4) return address.split('.').reverse().join('.') + '.in-addr.arpa';
  let a = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    a = a.slice(0, v4.index) + ((b0 << 8) | b1).toString(16) + ':' + ((b2 << 8) | b3).toString(16);
  }
  const [left, right] = a.includes('::') ? a.split('::') : [a, undefined];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const groups = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  const hex = groups.map((g) => g.padStart(4, '0')).join('');
  return hex.split('').reverse().join('.') + '.ip6.arpa';
}
