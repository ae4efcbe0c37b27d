/**
 * The fields the geoip filter writes, with Logstash's names: the `fields` option takes the first
 * column (case-insensitive; `asn` and `as_org` too), the legacy layout writes the second under the
 * target, ECS (v1, v8) the third. Order is Logstash's (its Field enum), which is also the order in
 * which the fields appear in an event.
 */

export type DatabaseKind = 'City' | 'Country' | 'ASN';

/** A decoded MaxMind record: nested maps, arrays and scalars. */
type Rec = Record<string, any>;

interface Lookup {
  rec: Rec;
}

/**
 * Where the address's own values go in a template built from a record (which many addresses of a
 * network share): the looked-up address, and the network of the database holding it.
 */
export const IP_SLOT: unique symbol = Symbol('ip');
export const NETWORK_SLOT: unique symbol = Symbol('network');

interface FieldDef {
  name: string;
  legacy: string;
  /** dotted ECS path; undefined: not written in ECS mode (country_code3) */
  ecs: string | undefined;
  /** what each database kind gives for it (absent: that kind does not provide it, as in Logstash) */
  from: Partial<Record<DatabaseKind, (l: Lookup) => unknown>>;
}

const en = (o: Rec | undefined): unknown => o?.names?.en;
const lastSubdivision = (r: Rec): Rec | undefined => {
  const s = r.subdivisions;
  return Array.isArray(s) && s.length > 0 ? s[s.length - 1] : undefined;
};
const ip = (): unknown => IP_SLOT;

export const FIELDS: readonly FieldDef[] = [
  { name: 'autonomous_system_number', legacy: 'asn', ecs: 'as.number', from: { ASN: (l) => l.rec.autonomous_system_number } },
  { name: 'autonomous_system_organization', legacy: 'as_org', ecs: 'as.organization.name', from: { ASN: (l) => l.rec.autonomous_system_organization } },
  { name: 'city_name', legacy: 'city_name', ecs: 'geo.city_name', from: { City: (l) => en(l.rec.city) } },
  { name: 'country_name', legacy: 'country_name', ecs: 'geo.country_name', from: { City: (l) => en(l.rec.country), Country: (l) => en(l.rec.country) } },
  { name: 'continent_code', legacy: 'continent_code', ecs: 'geo.continent_code', from: { City: (l) => l.rec.continent?.code } },
  { name: 'continent_name', legacy: 'continent_name', ecs: 'geo.continent_name', from: { City: (l) => en(l.rec.continent), Country: (l) => en(l.rec.continent) } },
  { name: 'country_code2', legacy: 'country_code2', ecs: 'geo.country_iso_code', from: { City: (l) => l.rec.country?.iso_code, Country: (l) => l.rec.country?.iso_code } },
  // Logstash fills country_code3 with the two-letter code too (GeoIP2 has no three-letter one)
  { name: 'country_code3', legacy: 'country_code3', ecs: undefined, from: { City: (l) => l.rec.country?.iso_code } },
  { name: 'ip', legacy: 'ip', ecs: 'ip', from: { City: ip, Country: ip, ASN: ip } },
  { name: 'postal_code', legacy: 'postal_code', ecs: 'geo.postal_code', from: { City: (l) => l.rec.postal?.code } },
  { name: 'dma_code', legacy: 'dma_code', ecs: 'mmdb.dma_code', from: { City: (l) => l.rec.location?.metro_code } },
  { name: 'region_name', legacy: 'region_name', ecs: 'geo.region_name', from: { City: (l) => en(lastSubdivision(l.rec)) } },
  { name: 'region_code', legacy: 'region_code', ecs: 'geo.region_code', from: { City: (l) => lastSubdivision(l.rec)?.iso_code } },
  {
    name: 'region_iso_code',
    legacy: 'region_iso_code',
    ecs: 'geo.region_iso_code',
    from: {
      City: (l) => {
        const c = l.rec.country?.iso_code;
        const s = lastSubdivision(l.rec)?.iso_code;
        return c !== undefined && s !== undefined ? `${c}-${s}` : undefined;
      },
    },
  },
  { name: 'timezone', legacy: 'timezone', ecs: 'geo.timezone', from: { City: (l) => l.rec.location?.time_zone } },
  {
    name: 'location',
    legacy: 'location',
    ecs: 'geo.location',
    from: {
      City: (l) => {
        const lat = l.rec.location?.latitude;
        const lon = l.rec.location?.longitude;
        return lat !== undefined && lon !== undefined ? { lat, lon } : undefined;
      },
    },
  },
  { name: 'latitude', legacy: 'latitude', ecs: 'geo.location.lat', from: { City: (l) => l.rec.location?.latitude } },
  { name: 'longitude', legacy: 'longitude', ecs: 'geo.location.lon', from: { City: (l) => l.rec.location?.longitude } },
  { name: 'network', legacy: 'network', ecs: 'ip_traits.network', from: { ASN: () => NETWORK_SLOT } },
];

