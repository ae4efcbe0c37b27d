import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { Resolver } from 'node:dns';
import { domainToASCII } from 'node:url';
import { compileDecorator, ConfigError, definePlugin, fieldRef, filterMatchedOptions, opt, type Event, type FieldRef, type Resolved } from '@pipeline/core';
import { TtlCache } from './cache.js';
import { Hosts, nameserverSetup, parseResolvConf, readText, type ResolverSetup } from './config.js';
import { LookupClient, type Lookup } from './lookups.js';
import { FAIL, OK, PENDING, REFUSED, RESOLVE, REVERSE, TIMEOUT } from './protocol.js';

const options = {
  reverse: opt.fields({ description: 'Fields holding an IP address: looked up by PTR, the name appended or put in its place (see `action`).' }),
  resolve: opt.fields({ description: 'Fields holding a host name: looked up (A, then AAAA), the first address appended or put in its place.' }),
  action: opt.string({ default: 'append', values: ['append', 'replace'], description: '`append`: the field becomes `[old, answer]` (an array gets the answer added); `replace`: the answer replaces the value.' }),
  nameserver: opt.any({
    description:
      'Name servers: a hash `{ address => [...] search => [...] ndots => n }`, or (as older versions) a string or array of addresses. An address may carry a port: `127.0.0.1:5353`, `[::1]:5353`. Unset: the system resolver (`/etc/resolv.conf`: nameserver, search, domain, ndots).',
  }),
  hostsfile: opt.strings({ description: 'Hosts files read (once, at start) before `/etc/hosts` and DNS. Given without `nameserver`, only the hosts files are used, as in Logstash.' }),
  timeout: opt.number({ default: 0.5, description: 'Seconds each DNS query of a lookup may take (a lookup asks A, then AAAA, for each search candidate).', validate: (v: number) => (v > 0 ? undefined : 'timeout must be above 0 seconds') }),
  max_retries: opt.integer({ default: 2, min: 0, description: 'Attempts after the first when a lookup times out (or the server refuses the connection).' }),
  hit_cache_size: opt.integer({ default: 0, min: 0, description: 'Answers kept per lookup kind (resolve, reverse); 0: no cache.' }),
  hit_cache_ttl: opt.number({ default: 60, min: 0, description: 'Seconds an answer is kept.' }),
  failed_cache_size: opt.integer({ default: 0, min: 0, description: 'Failed lookups (no answer, or timed out) kept per lookup kind, not asked again while kept; 0: no cache.' }),
  failed_cache_ttl: opt.number({ default: 5, min: 0, description: 'Seconds a failed lookup is kept.' }),
  tag_on_timeout: opt.strings({ default: ['_dnstimeout'], description: 'Tags added when a lookup timed out on every attempt (the field is left as it was).' }),
  warn_on_timeout: opt.bool({ default: false, description: 'Log a lookup that timed out at warn level (else info).' }),
  max_concurrent_lookups: opt.integer({ default: 100, min: 1, description: 'Not in Logstash: lookups in flight at once (more wait their turn).' }),
  max_held_events: opt.integer({
    default: 10_000,
    min: 1,
    description: 'Not in Logstash: events held back while lookups run (order is kept, so an event waits for those before it). Past it, the oldest goes on with its unanswered lookups counted as timed out.',
  }),
  ...filterMatchedOptions('an event whose every lookup succeeded'),
};

type Options = Resolved<typeof options>;

const SYSTEM_HOSTS = '/etc/hosts';
const RESOLV_CONF = '/etc/resolv.conf';

/** The resolver's make-up from the options, checked at -t as at start. */
function setupOf(o: Options, resolvePath: (p: string) => string): { setup: ResolverSetup; hostFiles: string[] } {
  const hostFiles = (o.hostsfile ?? []).map((f) => resolvePath(f));
  for (const f of hostFiles)
    try {
      readText(f);
    } catch (e) {
      throw ConfigError.forOption('hostsfile', `cannot read hosts file ${f}: ${(e as Error).message}`, undefined, f);
    }
  if (existsSync(SYSTEM_HOSTS)) hostFiles.push(SYSTEM_HOSTS);
  if (o.nameserver !== undefined) {
    let ns: ReturnType<typeof nameserverSetup>;
    try {
      ns = nameserverSetup(o.nameserver);
    } catch (e) {
      throw ConfigError.forOption('nameserver', `nameserver: ${(e as Error).message}`, 'nameserver => { address => ["192.0.2.53", "127.0.0.1:5353"] search => ["example.net"] }');
    }
    return { setup: { servers: ns.servers, serverCount: ns.servers.length, search: ns.search, ndots: ns.ndots, dns: true }, hostFiles };
  }
  if (o.hostsfile !== undefined && o.hostsfile.length > 0) return { setup: { servers: undefined, serverCount: 0, search: [], ndots: 1, dns: false }, hostFiles };
  let rc = { search: [] as string[], ndots: 1, servers: 1 };
  try {
    rc = parseResolvConf(readText(RESOLV_CONF));
  } catch {
    // no resolv.conf: c-ares falls back to its defaults
  }
  return { setup: { servers: undefined, serverCount: Math.max(1, Math.min(3, rc.servers)), search: rc.search, ndots: rc.ndots, dns: true }, hostFiles };
}

