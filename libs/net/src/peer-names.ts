import dns from 'node:dns';
import { isIP } from 'node:net';
import type { Clock, Metrics, TimerHandle } from '@pipeline/core';

/**
 * The name of a connecting peer, as Logstash's tcp input gives it with `dns_reverse_lookup_enabled`
 * (Java's InetSocketAddress.getHostName): the system resolver's answer for the address
 * (getnameinfo: /etc/hosts first, then DNS, as nsswitch.conf says — `dns.reverse` would ask DNS
 * only and miss /etc/hosts), kept only when the name resolves back to that address (Java checks
 * this too: a PTR record alone does not name a host), and only when it is a plain host name.
 * Anything else — no name, no confirmation, an odd name, no answer within the timeout — is the
 * address itself.
 *
 * Bounded: answers (names and fallbacks alike) are cached per address, at most `maxEntries`
 * (least recently used go first), names for `ttlMs`, fallbacks for `negativeTtlMs`; at most
 * `maxInFlight` lookups run at once (each holds a libuv thread, which the file input also needs):
 * beyond that, a new address goes with its address, uncached, until a slot frees. A lookup that
 * times out keeps running; its late answer still fills the cache for the next connection.
 */
export interface PeerNamesOptions {
  clock: Clock;
  metrics?: Metrics;
  timeoutMs?: number;
  maxEntries?: number;
  ttlMs?: number;
  negativeTtlMs?: number;
  maxInFlight?: number;
  /** The lookup (tests replace it); resolves to a name, or undefined for none. */
  resolve?: (ip: string) => Promise<string | undefined>;
}

export const PEER_NAME_DEFAULTS = {
  timeoutMs: 2000,
  maxEntries: 4096,
  ttlMs: 10 * 60_000,
  negativeTtlMs: 60_000,
  maxInFlight: 2,
} as const;

/** A host name as DNS and /etc/hosts write them: letters, digits, `-`, `_`, dots; at most 253 characters. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*$/;

/** getnameinfo for the address, then getaddrinfo for the name: the name only if it comes back to the address. */
export async function systemPeerName(ip: string): Promise<string | undefined> {
  let name: string;
  try {
    ({ hostname: name } = await dns.promises.lookupService(ip, 0));
  } catch {
    return undefined; // no name (getnameinfo with NI_NAMEREQD)
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (!HOST_NAME.test(name) || isIP(name) !== 0) return undefined;
  try {
    const back = await dns.promises.lookup(name, { all: true, verbatim: true });
    const want = normalize(ip);
    return back.some((a) => normalize(a.address) === want) ? name : undefined;
  } catch {
    return undefined;
  }
}

const normalize = (a: string) => a.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();

interface Entry {
  name: string;
  expires: number;
}

export class PeerNames {
  private readonly cache = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<string>>();
  private readonly o: Required<Omit<PeerNamesOptions, 'metrics'>>;
  private readonly m;

  constructor(o: PeerNamesOptions) {
    this.o = { ...PEER_NAME_DEFAULTS, resolve: systemPeerName, ...o } as Required<Omit<PeerNamesOptions, 'metrics'>>;
    const mt = o.metrics;
    this.m = mt && {
      lookups: mt.counter('dns_lookups'),
      hits: mt.counter('dns_cache_hits'),
      unnamed: mt.counter('dns_lookup_no_name'),
      timeouts: mt.counter('dns_lookup_timeouts'),
      skipped: mt.counter('dns_lookups_skipped'),
    };
  }

  get size(): number {
    return this.cache.size;
  }

  /** The peer's name (or its address): at once from the cache, else once the lookup answers or times out. */
  name(ip: string): string | Promise<string> {
    const now = this.o.clock.now();
    const hit = this.cache.get(ip);
    if (hit !== undefined) {
      this.cache.delete(ip);
      if (hit.expires > now) {
        this.cache.set(ip, hit); // most recently used last
        this.m?.hits.inc();
        return hit.name;
      }
    }
    const running = this.pending.get(ip);
    if (running) return this.withTimeout(ip, running);
    if (this.pending.size >= this.o.maxInFlight) {
      this.m?.skipped.inc();
      return ip;
    }
    this.m?.lookups.inc();
    const lookup = this.o
      .resolve(ip)
      .catch(() => undefined)
      .then((name) => {
        this.pending.delete(ip);
        if (name === undefined) this.m?.unnamed.inc();
        this.remember(ip, name ?? ip, name === undefined ? this.o.negativeTtlMs : this.o.ttlMs);
        return name ?? ip;
      });
    this.pending.set(ip, lookup);
    return this.withTimeout(ip, lookup);
  }

  private withTimeout(ip: string, lookup: Promise<string>): Promise<string> {
    let timer: TimerHandle | undefined;
    const timeout = new Promise<string>((r) => {
      timer = this.o.clock.setTimeout(() => {
        this.m?.timeouts.inc();
        r(ip);
      }, this.o.timeoutMs);
    });
    return Promise.race([lookup, timeout]).finally(() => timer?.cancel());
  }

  private remember(ip: string, name: string, ttl: number): void {
    this.cache.delete(ip);
    this.cache.set(ip, { name, expires: this.o.clock.now() + ttl });
    while (this.cache.size > this.o.maxEntries) this.cache.delete(this.cache.keys().next().value!);
  }
}
