/**
 * Every option of the geoip filter, on MaxMind's test databases; expected answers are read from
 * the source records (GeoIP2-City-Test.json, GeoLite2-ASN-Test.json), not from the reader.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ConfigError, Event } from '@pipeline/core';
import { createPlugin, makeContext, MetricsRegistry, optionsFromConfig, runFilter } from '@pipeline/core/testing';
import geoip from '../src/index.js';
import { ASN, captureLogger, CITY, COUNTRY, expected, LITE_CITY, type Captured } from './helpers.js';

const wd = mkdtempSync(join(tmpdir(), 'geoip-options-'));
after(() => rmSync(wd, { recursive: true, force: true }));

type Rec = Record<string, any>;

async function lookup(body: string, events: Rec[], ctx = makeContext()): Promise<Event[]> {
  const f = await createPlugin(geoip, body, ctx);
  try {
    return runFilter(f, events);
  } finally {
    await f.close?.();
  }
}

async function refused(body: string): Promise<ConfigError> {
  try {
    await createPlugin(geoip, body, makeContext());
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a ConfigError, not ${String(e)}`);
    return e;
  }
  assert.fail(`accepted: ${body}`);
}

/** The legacy City answer Logstash writes, built from a source record. */
function legacyCity(ip: string): Rec {
  const r = expected('GeoIP2-City-Test.json', ip)!;
  const sub = r.subdivisions?.[r.subdivisions.length - 1];
  const out: Rec = {
    city_name: r.city?.names?.en,
    country_name: r.country?.names?.en,
    continent_code: r.continent?.code,
    country_code2: r.country?.iso_code,
    country_code3: r.country?.iso_code,
    ip,
    postal_code: r.postal?.code,
    dma_code: r.location?.metro_code,
    region_name: sub?.names?.en,
    region_code: sub?.iso_code,
    timezone: r.location?.time_zone,
    location: { lat: r.location.latitude, lon: r.location.longitude },
    latitude: r.location.latitude,
    longitude: r.location.longitude,
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

describe('geoip: known answers (City, Country, ASN)', () => {
  it('City: the five test addresses, in the legacy layout and Logstash field order', async () => {
    const ips = ['81.2.69.142', '81.2.69.160', '2.125.160.216', '89.160.20.112', '216.160.83.56'];
    const out = await lookup(`source => "clientip" database => "${CITY}"`, ips.map((clientip) => ({ clientip })));
    for (const [i, ip] of ips.entries()) {
      const g = out[i]!.get('geoip') as Rec;
      assert.deepEqual(g, legacyCity(ip), ip);
      assert.deepEqual(Object.keys(g), Object.keys(legacyCity(ip)), `${ip}: field order`);
      assert.equal(out[i]!.tags.length, 0);
    }
    const [london, , boxford, linkoping, milton] = out.map((e) => e.get('geoip') as Rec);
    assert.deepEqual([london!.city_name, london!.country_code2, london!.region_code], ['London', 'GB', 'ENG']);
    assert.deepEqual([boxford!.city_name, boxford!.postal_code], ['Boxford', 'OX1']);
    assert.deepEqual([linkoping!.city_name, linkoping!.country_code2], ['Linköping', 'SE']);
    assert.deepEqual([milton!.city_name, milton!.region_code, milton!.country_code2, milton!.dma_code], ['Milton', 'WA', 'US', 819]);
  });

  it('addresses of one network share its record, each keeps its own ip', async () => {
    const out = await lookup(`source => "ip" database => "${CITY}"`, [{ ip: '81.2.69.160' }, { ip: '81.2.69.170' }, { ip: '81.2.69.160' }]);
    assert.deepEqual(out.map((e) => (e.get('geoip') as Rec).ip), ['81.2.69.160', '81.2.69.170', '81.2.69.160']);
    assert.deepEqual(out[1]!.get('geoip'), { ...legacyCity('81.2.69.170') });
  });

  it('the GeoLite2 City database gives the same answers', async () => {
    const [e] = await lookup(`source => "ip" database => "${LITE_CITY}"`, [{ ip: '89.160.20.112' }]);
    assert.equal((e!.get('geoip') as Rec).city_name, 'Linköping');
  });

  it("Country: Logstash's country set (ip, country_code2, country_name, continent_name)", async () => {
    const [e] = await lookup(`source => "ip" database => "${COUNTRY}"`, [{ ip: '81.2.69.160' }]);
    assert.deepEqual(e!.get('geoip'), { country_name: 'United Kingdom', continent_name: 'Europe', country_code2: 'GB', ip: '81.2.69.160' });
  });

  it('ASN: asn and as_org, Telstra for 1.128.0.0', async () => {
    const out = await lookup(`source => "ip" database => "${ASN}"`, [{ ip: '1.128.0.0' }, { ip: '89.160.20.112' }, { ip: '216.160.83.56' }]);
    assert.deepEqual(out[0]!.get('geoip'), { asn: 1221, as_org: 'Telstra Pty Ltd', ip: '1.128.0.0' });
    const bredband = expected('GeoLite2-ASN-Test.json', '89.160.20.112')!;
    assert.deepEqual(out[1]!.get('geoip'), { asn: bredband.autonomous_system_number, as_org: bredband.autonomous_system_organization, ip: '89.160.20.112' });
    // a record without an organization: no empty as_org
    assert.deepEqual(out[2]!.get('geoip'), { asn: expected('GeoLite2-ASN-Test.json', '216.160.83.56')!.autonomous_system_number, ip: '216.160.83.56' });
  });
});

describe('geoip: addresses that give nothing', () => {
  const bad: [string, unknown][] = [
    ['a private address', '10.0.0.1'],
    ['a loopback address', '127.0.0.1'],
    ['IPv6 loopback', '::1'],
    ['an address in no network of the database', '0.0.0.0'],
    ['a documentation address', '192.0.2.1'],
    ['a dash', '-'],
    ['N/A', 'N/A'],
    ['two addresses', '123.45.67.89,61.160.232.222'],
    ['an empty string', ''],
    ['blanks', '   '],
    ['a hostname (not resolved)', 'example.com'],
    ['a number', 42],
    ['an object', { ip: '81.2.69.142' }],
    ['an empty array', []],
  ];
  for (const [what, ip] of bad) {
    it(`${what}: tagged, no target, no empty field`, async () => {
      const [e] = await lookup(`source => "ip" database => "${CITY}"`, [{ ip, keep: 1 }]);
      assert.deepEqual(e!.tags, ['_geoip_lookup_failure']);
      assert.equal(e!.get('geoip'), undefined);
      assert.deepEqual(e!.get('ip'), ip);
    });
  }

  it('a missing source field is tagged (Logstash tags it too)', async () => {
    const [e] = await lookup(`source => "ip" database => "${CITY}"`, [{ message: 'x' }]);
    assert.deepEqual(e!.tags, ['_geoip_lookup_failure']);
    assert.equal(e!.get('geoip'), undefined);
  });

  it('a City record without coordinates gives no enrichment (Logstash aborts then)', async () => {
    // 214.1.1.0/24 in GeoIP2-City-Test holds only { traits: { is_anycast: true } }
    const [e] = await lookup(`source => "ip" database => "${CITY}"`, [{ ip: '214.1.1.1' }]);
    assert.deepEqual(e!.tags, ['_geoip_lookup_failure']);
    assert.equal(e!.get('geoip'), undefined);
  });

  it('a failed lookup leaves an existing target alone', async () => {
    const [e] = await lookup(`source => "ip" database => "${CITY}"`, [{ ip: '10.0.0.1', geoip: { note: 'kept' } }]);
    assert.deepEqual(e!.get('geoip'), { note: 'kept' });
  });

  it('the common add_tag is not applied on failure (the filter did not match)', async () => {
    const f = await createPlugin(geoip, `source => "ip" database => "${CITY}"`);
    const bad = new Event({ ip: '10.0.0.1' });
    const good = new Event({ ip: '81.2.69.142' });
    assert.equal(f.filter(bad, () => {}), false);
    assert.equal(f.filter(good, () => {}), true);
    await f.close?.();
  });
});

describe('geoip: source', () => {
  it('is required', () => {
    assert.throws(() => optionsFromConfig(geoip, `database => "${CITY}"`), /source/);
  });

  it('a nested field reference', async () => {
    const [e] = await lookup(`source => "[client][address]" database => "${CITY}"`, [{ client: { address: '81.2.69.142' } }]);
    assert.equal((e!.get('geoip') as Rec).city_name, 'London');
  });

  it('of an array, the first element is used', async () => {
    const [e] = await lookup(`source => "ips" database => "${CITY}"`, [{ ips: ['89.160.20.112', '81.2.69.142'] }]);
    assert.equal((e!.get('geoip') as Rec).city_name, 'Linköping');
  });

  it('a malformed reference is refused at load', () => {
    assert.throws(() => optionsFromConfig(geoip, `source => "[a" database => "${CITY}"`), /source|field reference/);
  });

  it('IPv6: looked up and written in full as Java writes it; IPv4-mapped as IPv4', async () => {
    const out = await lookup(`source => "ip" database => "${CITY}"`, [{ ip: '2001:218::1' }, { ip: '::ffff:81.2.69.142' }, { ip: '2001:0218:0000::00ff' }]);
    const jp = out[0]!.get('geoip') as Rec;
    assert.equal(jp.country_code2, 'JP');
    assert.equal(jp.ip, '2001:218:0:0:0:0:0:1');
    assert.deepEqual(out[1]!.get('geoip'), legacyCity('81.2.69.142'));
    assert.equal((out[2]!.get('geoip') as Rec).ip, '2001:218:0:0:0:0:0:ff');
  });
});

describe('geoip: target', () => {
  it('defaults to geoip', async () => {
    const [e] = await lookup(`source => "ip" database => "${CITY}"`, [{ ip: '81.2.69.142' }]);
    assert.ok(e!.get('geoip'));
  });

  it('a nested target is created', async () => {
    const [e] = await lookup(`source => "ip" target => "[enrich][src_geo]" database => "${CITY}"`, [{ ip: '81.2.69.142' }]);
    assert.deepEqual(e!.get('[enrich][src_geo]'), legacyCity('81.2.69.142'));
    assert.equal(e!.get('geoip'), undefined);
  });

  it('fields are added to an existing target object, which keeps its other keys', async () => {
    const [e] = await lookup(`source => "ip" database => "${ASN}"`, [{ ip: '1.128.0.0', geoip: { city_name: 'London', asn: 0 } }]);
    assert.deepEqual(e!.get('geoip'), { city_name: 'London', asn: 1221, as_org: 'Telstra Pty Ltd', ip: '1.128.0.0' });
  });

  it('two filters, source and destination, in one event', async () => {
    const ctx = makeContext();
    const src = await createPlugin(geoip, `source => "src_ip" target => "src_geo" database => "${CITY}"`, ctx);
    const dst = await createPlugin(geoip, `source => "dst_ip" target => "dst_geo" database => "${ASN}"`, ctx);
    const e = new Event({ src_ip: '216.160.83.56', dst_ip: '1.128.0.0' });
    src.filter(e, () => {});
    dst.filter(e, () => {});
    assert.equal((e.get('src_geo') as Rec).city_name, 'Milton');
    assert.equal((e.get('dst_geo') as Rec).as_org, 'Telstra Pty Ltd');
    await src.close?.();
    await dst.close?.();
  });
});

describe('geoip: database', () => {
  it('is required: no database is bundled, and the error names the option and the file to get', async () => {
    const e = await refused(`source => "ip"`);
    assert.equal(e.option?.name, 'database');
    assert.match(e.message, /option 'database' is required/);
    assert.match(e.message, /no GeoIP database is bundled/);
    assert.match(e.hint ?? '', /GeoLite2-City\.mmdb/);
  });

  it('the same refusal from check (pipeline start -t)', () => {
    const o = optionsFromConfig(geoip, `source => "ip"`);
    assert.throws(() => geoip.check!(o as never, { resolvePath: (p) => p }), (e: unknown) => e instanceof ConfigError && e.option?.name === 'database');
  });

  it('a file that does not exist', async () => {
    const e = await refused(`source => "ip" database => "${join(wd, 'nope.mmdb')}"`);
    assert.equal(e.option?.name, 'database');
    assert.match(e.message, /cannot read .*nope\.mmdb: ENOENT/);
  });

  it('a file that is not a MaxMind DB', async () => {
    const p = join(wd, 'not.mmdb');
    writeFileSync(p, 'hello, this is no database\n'.repeat(100));
    const e = await refused(`source => "ip" database => "${p}"`);
    assert.match(e.message, /not a MaxMind DB/);
  });

  it('a gzip-compressed download', async () => {
    const p = join(wd, 'GeoLite2-City.mmdb.gz');
    writeFileSync(p, gzipSync(readFileSync(CITY)));
    const e = await refused(`source => "ip" database => "${p}"`);
    assert.match(e.message, /gzip-compressed/);
  });

  it('a truncated file', async () => {
    const p = join(wd, 'cut.mmdb');
    const buf = readFileSync(CITY);
    writeFileSync(p, buf.subarray(0, Math.floor(buf.length / 2)));
    const e = await refused(`source => "ip" database => "${p}"`);
    assert.match(e.message, /not a MaxMind DB|damaged/);
  });

  it('a relative path resolves from the working directory', async () => {
    const ctx = makeContext({ workingDir: join(CITY, '..') });
    const [e] = await lookup(`source => "ip" database => "GeoIP2-City-Test.mmdb"`, [{ ip: '81.2.69.142' }], ctx);
    assert.equal((e!.get('geoip') as Rec).city_name, 'London');
  });
});

describe('geoip: default_database_type', () => {
  it('City or ASN only', () => {
    assert.throws(() => optionsFromConfig(geoip, `source => "ip" database => "${CITY}" default_database_type => "Country"`), /default_database_type/);
  });

  it('without database it names the file to download', async () => {
    assert.match((await refused(`source => "ip" default_database_type => "ASN"`)).hint ?? '', /GeoLite2-ASN\.mmdb/);
    assert.match((await refused(`source => "ip" default_database_type => "City"`)).hint ?? '', /GeoLite2-City\.mmdb/);
  });

  it('with database, the database decides (as in Logstash)', async () => {
    const [e] = await lookup(`source => "ip" database => "${ASN}" default_database_type => "City"`, [{ ip: '1.128.0.0' }]);
    assert.equal((e!.get('geoip') as Rec).asn, 1221);
  });
});

describe('geoip: fields', () => {
  it('only the fields named, in Logstash order whatever the order written', async () => {
    const [e] = await lookup(`source => "ip" database => "${CITY}" fields => ["longitude", "city_name", "IP"]`, [{ ip: '81.2.69.142' }]);
    const g = e!.get('geoip') as Rec;
    assert.deepEqual(g, { city_name: 'London', ip: '81.2.69.142', longitude: -0.0931 });
    assert.deepEqual(Object.keys(g), ['city_name', 'ip', 'longitude']);
  });

  it('City fields outside the default set: continent_name, region_iso_code', async () => {
    const [e] = await lookup(`source => "ip" database => "${CITY}" fields => ["continent_name", "region_iso_code"]`, [{ ip: '216.160.83.56' }]);
    assert.deepEqual(e!.get('geoip'), { continent_name: 'North America', region_iso_code: 'US-WA' });
  });

  it("ASN: Logstash's names autonomous_system_number / _organization, asn / as_org too, and network", async () => {
    const [a] = await lookup(`source => "ip" database => "${ASN}" fields => ["autonomous_system_number", "autonomous_system_organization", "network"]`, [{ ip: '1.128.0.1' }]);
    assert.deepEqual(a!.get('geoip'), { asn: 1221, as_org: 'Telstra Pty Ltd', network: '1.128.0.0/11' });
    const [b] = await lookup(`source => "ip" database => "${ASN}" fields => ["asn"]`, [{ ip: '1.128.0.1' }]);
    assert.deepEqual(b!.get('geoip'), { asn: 1221 });
  });

  it('an unknown field name is refused at load, naming it and the valid ones', () => {
    assert.throws(
      () => optionsFromConfig(geoip, `source => "ip" database => "${CITY}" fields => ["city_name", "citty"]`),
      (e: unknown) => e instanceof Error && /unknown field 'citty'/.test(e.message),
    );
  });

  it("fields the database does not give are left out, with a warning at start", async () => {
    const logs: Captured[] = [];
    const ctx = makeContext({ logger: captureLogger(logs) });
    const [e] = await lookup(`source => "ip" database => "${COUNTRY}" fields => ["country_code2", "city_name", "asn"]`, [{ ip: '81.2.69.142' }], ctx);
    assert.deepEqual(e!.get('geoip'), { country_code2: 'GB' });
    const w = logs.find((l) => l.level === 'warn');
    assert.match(w?.msg ?? '', /does not give autonomous_system_number, city_name/);
  });

  it('nothing to write for an address: tagged', async () => {
    // 12.81.96.0/19 has an ASN but no organization
    const [e] = await lookup(`source => "ip" database => "${ASN}" fields => ["as_org"]`, [{ ip: '12.81.96.1' }]);
    assert.deepEqual(e!.tags, ['_geoip_lookup_failure']);
    assert.equal(e!.get('geoip'), undefined);
  });
});

describe('geoip: tag_on_failure', () => {
  it('the tags given, all of them', async () => {
    const [e] = await lookup(`source => "ip" database => "${CITY}" tag_on_failure => ["no_geo", "check"]`, [{ ip: '10.1.1.1', tags: ['seen'] }]);
    assert.deepEqual(e!.tags, ['seen', 'no_geo', 'check']);
  });

  it('empty: failures are not tagged', async () => {
    const [e] = await lookup(`source => "ip" database => "${CITY}" tag_on_failure => []`, [{ ip: '10.1.1.1' }]);
    assert.deepEqual(e!.tags, []);
  });

  it('a success adds no tag', async () => {
    const [e] = await lookup(`source => "ip" database => "${CITY}"`, [{ ip: '81.2.69.142' }]);
    assert.deepEqual(e!.tags, []);
  });
});

describe('geoip: cache_size', () => {
  it('must be at least 1', () => {
    assert.throws(() => optionsFromConfig(geoip, `source => "ip" database => "${CITY}" cache_size => 0`), /cache_size/);
  });

  it('an LRU of that many addresses: a hit for recent ones, a miss once evicted', async () => {
    const metrics = new MetricsRegistry();
    const f = await createPlugin(geoip, `source => "ip" database => "${CITY}" cache_size => 2`, makeContext({ metrics }));
    const run = (ip: string) => runFilter(f, [{ ip }])[0]!;
    const counts = () => {
      const s = metrics.snapshot() as Rec;
      return [s.cache_hits ?? 0, s.cache_misses ?? 0];
    };
    run('81.2.69.142'); // miss
    run('89.160.20.112'); // miss
    run('81.2.69.142'); // hit: now the most recent
    assert.deepEqual(counts(), [1, 2]);
    run('216.160.83.56'); // miss, evicts 89.160.20.112 (least recent)
    run('81.2.69.142'); // hit
    assert.deepEqual(counts(), [2, 3]);
    const again = run('89.160.20.112'); // miss: it was evicted
    assert.deepEqual(counts(), [2, 4]);
    assert.equal((again.get('geoip') as Rec).city_name, 'Linköping', 'an evicted address is looked up again, same answer');
    await f.close?.();
  });

  it('failures are cached too, and a cached answer writes fresh objects per event', async () => {
    const metrics = new MetricsRegistry();
    const f = await createPlugin(geoip, `source => "ip" database => "${CITY}"`, makeContext({ metrics }));
    const out = runFilter(f, [{ ip: '10.0.0.1' }, { ip: '10.0.0.1' }, { ip: '81.2.69.142' }, { ip: '81.2.69.142' }]);
    const s = metrics.snapshot() as Rec;
    assert.deepEqual([s.cache_hits, s.cache_misses, s.lookup_failures], [2, 2, 2]);
    const [a, b] = [out[2]!.get('geoip') as Rec, out[3]!.get('geoip') as Rec];
    assert.deepEqual(a, b);
    assert.notEqual(a, b);
    assert.notEqual(a.location, b.location, 'location is not shared between events');
    a.location.lat = 0;
    assert.equal(b.location.lat, 51.5142);
    await f.close?.();
  });
});

describe('geoip: ecs_compatibility', () => {
  it('disabled is the default (legacy layout)', () => {
    assert.equal(optionsFromConfig(geoip, `source => "ip" database => "${CITY}"`).ecs_compatibility, 'disabled');
  });

  it('v8: ECS names under the parent of [client][ip]; region_iso_code; no country_code3', async () => {
    const [e] = await lookup(`source => "[client][ip]" database => "${CITY}" ecs_compatibility => "v8"`, [{ client: { ip: '216.160.83.56' } }]);
    assert.deepEqual(e!.get('client'), {
      ip: '216.160.83.56',
      geo: {
        city_name: 'Milton',
        country_name: 'United States',
        continent_code: 'NA',
        country_iso_code: 'US',
        postal_code: '98354',
        region_name: 'Washington',
        region_iso_code: 'US-WA',
        timezone: 'America/Los_Angeles',
        location: { lat: 47.2513, lon: -122.3149 },
      },
      mmdb: { dma_code: 819 },
    });
  });

  it('v1: ASN as [as][number] and [as][organization][name]', async () => {
    const [e] = await lookup(`source => "[source][ip]" database => "${ASN}" ecs_compatibility => "v1"`, [{ source: { ip: '1.128.0.0' } }]);
    assert.deepEqual(e!.get('source'), { ip: '1.128.0.0', as: { number: 1221, organization: { name: 'Telstra Pty Ltd' } } });
  });

  it('a source that is not an [ip] sub-field needs a target', async () => {
    const e = await refused(`source => "clientip" database => "${CITY}" ecs_compatibility => "v8"`);
    assert.equal(e.option?.name, 'target');
    const [ok] = await lookup(`source => "clientip" target => "client" database => "${COUNTRY}" ecs_compatibility => "v8"`, [{ clientip: '81.2.69.142' }]);
    assert.deepEqual(ok!.get('client'), { geo: { country_name: 'United Kingdom', continent_name: 'Europe', country_iso_code: 'GB' }, ip: '81.2.69.142' });
  });

  it('a target outside the ECS ones logs a warning, as Logstash', async () => {
    const logs: Captured[] = [];
    await lookup(`source => "clientip" target => "peer" database => "${CITY}" ecs_compatibility => "v1"`, [], makeContext({ logger: captureLogger(logs) }));
    assert.ok(logs.some((l) => l.level === 'warn' && /ECS expects target/.test(l.msg)));
  });

  it('other values are refused', () => {
    assert.throws(() => optionsFromConfig(geoip, `source => "ip" database => "${CITY}" ecs_compatibility => "v2"`), /ecs_compatibility/);
  });
});
