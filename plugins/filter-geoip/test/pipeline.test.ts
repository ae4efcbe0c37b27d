/**
 * The geoip filter in real `pipeline start` runs (core/bin/pipeline.js in a child process): the
 * known answers of MaxMind's test databases (City, Country, ASN) from stdin to stdout and from
 * the generator input to a file, a refused config, and the database file replaced under a running
 * pipeline, its answers changing without a restart.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ASN, CITY, COUNTRY, REPO, waitFor } from './helpers.js';

const BIN = join(REPO, 'core/bin/pipeline.js');
const wd = mkdtempSync(join(tmpdir(), 'geoip-pipeline-'));
after(() => rmSync(wd, { recursive: true, force: true }));

type Rec = Record<string, any>;

function env(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.NODE_TEST_CONTEXT;
  return e;
}

/** pipeline start -f conf, with `input` on its standard input; its events (json_lines on stdout). */
function run(name: string, conf: string, input = ''): { events: Rec[]; status: number | null; stderr: string } {
  const file = join(wd, `${name}.conf`);
  writeFileSync(file, conf);
  const r = spawnSync(process.execPath, [BIN, 'start', '-f', file, '--api.enabled', 'false', '--path.data', join(wd, `data-${name}`), '--log.level', 'warn'], {
    cwd: wd,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    env: env(),
  });
  const events = r.status === 0 ? r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Rec) : [];
  return { events, status: r.status, stderr: r.stderr };
}

const ADDRESSES = ['81.2.69.142', '81.2.69.160', '2.125.160.216', '89.160.20.112', '216.160.83.56', '1.128.0.0', '10.0.0.1'];

describe('geoip: known answers through pipeline start', () => {
  it('stdin → geoip City, Country and ASN → stdout', () => {
    const conf = `
input { stdin {} }
filter {
  geoip { source => "message" database => "${CITY}" }
  geoip { source => "message" database => "${COUNTRY}" target => "country" tag_on_failure => ["_no_country"] }
  geoip { source => "message" database => "${ASN}" target => "[net][as]" tag_on_failure => ["_no_asn"] }
}
output { stdout { codec => json_lines } }
`;
    const r = run('known', conf, ADDRESSES.join('\n') + '\n');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.events.length, ADDRESSES.length);
    const by = new Map(r.events.map((e) => [e.message, e]));
    const city = (ip: string) => by.get(ip)!.geoip as Rec;
    assert.deepEqual([city('81.2.69.142').city_name, city('81.2.69.142').country_code2], ['London', 'GB']);
    assert.deepEqual([city('81.2.69.160').city_name, city('81.2.69.160').country_code2], ['London', 'GB']);
    assert.deepEqual([city('2.125.160.216').city_name, city('2.125.160.216').country_code2, city('2.125.160.216').postal_code], ['Boxford', 'GB', 'OX1']);
    assert.deepEqual([city('89.160.20.112').city_name, city('89.160.20.112').country_code2, city('89.160.20.112').timezone], ['Linköping', 'SE', 'Europe/Stockholm']);
    assert.deepEqual(city('216.160.83.56'), {
      city_name: 'Milton',
      country_name: 'United States',
      continent_code: 'NA',
      country_code2: 'US',
      country_code3: 'US',
      ip: '216.160.83.56',
      postal_code: '98354',
      dma_code: 819,
      region_name: 'Washington',
      region_code: 'WA',
      timezone: 'America/Los_Angeles',
      location: { lat: 47.2513, lon: -122.3149 },
      latitude: 47.2513,
      longitude: -122.3149,
    });
    assert.deepEqual(by.get('81.2.69.142')!.country, { country_name: 'United Kingdom', continent_name: 'Europe', country_code2: 'GB', ip: '81.2.69.142' });
    assert.deepEqual(by.get('89.160.20.112')!.country.country_code2, 'SE');
    assert.deepEqual(by.get('1.128.0.0')!.net, { as: { asn: 1221, as_org: 'Telstra Pty Ltd', ip: '1.128.0.0' } });
    // 1.128.0.0 is in the ASN database only; 10.0.0.1 in none: tagged by each filter, no empty fields
    assert.deepEqual(by.get('1.128.0.0')!.tags, ['_geoip_lookup_failure', '_no_country']);
    assert.equal(by.get('1.128.0.0')!.geoip, undefined);
    const priv = by.get('10.0.0.1')!;
    assert.deepEqual(priv.tags, ['_geoip_lookup_failure', '_no_country', '_no_asn']);
    assert.equal(priv.geoip ?? priv.country ?? priv.net, undefined);
    const empty = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
    for (const [k, v] of Object.entries(priv)) assert.ok(!empty(v), `no empty field: ${k}`);
  });

  it('generator → geoip (fields, add_tag on success) → file', () => {
    const out = join(wd, 'out.json');
    const conf = `
input { generator { lines => ["216.160.83.56", "192.168.1.1"] count => 1 } }
filter { geoip { source => "message" database => "${CITY}" fields => ["city_name", "location"] add_tag => ["geo"] } }
output { file { path => "${out}" codec => json_lines } }
`;
    const r = run('generator', conf);
    assert.equal(r.status, 0, r.stderr);
    const events = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);
    const by = new Map(events.map((e) => [e.message, e]));
    assert.deepEqual(by.get('216.160.83.56')!.geoip, { city_name: 'Milton', location: { lat: 47.2513, lon: -122.3149 } });
    assert.deepEqual(by.get('216.160.83.56')!.tags, ['geo']);
    assert.deepEqual(by.get('192.168.1.1')!.tags, ['_geoip_lookup_failure'], 'no add_tag on failure');
  });

  it('-t refuses a config without database, naming the option', () => {
    const file = join(wd, 'nodb.conf');
    writeFileSync(file, 'input { stdin {} }\nfilter {\n  geoip { source => "message" }\n}\noutput { stdout {} }\n');
    const r = spawnSync(process.execPath, [BIN, 'start', '-t', '-f', file], { cwd: wd, encoding: 'utf8', env: env(), timeout: 60_000 });
    assert.notEqual(r.status, 0);
    const text = r.stdout + r.stderr;
    assert.match(text, /nodb\.conf:3:\d+/);
    assert.match(text, /option 'database' is required: no GeoIP database is bundled/);
    assert.match(text, /GeoLite2-City\.mmdb/);
  });
});

