/**
 * The database file replaced under a running filter (users update GeoLite2 weekly): the filter
 * notices on its next check (a stat every RELOAD_CHECK_MS, on the context's clock), reads the new
 * file, and swaps it in; a broken new file keeps the old database and logs a warning.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { VirtualClock } from '@pipeline/core';
import { createPlugin, makeContext, MetricsRegistry, runFilter } from '@pipeline/core/testing';
import geoip, { RELOAD_CHECK_MS } from '../src/index.js';
import { ASN, captureLogger, CITY, COUNTRY, LITE_CITY, waitFor, type Captured } from './helpers.js';

const wd = mkdtempSync(join(tmpdir(), 'geoip-reload-'));
after(() => rmSync(wd, { recursive: true, force: true }));

type Rec = Record<string, any>;

/** Replaces `dest` as geoipupdate does: write beside it, then rename over it. */
function replaceWith(src: string, dest: string): void {
  copyFileSync(src, `${dest}.tmp`);
  renameSync(`${dest}.tmp`, dest);
}

async function setup(name: string, first: string, body = '') {
  const db = join(wd, name);
  copyFileSync(first, db);
  const metrics = new MetricsRegistry();
  const logs: Captured[] = [];
  const ctx = makeContext({ metrics, logger: captureLogger(logs) });
  const clock = ctx.clock as VirtualClock;
  const f = await createPlugin(geoip, `source => "ip" database => "${db}" ${body}`, ctx);
  const geo = (ip: string) => runFilter(f, [{ ip }])[0]!.get('geoip') as Rec | undefined;
  const count = (k: string) => ((metrics.snapshot() as Rec)[k] ?? 0) as number;
  return { db, f, geo, count, clock, logs };
}

describe('geoip: reloading a replaced database', () => {
  it('City, then Country, then ASN: answers change without a restart; cached answers are dropped', async () => {
    const { db, f, geo, count, clock } = await setup('GeoLite2-City.mmdb', CITY);
    assert.equal(geo('81.2.69.142')!.city_name, 'London'); // now cached
    clock.advance(RELOAD_CHECK_MS); // nothing changed: no reload
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(count('database_reloads'), 0);

    replaceWith(COUNTRY, db);
    clock.advance(RELOAD_CHECK_MS);
    await waitFor(() => count('database_reloads') === 1, 'the Country database to be loaded');
    assert.deepEqual(geo('81.2.69.142'), { country_name: 'United Kingdom', continent_name: 'Europe', country_code2: 'GB', ip: '81.2.69.142' });

    replaceWith(ASN, db);
    clock.advance(RELOAD_CHECK_MS);
    await waitFor(() => count('database_reloads') === 2, 'the ASN database to be loaded');
    assert.deepEqual(geo('1.128.0.0'), { asn: 1221, as_org: 'Telstra Pty Ltd', ip: '1.128.0.0' });
    assert.equal(geo('81.2.69.142'), undefined, 'not in the ASN database');
    await f.close?.();
  });

  it('another City database copied over the file (cp, not rename) is loaded too', async () => {
    const { db, f, geo, count, clock } = await setup('city.mmdb', CITY);
    // 214.78.120.0/22 is San Diego in GeoIP2-City-Test and in no network of GeoLite2-City-Test
    assert.equal(geo('214.78.120.1')!.city_name, 'San Diego');
    writeFileSync(db, readFileSync(LITE_CITY));
    clock.advance(RELOAD_CHECK_MS);
    await waitFor(() => count('database_reloads') === 1, 'the GeoLite2 database to be loaded');
    assert.equal(geo('214.78.120.1'), undefined);
    assert.equal(geo('89.160.20.112')!.city_name, 'Linköping');
    await f.close?.();
  });

  it('a broken new file keeps the old database and logs one warning; the next good file is loaded', async () => {
    const { db, f, geo, count, clock, logs } = await setup('broken.mmdb', CITY);
    writeFileSync(`${db}.tmp`, 'not a database at all\n'.repeat(64));
    renameSync(`${db}.tmp`, db);
    clock.advance(RELOAD_CHECK_MS);
    await waitFor(() => count('database_reload_failures') === 1, 'the broken file to be refused');
    assert.equal(geo('81.2.69.142')!.city_name, 'London', 'still the old database');
    const warn = logs.find((l) => l.level === 'warn' && /cannot be used; keeping the database loaded before/.test(l.msg));
    assert.ok(warn, 'a warning');
    assert.match(String((warn.obj as Rec).err), /not a MaxMind DB/);
    // unchanged broken file: not read again, not warned again
    clock.advance(RELOAD_CHECK_MS * 3);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(count('database_reload_failures'), 1);

    // a truncated copy (a download cut short)
    const full = readFileSync(COUNTRY);
    writeFileSync(db, full.subarray(0, full.length - 4000));
    clock.advance(RELOAD_CHECK_MS);
    await waitFor(() => count('database_reload_failures') === 2, 'the truncated file to be refused');
    assert.equal(geo('81.2.69.142')!.city_name, 'London');

    replaceWith(COUNTRY, db);
    clock.advance(RELOAD_CHECK_MS);
    await waitFor(() => count('database_reloads') === 1, 'the good file to be loaded');
    assert.equal(geo('81.2.69.142')!.city_name, undefined);
    assert.equal(geo('81.2.69.142')!.country_code2, 'GB');
    await f.close?.();
  });

  it('a deleted file keeps the old database (one warning); a new file at the path is loaded', async () => {
    const { db, f, geo, count, clock, logs } = await setup('gone.mmdb', CITY);
    unlinkSync(db);
    clock.advance(RELOAD_CHECK_MS);
    await waitFor(() => logs.some((l) => /the database file is gone/.test(l.msg)), 'the warning');
    clock.advance(RELOAD_CHECK_MS);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(logs.filter((l) => /the database file is gone/.test(l.msg)).length, 1);
    assert.equal(geo('81.2.69.142')!.city_name, 'London');
    copyFileSync(ASN, db);
    clock.advance(RELOAD_CHECK_MS);
    await waitFor(() => count('database_reloads') === 1, 'the new file to be loaded');
    assert.equal(geo('1.128.0.0')!.asn, 1221);
    await f.close?.();
  });

  it('with fields set, the plan follows the new database kind', async () => {
    const { db, f, geo, count, clock } = await setup('fields.mmdb', CITY, 'fields => ["country_code2", "asn"]');
    assert.deepEqual(geo('89.160.20.112'), { country_code2: 'SE' });
    replaceWith(ASN, db);
    clock.advance(RELOAD_CHECK_MS);
    await waitFor(() => count('database_reloads') === 1, 'the ASN database to be loaded');
    assert.deepEqual(geo('89.160.20.112'), { asn: 29518 });
    await f.close?.();
  });

  it('close cancels the check', async () => {
    const { db, f, count, clock } = await setup('closed.mmdb', CITY);
    const before = clock.pending;
    await f.close?.();
    assert.equal(clock.pending, before - 1);
    replaceWith(COUNTRY, db);
    clock.advance(RELOAD_CHECK_MS * 2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(count('database_reloads'), 0);
  });
});
