/** Every option, the cases of Logstash's spec (logstash-filter-cidr spec/filters/cidr_spec.rb), address parsing, refresh. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, Event, type Fields } from '@pipeline/core';
import { createPlugin, makeContext, optionsFromConfig } from '@pipeline/core/testing';
import cidr, { parseNet, parseNetworks } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cidr-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function matches(config: string, fields: Fields, ctx = makeContext({ workingDir: dir })): Promise<boolean> {
  const f = await createPlugin(cidr, config, ctx);
  return f.filter(new Event(fields), () => {}) === true;
}

describe('cidr: network (Logstash spec cases)', () => {
  it('IPv4 match and non-match', async () => {
    const c = 'address => ["%{clientip}"] network => ["192.168.0.0/24"]';
    assert.equal(await matches(c, { clientip: '192.168.0.30' }), true);
    assert.equal(await matches(c, { clientip: '123.52.122.33' }), false);
  });
  it('a list of networks: any one matches', async () => {
    const c = 'address => ["%{clientip}"] network => ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]';
    for (const ip of ['192.168.0.30', '10.10.220.3', '172.16.45.50']) assert.equal(await matches(c, { clientip: ip }), true, ip);
    assert.equal(await matches(c, { clientip: '8.8.8.8' }), false);
    assert.equal(await matches(c, { clientip: '172.32.0.1' }), false, 'just past 172.16.0.0/12');
  });
  it('one item holding several networks separated by commas', async () => {
    const c = 'address => ["%{clientip}"] network => ["10.0.0.0/8,172.16.0.0/12, 192.168.0.0/16"]';
    assert.equal(await matches(c, { clientip: '192.168.0.30' }), true);
    assert.equal(await matches(c, { clientip: '11.0.0.1' }), false);
  });
  it('networks from a field (sprintf): an array renders comma-separated', async () => {
    const c = 'address => ["%{clientip}"] network => ["%{whitelist}"]';
    assert.equal(await matches(c, { whitelist: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], clientip: '192.168.0.30' }), true);
    assert.equal(await matches(c, { whitelist: ['10.0.0.0/8'], clientip: '192.168.0.30' }), false);
    assert.equal(await matches(c, { whitelist: 'garbage', clientip: '192.168.0.30' }), false);
    // a dynamic and a static item together
    assert.equal(await matches('address => ["%{clientip}"] network => ["%{whitelist}", "8.8.8.0/24"]', { whitelist: '10.0.0.0/8', clientip: '8.8.8.8' }), true);
  });
  it('IPv6 match and non-match', async () => {
    const c = 'address => ["%{clientip}"] network => ["fe80::/64"]';
    assert.equal(await matches(c, { clientip: 'fe80:0:0:0:0:0:0:1' }), true);
    assert.equal(await matches(c, { clientip: 'fd82:0:0:0:0:0:0:1' }), false);
    assert.equal(await matches(c, { clientip: 'fe80::1%eth0' }), true, 'a zone id is dropped');
    assert.equal(await matches(c, { clientip: 'fe80:0:0:1::1' }), false);
  });
  it('IPv4 and IPv6 networks in one list; families never mix', async () => {
    const c = 'address => ["%{ip}"] network => ["169.254.0.0/16", "fe80::/64", "::ffff:0:0/96"]';
    assert.equal(await matches(c, { ip: '169.254.3.4' }), true);
    assert.equal(await matches(c, { ip: 'fe80::abcd' }), true);
    assert.equal(await matches(c, { ip: '::ffff:10.1.2.3' }), true, 'the IPv4-mapped range as an IPv6 network');
    assert.equal(await matches('address => ["%{ip}"] network => ["10.0.0.0/8"]', { ip: '::ffff:10.1.2.3' }), false, 'an IPv6 address is not in an IPv4 network');
  });
  it('several addresses: any one inside is a match', async () => {
    const c = 'address => ["%{src_ip}", "%{dst_ip}"] network => ["192.0.2.0/24"]';
    assert.equal(await matches(c, { src_ip: '8.8.8.8', dst_ip: '192.0.2.9' }), true);
    assert.equal(await matches(c, { src_ip: '8.8.8.8' }), false, 'a missing field renders as its template: not an address');
  });
  it('a single address, a netmask, host bits masked away, /0', async () => {
    assert.equal(await matches('address => ["%{ip}"] network => ["10.1.2.3"]', { ip: '10.1.2.3' }), true);
    assert.equal(await matches('address => ["%{ip}"] network => ["10.1.2.3"]', { ip: '10.1.2.4' }), false);
    assert.equal(await matches('address => ["%{ip}"] network => ["10.0.0.0/255.255.0.0"]', { ip: '10.0.200.1' }), true);
    assert.equal(await matches('address => ["%{ip}"] network => ["10.0.0.0/255.255.0.0"]', { ip: '10.1.0.1' }), false);
    assert.equal(await matches('address => ["%{ip}"] network => ["192.168.0.77/24"]', { ip: '192.168.0.1' }), true);
    assert.equal(await matches('address => ["%{ip}"] network => ["0.0.0.0/0"]', { ip: '203.0.113.1' }), true);
    assert.equal(await matches('address => ["%{ip}"] network => ["::/0"]', { ip: '2001:db8::1' }), true);
  });
  it('an address with a prefix is a range: inside when a network holds all of it', async () => {
    assert.equal(await matches('address => ["%{ip}"] network => ["10.0.0.0/8"]', { ip: '10.1.0.0/16' }), true);
    assert.equal(await matches('address => ["%{ip}"] network => ["10.1.0.0/16"]', { ip: '10.0.0.0/8' }), false);
  });
});

describe('cidr: address_field (Logstash spec cases)', () => {
  const c = 'address_field => "ip" network => ["192.168.0.0/24"]';
  it('a string, an array, an array with an invalid address', async () => {
    assert.equal(await matches(c, { ip: '192.168.0.1' }), true);
    assert.equal(await matches(c, { ip: ['188.168.0.1', '192.168.0.1'] }), true);
    assert.equal(await matches(c, { ip: ['invalid', '192.168.0.1'] }), true);
    assert.equal(await matches(c, { ip: ['188.168.0.1'] }), false);
  });
  it('missing, an integer, a map: no match; invalid values are counted', async () => {
    const ctx = makeContext();
    assert.equal(await matches(c, {}, ctx), false);
    assert.equal(await matches(c, { ip: 377 }, ctx), false);
    assert.equal(await matches(c, { ip: { invalid: '192.168.0.1' } }, ctx), false);
    assert.equal(await matches(c, { ip: '192.168.0.256' }, ctx), false);
    assert.equal(ctx.metrics.snapshot().invalid_addresses, 3, 'the integer, the map and 192.168.0.256; a missing field is not counted');
  });
  it('a nested field', async () => {
    assert.equal(await matches('address_field => "[host][ip]" network => ["192.168.0.0/24"]', { host: { ip: ['188.168.0.1', '192.168.0.1'] } }), true);
  });
});

describe('cidr: network_path, separator, refresh_interval', () => {
  it('reads one network per line (Logstash spec file)', async () => {
    writeFileSync(join(dir, 'network'), '192.168.1.0/24\n200.17.160.0/24\n');
    const c = `network_path => "${join(dir, 'network')}" address => "%{clientip}"`;
    assert.equal(await matches(c, { clientip: '192.168.1.1' }), true);
    assert.equal(await matches(c, { clientip: '200.17.160.201' }), true);
    assert.equal(await matches(c, { clientip: '10.1.2.1' }), false);
  });
  it('a relative path resolves against the working directory; CRLF lines and blank lines are fine', async () => {
    writeFileSync(join(dir, 'crlf.txt'), '10.0.0.0/8\r\n\r\n  fd00::/8 \r\n');
    assert.equal(await matches('network_path => "crlf.txt" address => "%{ip}"', { ip: '10.9.9.9' }), true);
    assert.equal(await matches('network_path => "crlf.txt" address => "%{ip}"', { ip: 'fd12::1' }), true);
  });
  it('separator (Logstash spec file network-comma)', async () => {
    writeFileSync(join(dir, 'network-comma'), '192.168.0.0/16,10.1.1.0/24\n');
    const c = `network_path => "${join(dir, 'network-comma')}" address => "%{clientip}" separator => ","`;
    assert.equal(await matches(c, { clientip: '192.168.1.25' }), true);
    assert.equal(await matches(c, { clientip: '10.1.1.200' }), true, 'the last entry, its line end trimmed');
    assert.equal(await matches(c, { clientip: '192.167.1.1' }), false);
  });
  it('invalid entries are skipped with a warning; a file without any network is refused', async () => {
    writeFileSync(join(dir, 'mixed'), 'not-a-net\n10.0.0.0/8\n300.1.1.1/8\n');
    assert.equal(await matches(`network_path => "${join(dir, 'mixed')}" address => "%{ip}"`, { ip: '10.0.0.1' }), true);
    writeFileSync(join(dir, 'empty'), '\n\n');
    await assert.rejects(createPlugin(cidr, `network_path => "${join(dir, 'empty')}" address => "%{ip}"`), (e: Error) => e instanceof ConfigError && /no network in/.test(e.message));
    await assert.rejects(createPlugin(cidr, `network_path => "${join(dir, 'missing')}" address => "%{ip}"`), /ENOENT/);
  });
  it('reads the file again when it changed, at refresh_interval; keeps the old networks when it is gone or empty', async () => {
    const path = join(dir, 'refresh');
    writeFileSync(path, '10.0.0.0/8\n');
    const ctx = makeContext();
    const f = await createPlugin(cidr, `network_path => "${path}" address => "%{ip}" refresh_interval => 30`, ctx);
    const m = (ip: string) => f.filter(new Event({ ip }), () => {});
    assert.equal(m('10.1.1.1'), true);
    writeFileSync(path, '192.168.0.0/16\n172.16.0.0/12\n');
    assert.equal(m('192.168.1.1'), false, 'not before the interval');
    ctx.clock.advance(30_000);
    assert.equal(m('192.168.1.1'), true);
    assert.equal(m('10.1.1.1'), false, 'the file is replaced, not merged');
    writeFileSync(path, '\n');
    ctx.clock.advance(30_000);
    assert.equal(m('192.168.1.1'), true, 'an empty file keeps the networks');
    unlinkSync(path);
    ctx.clock.advance(30_000);
    assert.equal(m('172.16.0.1'), true, 'a missing file keeps the networks');
    writeFileSync(path, '8.8.8.0/24\n');
    ctx.clock.advance(30_000);
    assert.equal(m('8.8.8.8'), true, 'and it is read when it is back');
    assert.equal(ctx.metrics.snapshot().network_reloads, 2, 'two successful reads after the first');
    await f.close?.();
    assert.equal(ctx.clock.pending, 0, 'close cancels the refresh timer');
  });
  it('refresh_interval 0: never read again', async () => {
    const path = join(dir, 'norefresh');
    writeFileSync(path, '10.0.0.0/8\n');
    const ctx = makeContext();
    const f = await createPlugin(cidr, `network_path => "${path}" address => "%{ip}" refresh_interval => 0`, ctx);
    assert.equal(ctx.clock.pending, 0);
    writeFileSync(path, '192.168.0.0/16\n');
    ctx.clock.advance(3_600_000);
    assert.equal(f.filter(new Event({ ip: '10.0.0.1' }), () => {}), true);
  });
});

describe('cidr: configuration errors', () => {
  it('network and network_path, address and address_field are mutually exclusive', async () => {
    writeFileSync(join(dir, 'n'), '10.0.0.0/8\n');
    await assert.rejects(createPlugin(cidr, `address => ["%{ip}"] network => ["192.168.1.0/24"] network_path => "${join(dir, 'n')}"`), /'network' and 'network_path' are mutually exclusive/);
    await assert.rejects(createPlugin(cidr, 'address_field => "[host][ip]" address => ["%{clientip}"] network => ["10.0.0.0/8"]'), /'address' and 'address_field' are mutually exclusive/);
  });
  it('no address, no network', async () => {
    await assert.rejects(createPlugin(cidr, 'network => ["10.0.0.0/8"]'), /set 'address' or 'address_field'/);
    await assert.rejects(createPlugin(cidr, 'address => ["%{ip}"]'), /set 'network' or 'network_path'/);
  });
  it('a network that is none, at load (-t)', async () => {
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'fe80::/129', '10.0.0.0/255.0.255.0', 'example.com', '10.0.0.0/x']) {
      await assert.rejects(createPlugin(cidr, `address => ["%{ip}"] network => ["${bad}"]`), (e: Error) => e instanceof ConfigError && e.message.includes('is not an IP network'), bad);
    }
  });
  it('an empty separator; a malformed address_field', async () => {
    await assert.rejects(createPlugin(cidr, 'address => ["%{ip}"] network => ["10.0.0.0/8"] separator => ""'), /must not be empty/);
    assert.throws(() => optionsFromConfig(cidr, 'address_field => "[a][b"'), ConfigError);
  });
});

describe('cidr: parsing', () => {
  it('addresses and networks as IPAddr reads them', () => {
    assert.deepEqual(parseNet('192.168.0.5/24'), { v6: false, value: 0xc0a80000, bits: 24 });
    assert.deepEqual(parseNet('10.0.0.0/255.255.255.0'), { v6: false, value: 0x0a000000, bits: 24 });
    assert.deepEqual(parseNet('::ffff:1.2.3.4'), { v6: true, value: 0xffff01020304n, bits: 128 });
    assert.deepEqual(parseNet('[2001:db8::1]'), { v6: true, value: 0x20010db8000000000000000000000001n, bits: 128 });
    assert.deepEqual(parseNet('2001:db8::/32'), { v6: true, value: 0x20010db8n << 96n, bits: 32 });
    for (const bad of ['', '1.2.3', '01.2.3.4', '1.2.3.4/', '1.2.3.4/-1', '::1/255.0.0.0', '1.2.3.4 ', 'gggg::1']) assert.equal(parseNet(bad), undefined, bad);
  });
  it('a 100,000-line network file compiles into a set that answers by prefix length', () => {
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) lines.push(`${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`);
    const { set, invalid } = parseNetworks(lines.join('\n'), '\n');
    assert.equal(invalid.length, 0);
    assert.equal(set.size, 100_000);
    assert.equal(set.has(parseNet('11.134.159.7')!), true); // i = 99999: 11.134.159.0/24
    assert.equal(set.has(parseNet('11.134.160.7')!), false);
  });
});