describe('geoip: the database file replaced under a running pipeline', () => {
  it('City → Country → broken → City again: answers follow the file, no restart', async () => {
    const db = join(wd, 'GeoLite2-City.mmdb');
    copyFileSync(CITY, db);
    const file = join(wd, 'reload.conf');
    writeFileSync(file, `input { stdin {} }\nfilter { geoip { source => "message" database => "${db}" } }\noutput { stdout { codec => json_lines } }\n`);
    const child = spawn(process.execPath, [BIN, 'start', '-f', file, '--api.enabled', 'false', '--path.data', join(wd, 'data-reload'), '--log.format', 'json', '--log.level', 'info'], {
      cwd: wd,
      env: env(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const events: Rec[] = [];
    const logs: Rec[] = [];
    let outPart = '';
    let errPart = '';
    let errText = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const lines = (outPart + d).split('\n');
      outPart = lines.pop()!;
      for (const l of lines) if (l.startsWith('{')) events.push(JSON.parse(l) as Rec);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      errText += d;
      const lines = (errPart + d).split('\n');
      errPart = lines.pop()!;
      for (const l of lines) if (l.startsWith('{')) logs.push(JSON.parse(l) as Rec);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const ask = async (n: number, ip: string): Promise<Rec> => {
      child.stdin.write(`${ip}\n`);
      await waitFor(() => events.length >= n, `event ${n}; stderr: ${errText.slice(-2000)}`, 30_000);
      return events[n - 1]!;
    };
    const logged = (re: RegExp, n = 1) => waitFor(() => logs.filter((r) => re.test(String(r.msg))).length >= n, `a log ${re}; stderr: ${errText.slice(-2000)}`, 30_000);
    try {
      await logged(/geoip: using database/);
      assert.equal((await ask(1, '81.2.69.142')).geoip.city_name, 'London');

      // a Country database renamed over the file, as geoipupdate does
      copyFileSync(COUNTRY, `${db}.tmp`);
      renameSync(`${db}.tmp`, db);
      await logged(/geoip: database reloaded/);
      assert.deepEqual((await ask(2, '81.2.69.142')).geoip, { country_name: 'United Kingdom', continent_name: 'Europe', country_code2: 'GB', ip: '81.2.69.142' });

      // a broken file: refused with a warning, the Country answers go on
      writeFileSync(`${db}.tmp`, 'garbage\n'.repeat(1000));
      renameSync(`${db}.tmp`, db);
      await logged(/cannot be used; keeping the database loaded before/);
      assert.equal((await ask(3, '216.160.83.56')).geoip.country_code2, 'US');
      assert.equal(events[2]!.geoip.city_name, undefined);

      copyFileSync(CITY, `${db}.tmp`);
      renameSync(`${db}.tmp`, db);
      await logged(/geoip: database reloaded/, 2);
      assert.equal((await ask(4, '216.160.83.56')).geoip.city_name, 'Milton');
    } finally {
      child.stdin.end();
    }
    assert.equal(await exited, 0, errText.slice(-2000));
    assert.equal(events.length, 4);
  });
});
