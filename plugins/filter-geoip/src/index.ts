import { ConfigError, definePlugin, fieldRef, opt, type Event, type FieldRef, type Fields, type Logger, type Resolved } from '@pipeline/core';
import { DatabaseError, openDatabaseAsync, openDatabaseSync, signatureAsync, signatureSync, type Database } from './database.js';
import { applyAnswer, compilePlan, FIELD_NAMES, resolveFieldNames, UnknownField, type Answer, type Plan } from './fields.js';
import { networkText, parseAddress } from './ip.js';
import { Lru } from './lru.js';

/** How often the database file is checked for a replacement (a stat; the file is read only when it changed). */
export const RELOAD_CHECK_MS = 5_000;

/** Logstash's ECS targets: a geoip target outside them logs a warning (as Logstash). */
const ECS_TARGETS = ['client', 'destination', 'host', 'observer', 'server', 'source'];

const options = {
  source: opt.field({ required: true, description: 'field holding the IP address; of an array, the first element is used' }),
  target: opt.field({
    description: "field to write the geo data under; default: `geoip` (ecs_compatibility => disabled), with ECS the parent of a source that ends in `[ip]` (`[client][ip]` → `client`), otherwise required",
  }),
  database: opt.path({
    description: 'path to the MaxMind DB file (GeoLite2/GeoIP2 City, Country or ASN `.mmdb`); required: no database is bundled or downloaded. Replacing the file reloads it',
  }),
  default_database_type: opt.string({
    default: 'City',
    values: ['City', 'ASN'],
    description: 'in Logstash, which bundled database to use without `database`; none is bundled here, so it only names the file the error asks for (GeoLite2-City.mmdb or GeoLite2-ASN.mmdb)',
  }),
  fields: opt.strings({
    description: "fields to write (the database's default set if unset); names as Logstash's: ip, city_name, country_name, continent_code, continent_name, country_code2, country_code3, postal_code, dma_code, region_name, region_code, region_iso_code, timezone, location, latitude, longitude, autonomous_system_number (asn), autonomous_system_organization (as_org), network",
    validate: (v: string[]) => {
      for (const [item, f] of v.entries()) {
        try {
          resolveFieldNames([f]);
        } catch (e) {
          if (e instanceof UnknownField) return { message: `geoip: unknown field '${e.field}'`, item, hint: `valid fields: ${FIELD_NAMES.join(', ')}` };
          throw e;
        }
      }
      return undefined;
    },
  }),
  tag_on_failure: opt.strings({ default: ['_geoip_lookup_failure'], description: 'tags added when the address is missing, not an address, or not in the database' }),
  cache_size: opt.integer({ default: 1000, min: 1, description: 'answers remembered per address, and decoded records kept by the reader (two LRUs of this size, per filter instance)' }),
  ecs_compatibility: opt.string({
    default: 'disabled',
    values: ['disabled', 'v1', 'v8'],
    description: 'disabled: the legacy layout under the target ([geoip][city_name]); v1, v8: ECS field names ([client][geo][city_name], [client][as][number])',
  }),
};

type Options = Resolved<typeof options>;

interface Compiled {
  source: FieldRef;
  target: FieldRef;
  ecs: boolean;
  path: string;
}

/** Checks the options and finds the database: the same function for `-t` and for start. */
function compile(o: Options, resolvePath: (p: string) => string): Compiled {
  if (o.database === undefined) {
    const file = `GeoLite2-${o.default_database_type}.mmdb`;
    throw ConfigError.forOption(
      'database',
      `geoip: option 'database' is required: no GeoIP database is bundled with Pipeline, and none is downloaded`,
      `download ${file} from MaxMind (free account; geoipupdate keeps it current) and set database => "/path/to/${file}"`,
    );
  }
  const ecs = o.ecs_compatibility !== 'disabled';
  const source = fieldRef(o.source);
  let target: FieldRef;
  if (o.target !== undefined) target = fieldRef(o.target);
  else if (!ecs) target = fieldRef('geoip');
  else {
    const p = source.path;
    if (p.length < 2 || p[p.length - 1] !== 'ip') {
      throw ConfigError.forOption('target', `geoip: with ecs_compatibility => ${o.ecs_compatibility}, option 'target' is required when source is not an ip sub-field (like [client][ip])`);
    }
    target = fieldRef(p.slice(0, -1).map((k) => `[${k}]`).join(''));
  }
  return { source, target, ecs, path: resolvePath(o.database) };
}

function openOrRefuse(path: string, cacheSize: number): Database {
  try {
    return openDatabaseSync(path, cacheSize);
  } catch (e) {
    if (e instanceof DatabaseError) throw ConfigError.forOption('database', `geoip: ${e.message}`);
    throw e;
  }
}

function planFor(db: Database, o: Options, ecs: boolean, logger?: Logger): Plan {
  const plan = compilePlan(db.kind, o.fields, ecs);
  if (logger && plan.unavailable.length > 0) {
    logger.warn({ database: db.type, fields: plan.unavailable }, `geoip: a ${db.kind} database does not give ${plan.unavailable.join(', ')}; they are left out`);
  }
  return plan;
}