const BY_NAME = new Map<string, FieldDef>(FIELDS.map((f) => [f.name, f]));
BY_NAME.set('asn', BY_NAME.get('autonomous_system_number')!);
BY_NAME.set('as_org', BY_NAME.get('autonomous_system_organization')!);

/** Field names the `fields` option accepts. */
export const FIELD_NAMES: readonly string[] = [...BY_NAME.keys()];

/** Logstash's default fields per database kind (City's region field depends on ECS). */
function defaults(kind: DatabaseKind, ecs: boolean): string[] {
  switch (kind) {
    case 'City':
      return ['ip', 'city_name', 'continent_code', 'country_name', 'country_code2', 'country_code3', 'postal_code', 'dma_code', 'region_name', ecs ? 'region_iso_code' : 'region_code', 'timezone', 'location', 'latitude', 'longitude'];
    case 'Country':
      return ['ip', 'country_code2', 'country_name', 'continent_name'];
    case 'ASN':
      return ['ip', 'autonomous_system_number', 'autonomous_system_organization'];
  }
}

/** Resolves the `fields` option's names; throws with the bad name and the valid ones. */
export function resolveFieldNames(names: readonly string[]): Set<FieldDef> {
  const out = new Set<FieldDef>();
  for (const n of names) {
    const f = BY_NAME.get(String(n).toLowerCase());
    if (f === undefined) throw new UnknownField(String(n));
    out.add(f);
  }
  return out;
}

export class UnknownField extends Error {
  constructor(readonly field: string) {
    super(`unknown field '${field}'; valid: ${FIELD_NAMES.join(', ')}`);
  }
}

/**
 * What is written for one lookup, compiled from a record on a cache miss: keys, the values to
 * copy (strings and numbers, shared by every event), and nested templates (objects: a fresh
 * object per event, so no two events share one).
 */
export interface Template {
  readonly keys: string[];
  readonly values: unknown[];
  readonly sub: (Template | null)[];
}

interface Step {
  path: string[];
  get: (l: Lookup) => unknown;
}

/** The compiled plan for one database kind: which fields to read, and where they go. */
export interface Plan {
  readonly kind: DatabaseKind;
  /** fields asked for that this kind does not give (Logstash leaves them out quietly) */
  readonly unavailable: string[];
  readonly wantsPrefix: boolean;
  /** The template for a decoded record (remembered per record object); undefined: nothing to write. */
  build(rec: Rec): Template | undefined;
}