/** A held event: its field values known so far, the lookups it waits on, how far its fields go. */
interface Held {
  event: Event;
  vals: Slot[];
  end: number;
  complete: boolean;
  need: number;
}

/** Per field: null = left alone (missing), a string = the answer, a Lookup = asked, answer to come. */
type Slot = string | Lookup | null;

/** How often held events whose lookups are answered are let go when no new batch comes (ms). */
const RELEASE_MS = 10;
/** The final flush waits at most this long for lookups owed (the rest go on as timed out). */
const FINAL_WAIT_MAX_MS = 60_000;

/**
 * Logstash's dns filter. The executor runs filters synchronously, so a lookup the caches cannot
 * answer is sent to a resolver thread and the event is held back (cancelled here, emitted again
 * once answered); while any event is held, later events wait behind it, so order is kept. Answers
 * are applied when the next batch arrives or at the next release tick (every 10 ms).
 */
export default definePlugin({
  kind: 'filter',
  name: 'dns',
  description: 'Reverse (PTR) and forward (A/AAAA) DNS lookups of field values, without holding up the pipeline thread.',
  options,
  flushIntervalMs: RELEASE_MS,
  check(o, env) {
    setupOf(o, env.resolvePath);
    compileDecorator(o, 'filter');
  },
  create(o, ctx) {
    const { setup, hostFiles } = setupOf(o, ctx.resolvePath);
    const hosts = new Hosts(hostFiles.map((f) => readText(f)));
    const decorate = compileDecorator(o, 'filter');
    const replace = o.action === 'replace';
    const tags = o.tag_on_timeout;
    const fields: { ref: FieldRef; kind: number; name: string }[] = [
      ...(o.resolve ?? []).map((f) => ({ ref: fieldRef(f), kind: RESOLVE, name: f })),
      ...(o.reverse ?? []).map((f) => ({ ref: fieldRef(f), kind: REVERSE, name: f })),
    ];
    const n = fields.length;
    const hit = o.hit_cache_size > 0 ? [new TtlCache<string>(o.hit_cache_size, o.hit_cache_ttl * 1000), new TtlCache<string>(o.hit_cache_size, o.hit_cache_ttl * 1000)] : undefined;
    const failed = o.failed_cache_size > 0 ? [new TtlCache<true>(o.failed_cache_size, o.failed_cache_ttl * 1000), new TtlCache<true>(o.failed_cache_size, o.failed_cache_ttl * 1000)] : undefined;
    const timeoutMs = Math.max(1, Math.round(o.timeout * 1000));
    const log = ctx.logger;
    const m = ctx.metrics;
    const cLookups = m.counter('lookups');
    const cHits = m.counter('cache_hits');
    const cTimeouts = m.counter('timeouts');
    const cFailures = m.counter('failures');
    const gHeld = m.gauge('held_events');
    const logTimeout = o.warn_on_timeout ? log.warn.bind(log) : log.info.bind(log);

    const client = setup.dns
      ? new LookupClient({
          setup,
          timeoutMs,
          retries: o.max_retries,
          concurrency: o.max_concurrent_lookups,
          settled(l) {
            const now = ctx.clock.now();
            if (l.status === OK) hit?.[l.kind]!.set(l.key, l.value, now);
            else if (l.status === FAIL) {
              cFailures.inc();
              failed?.[l.kind]!.set(l.key, true, now);
              log.debug({ value: l.key, kind: l.kind === RESOLVE ? 'resolve' : 'reverse' }, 'dns: no answer');
            } else if (l.status === TIMEOUT) {
              cTimeouts.inc();
              failed?.[l.kind]!.set(l.key, true, now);
              logTimeout({ value: l.key, kind: l.kind === RESOLVE ? 'resolve' : 'reverse', attempts: o.max_retries + 1 }, 'dns: lookup timed out');
            } else if (l.status === REFUSED) {
              cFailures.inc();
              log.error({ value: l.key, err: l.value }, 'dns: the name server refused the connection');
            }
          },
        })
      : undefined;
    log.info({ servers: setup.dns ? (setup.servers ?? new Resolver().getServers()) : [], search: setup.search, ndots: setup.ndots, hosts_files: hostFiles }, 'dns resolver');

    // scratch for the event at hand: no allocation when the caches answer and nothing is held
    const scratch: Slot[] = new Array(n).fill(null);
    let end = 0;
    let complete = true;
    let asked = 0;

    /** Fills `scratch` for the event; returns how many lookups it must wait for. */
    function classify(event: Event): void {
      asked = 0;
      complete = true;
      end = n;
      const now = hit || failed ? ctx.clock.now() : 0;
      for (let i = 0; i < n; i++) {
        const f = fields[i]!;
        let raw = event.get(f.ref);
        if (raw === undefined || raw === null) {
          scratch[i] = null;
          continue;
        }
        if (Array.isArray(raw)) {
          if (raw.length > 1) {
            log.debug({ field: f.name }, 'dns: skipping a field with several values');
            return stop(i);
          }
          raw = raw[0];
        }
        if (typeof raw !== 'string') return stop(i);
        if (f.kind === REVERSE && isIP(raw) === 0) return stop(i);
        if (failed?.[f.kind]!.get(raw, now) !== undefined) return stop(i);
        const cached = hit?.[f.kind]!.get(raw, now);
        if (cached !== undefined) {
          cHits.inc();
          scratch[i] = cached;
          continue;
        }
        const known = f.kind === RESOLVE ? (isIP(raw) !== 0 ? raw : hosts.address(raw)) : hosts.name(raw);
        if (known !== undefined) {
          scratch[i] = known;
          continue;
        }
        if (client === undefined) {
          // hosts files only: not found
          return stop(i);
        }
        let query = raw;
        if (f.kind === RESOLVE) {
          query = domainToASCII(raw);
          if (query === '') {
            log.debug({ field: f.name, value: raw }, 'dns: not a host name');
            return stop(i);
          }
        }
        cLookups.inc();
        scratch[i] = client.request(f.kind, raw, query);
        asked++;
      }
    }
    function stop(i: number): void {
      end = i;
      complete = false;
    }

    function write(event: Event, ref: FieldRef, value: string): void {
      const cur = event.get(ref);
      if (replace) event.set(ref, Array.isArray(cur) ? [value] : value);
      else if (Array.isArray(cur)) {
        cur.push(value);
        event.set(ref, cur);
      } else event.set(ref, [cur, value]);
    }

    /** Applies the answers in field order, as Logstash does: the first failure ends it (a timeout tags). */
    function apply(event: Event, vals: Slot[], upTo: number, whole: boolean): boolean {
      for (let i = 0; i < upTo; i++) {
        const v = vals[i];
        if (v === null || v === undefined) continue;
        if (typeof v === 'string') {
          write(event, fields[i]!.ref, v);
          continue;
        }
        if (v.status === OK) {
          write(event, fields[i]!.ref, v.value);
          continue;
        }
        // still pending: let go at the hold's limit or at the final flush, counted as timed out
        if (v.status === TIMEOUT || v.status === PENDING) for (let t = 0; t < tags.length; t++) event.tag(tags[t]!);
        return false;
      }
      if (whole && decorate !== undefined) decorate(event);
      return whole;
    }

    let held: (Held | undefined)[] = [];
    let head = 0;

    function release(emit: (e: Event) => void, force: boolean): void {
      while (head < held.length) {
        const h = held[head]!;
        if (h.need > 0 && !force) break;
        held[head++] = undefined;
        h.event.cancelled = false;
        apply(h.event, h.vals, h.end, h.complete);
        emit(h.event);
        if (force) break;
      }
      if (head === held.length) {
        held.length = 0;
        head = 0;
      } else if (head > 1024 && head * 2 > held.length) {
        held = held.slice(head);
        head = 0;
      }
      gHeld.set(held.length - head);
    }

    return {
      filter(event, emit) {
        if (head < held.length) release(emit, false);
        if (n === 0) return true;
        classify(event);
        if (asked === 0 && head === held.length) return apply(event, scratch, end, complete);
        while (held.length - head >= o.max_held_events) release(emit, true);
        const h: Held = { event, vals: scratch.slice(0, end), end, complete, need: 0 };
        for (let i = 0; i < end; i++) {
          const v = scratch[i];
          if (v !== null && typeof v === 'object' && v.status === PENDING) {
            h.need++;
            v.waiters.push(h);
          }
        }
        held.push(h);
        gHeld.set(held.length - head);
        event.cancelled = true;
        return false;
      },
      flush(emit, final) {
        if (head === held.length) return;
        // stopping: wait (this thread, at most as long as the lookups may take) for what is owed
        if (final && client !== undefined && client.pending > 0) {
          // the longest the owed lookups can take: rounds of max_concurrent_lookups, each at most every attempt timing out
          const rounds = Math.ceil(client.pending / o.max_concurrent_lookups);
          client.waitAll(Math.min(FINAL_WAIT_MAX_MS, rounds * timeoutMs * Math.max(1, setup.serverCount) * (o.max_retries + 1) + 250));
        }
        release(emit, false);
        if (final) while (head < held.length) release(emit, true);
      },
      async close() {
        await client?.close();
      },
    };
  },
});