/** A cached answer for an address that gives nothing (not an address, not in the database, no coordinates). */
const FAIL: Answer = Object.freeze({ t: { keys: [], values: [], sub: [] }, ip: '', network: undefined });

function isPlainObject(v: unknown): v is Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
}

export default definePlugin({
  kind: 'filter',
  name: 'geoip',
  description: 'Adds geographical and network information about an IP address from MaxMind databases.',
  options,
  // the answer depends only on the event and the database; each worker thread has its own instance
  parallel: true,
  check(o, env) {
    const c = compile(o, env.resolvePath);
    openOrRefuse(c.path, o.cache_size);
  },
  create(o, ctx) {
    const c = compile(o, (p) => ctx.resolvePath(p));
    const { source, target, ecs, path } = c;
    const tags = o.tag_on_failure;
    let seen = signatureSync(path);
    let db = openOrRefuse(path, o.cache_size);
    let plan = planFor(db, o, ecs, ctx.logger);
    if (ecs && !ECS_TARGETS.includes(target.path.join('.'))) ctx.logger.warn(`geoip: ECS expects target to be one of ${ECS_TARGETS.join(', ')}; got ${target.text}`);
    ctx.logger.info({ database: path, type: db.type, build: db.buildEpoch.toISOString() }, 'geoip: using database');

    const cache = new Lru<Answer>(o.cache_size);
    const hits = ctx.metrics.counter('cache_hits');
    const misses = ctx.metrics.counter('cache_misses');
    const failures = ctx.metrics.counter('lookup_failures');
    const reloads = ctx.metrics.counter('database_reloads');
    const reloadFailures = ctx.metrics.counter('database_reload_failures');

    /** The answer for one source text; only on a cache miss. */
    const resolve = (text: string): Answer | undefined => {
      const addr = parseAddress(text);
      if (addr === undefined) return FAIL; // hostnames are not resolved (see README)
      let rec: unknown;
      let prefix = 0;
      try {
        if (plan.wantsPrefix) [rec, prefix] = db.reader.getWithPrefixLength(addr.lookup);
        else rec = db.reader.get(addr.lookup);
      } catch (e) {
        // a record the reader cannot decode: not cached, so a reloaded database can answer
        ctx.logger.error({ err: (e as Error).message, value: text, database: path }, 'geoip: error from the database');
        return undefined;
      }
      if (rec === null || typeof rec !== 'object') return FAIL;
      const t = plan.build(rec as Record<string, unknown>);
      if (t === undefined) return FAIL;
      return { t, ip: addr.text, network: plan.wantsPrefix ? networkText(addr.bytes, prefix) : undefined };
    };

    const fail = (event: Event): false => {
      failures.inc();
      for (let i = 0; i < tags.length; i++) event.tag(tags[i]!);
      return false;
    };

    // ---- reloading the database when its file is replaced ----
    let loading = false;
    let closed = false;
    let missingWarned = false;
    const checkFile = async (): Promise<void> => {
      if (loading || closed) return;
      loading = true;
      try {
        const now = await signatureAsync(path);
        if (now === undefined) {
          // between an unlink and a rename, or deleted: keep answering from the database loaded
          if (!missingWarned) ctx.logger.warn({ database: path }, 'geoip: the database file is gone; keeping the database loaded before');
          missingWarned = true;
          return;
        }
        missingWarned = false;
        if (now === seen) return;
        seen = now; // a broken file is reported once, and read again when it changes again
        let next: Database;
        try {
          next = await openDatabaseAsync(path, o.cache_size);
        } catch (e) {
          reloadFailures.inc();
          ctx.logger.warn({ database: path, err: (e as Error).message }, 'geoip: the new database file cannot be used; keeping the database loaded before');
          return;
        }
        if (closed) return;
        const nextPlan = planFor(next, o, ecs, ctx.logger);
        // one synchronous step: every event after this sees the new database, none a mix
        db = next;
        plan = nextPlan;
        cache.clear();
        reloads.inc();
        ctx.logger.info({ database: path, type: next.type, build: next.buildEpoch.toISOString() }, 'geoip: database reloaded');
      } finally {
        loading = false;
      }
    };
    const timer = ctx.clock.setInterval(() => void checkFile(), RELOAD_CHECK_MS);

    return {
      filter(event) {
        let v = source.get(event.fields);
        if (Array.isArray(v)) v = v[0];
        if (typeof v !== 'string') return fail(event);
        let t = cache.get(v);
        if (t === undefined) {
          misses.inc();
          t = resolve(v);
          if (t === undefined) return fail(event);
          cache.set(v, t);
        } else hits.inc();
        if (t === FAIL) return fail(event);
        const fields = event.fields;
        const cur = target.get(fields);
        const holder = isPlainObject(cur) ? cur : {};
        applyAnswer(holder, t);
        event.set(target, holder);
        return true;
      },
      close() {
        closed = true;
        timer.cancel();
      },
    };
  },
});