export function compilePlan(kind: DatabaseKind, fields: readonly string[] | undefined, ecs: boolean): Plan {
  const wanted = resolveFieldNames(fields !== undefined && fields.length > 0 ? fields : defaults(kind, ecs));
  const steps: Step[] = [];
  const unavailable: string[] = [];
  let wantsPrefix = false;
  for (const f of FIELDS) {
    if (!wanted.has(f)) continue;
    const get = f.from[kind];
    if (get === undefined) {
      unavailable.push(f.name);
      continue;
    }
    const path = ecs ? f.ecs : f.legacy;
    if (path === undefined) continue; // country_code3 is not written in ECS mode, as in Logstash
    if (f.name === 'network') wantsPrefix = true;
    steps.push({ path: path.split('.'), get });
  }
  const make = (rec: Rec): Template | null => {
    // Logstash: with a City database, no coordinates means no enrichment at all
    if (kind === 'City' && rec.location?.latitude === undefined && rec.location?.longitude === undefined) return null;
    const l: Lookup = { rec };
    const root: Template = { keys: [], values: [], sub: [] };
    for (const s of steps) {
      const v = s.get(l);
      if (v === undefined || v === null) continue; // no empty fields
      put(root, s.path, 0, v);
    }
    return root.keys.length === 0 ? null : root;
  };
  // The reader hands out one object per decoded record while it stays in its cache.
  const byRecord = new WeakMap<object, Template | null>();
  return {
    kind,
    unavailable,
    wantsPrefix,
    build(rec) {
      let t = byRecord.get(rec);
      if (t === undefined) byRecord.set(rec, (t = make(rec)));
      return t ?? undefined;
    },
  };
}

function put(t: Template, path: string[], i: number, v: unknown): void {
  const key = path[i]!;
  let at = t.keys.indexOf(key);
  if (i === path.length - 1) {
    const sub = typeof v === 'object' && v !== null ? objectTemplate(v as Rec) : null;
    if (at < 0) {
      t.keys.push(key);
      t.values.push(sub === null ? v : undefined);
      t.sub.push(sub);
    } else if (sub !== null && t.sub[at] !== null) {
      mergeTemplate(t.sub[at]!, sub);
    } else {
      t.values[at] = sub === null ? v : undefined;
      t.sub[at] = sub;
    }
    return;
  }
  if (at < 0) {
    at = t.keys.push(key) - 1;
    t.values.push(undefined);
    t.sub.push({ keys: [], values: [], sub: [] });
  } else if (t.sub[at] === null) t.sub[at] = { keys: [], values: [], sub: [] };
  put(t.sub[at]!, path, i + 1, v);
}

function objectTemplate(o: Rec): Template {
  const t: Template = { keys: [], values: [], sub: [] };
  for (const k in o) {
    const v = o[k];
    t.keys.push(k);
    if (typeof v === 'object' && v !== null) {
      t.values.push(undefined);
      t.sub.push(objectTemplate(v as Rec));
    } else {
      t.values.push(v);
      t.sub.push(null);
    }
  }
  return t;
}

function mergeTemplate(into: Template, from: Template): void {
  for (let i = 0; i < from.keys.length; i++) {
    if (from.sub[i] === null) put(into, [from.keys[i]!], 0, from.values[i]);
    else put(into, [from.keys[i]!], 0, materialize(from.sub[i]!));
  }
}

function materialize(t: Template): Rec {
  const o: Rec = {};
  for (let i = 0; i < t.keys.length; i++) o[t.keys[i]!] = t.sub[i] === null ? t.values[i] : materialize(t.sub[i]!);
  return o;
}

function isPlainObject(v: unknown): v is Rec {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
}

/** One address's answer: the template of its record, and its own values for the slots. */
export interface Answer {
  readonly t: Template;
  readonly ip: string;
  readonly network: string | undefined;
}

/**
 * Writes an answer into `holder`, keeping what is there (Logstash sets each field under the
 * target one by one). The keys are this plugin's own names, never data.
 */
export function applyAnswer(holder: Rec, a: Answer): void {
  apply(holder, a.t, a);
}

function apply(holder: Rec, t: Template, a: Answer): void {
  const { keys, values, sub } = t;
  for (let i = 0; i < keys.length; i++) {
    const s = sub[i];
    const k = keys[i]!;
    if (s === null || s === undefined) {
      const v = values[i];
      holder[k] = v === IP_SLOT ? a.ip : v === NETWORK_SLOT ? a.network : v;
    } else {
      let child = holder[k];
      if (!isPlainObject(child)) holder[k] = child = {};
      apply(child, s, a);
    }
  }
}
