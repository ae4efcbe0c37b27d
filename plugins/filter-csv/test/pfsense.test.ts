/**
 * pfSense filterlog through a real pipeline run: core/bin/pipeline.js with the README's example
 * config (examples/pfsense-filterlog.conf), stdin input and json_lines on stdout.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '../..');
const REPO = join(PKG, '../..');
const FILTER = readFileSync(join(PKG, 'examples/pfsense-filterlog.conf'), 'utf8');

/** One line per variant, in pfSense's Raw Filter Log Format. */
const LINES = {
  v4tcp: '5,,,1000000103,igb0,match,block,in,4,0x0,,64,12345,0,DF,6,tcp,60,203.0.113.5,192.168.1.10,51234,22,0,S,1234567890,,64240,,mss;sackOK;TS;nop;wscale',
  v4udp: '4,,,1000000103,igb0,match,block,in,4,0x0,,57,23456,0,none,17,udp,76,198.51.100.7,192.168.1.10,123,123,56',
  v4icmp: '9,,,1000000107,igb1,match,pass,in,4,0x0,,64,3456,0,none,1,icmp,84,192.168.1.20,8.8.8.8,request,4321,1',
  v6tcp: '7,,,1000000105,igb1,match,pass,out,6,0x00,0x00000,64,tcp,6,40,2001:db8::1,2001:db8::2,443,51000,0,S,987654321,,65535,,mss',
  v6udp: '7,,,1000000105,igb1,match,block,in,6,0x00,0xabcde,255,udp,17,44,fe80::1,ff02::1:2,546,547,44',
  v6icmp: '8,,,1000000106,igb1,match,pass,in,6,0x00,0x00000,255,ipv6-icmp,58,32,fe80::1,ff02::1',
  broken: '5,,,1000000103,igb0,match,block,in,4,"0x0,,64',
};

const wd = mkdtempSync(join(tmpdir(), 'csv-pfsense-'));
after(() => rmSync(wd, { recursive: true, force: true }));

function runPipeline(input: string): Record<string, any>[] {
  const conf = `input { stdin {} } ${FILTER} output { stdout { codec => json_lines } }`;
  const r = spawnSync(process.execPath, [join(REPO, 'core/bin/pipeline.js'), 'start', '-e', conf, '--api.enabled', 'false', '--path.data', join(wd, 'data'), '--log.level', 'warn'], {
    cwd: wd,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  assert.equal(r.status, 0, `pipeline failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

describe('csv: pfSense filterlog through a pipeline run', () => {
  it('names every variant by IP version and protocol', () => {
    const out = runPipeline(Object.values(LINES).join('\n') + '\n');
    assert.equal(out.length, Object.keys(LINES).length);
    // matched by message: batches in flight may reach the output in another order
    const byMessage = new Map(out.map((e) => [e.message, e]));
    const by = Object.fromEntries(Object.entries(LINES).map(([k, line]) => [k, byMessage.get(line)!]));
    const common = (pf: any, version: string) => {
      assert.equal(pf.ip_version, version);
      assert.equal(pf.reason, 'match');
      assert.equal(pf.anchor, null);
    };
    common(by.v4tcp.pf, '4');
    assert.deepEqual([by.v4tcp.pf.src_ip, by.v4tcp.pf.dst_port, by.v4tcp.pf.tcp_flags, by.v4tcp.pf.options, by.v4tcp.pf.flags], ['203.0.113.5', 22, 'S', 'mss;sackOK;TS;nop;wscale', 'DF']);
    common(by.v4udp.pf, '4');
    assert.deepEqual([by.v4udp.pf.protocol, by.v4udp.pf.src_port, by.v4udp.pf.data_length], ['udp', 123, 56]);
    assert.equal(by.v4udp.pf.tcp_flags, undefined);
    common(by.v4icmp.pf, '4');
    assert.deepEqual([by.v4icmp.pf.icmp_type, by.v4icmp.pf.icmp_data1, by.v4icmp.pf.icmp_data2, by.v4icmp.pf.length], ['request', '4321', '1', 84]);
    common(by.v6tcp.pf, '6');
    assert.deepEqual([by.v6tcp.pf.flow_label, by.v6tcp.pf.hop_limit, by.v6tcp.pf.src_ip, by.v6tcp.pf.src_port, by.v6tcp.pf.window], ['0x00000', '64', '2001:db8::1', 443, '65535']);
    assert.equal(by.v6tcp.pf.ttl, undefined, 'no IPv4 names on an IPv6 line');
    common(by.v6udp.pf, '6');
    assert.deepEqual([by.v6udp.pf.dst_ip, by.v6udp.pf.dst_port, by.v6udp.pf.protocol_id], ['ff02::1:2', 547, '17']);
    common(by.v6icmp.pf, '6');
    assert.deepEqual([by.v6icmp.pf.protocol, by.v6icmp.pf.dst_ip, by.v6icmp.pf.src_port], ['ipv6-icmp', 'ff02::1', undefined]);
    for (const k of Object.keys(LINES).slice(0, 6)) assert.equal(by[k]!.tags, undefined, k);
    assert.deepEqual(by.broken.tags, ['_csvparsefailure']);
    assert.equal(by.broken.pf, undefined);
    assert.equal(by.broken.message, LINES.broken);
  });

  it('10,000 mixed lines: every one out and named', () => {
    const variants = Object.values(LINES).slice(0, 6);
    const input = Array.from({ length: 10_000 }, (_, i) => variants[i % 6]).join('\n') + '\n';
    const out = runPipeline(input);
    assert.equal(out.length, 10_000);
    const seen = new Map<string, number>();
    for (const [i, e] of out.entries()) {
      seen.set(e.message, (seen.get(e.message) ?? 0) + 1);
      assert.ok(typeof e.pf?.length === 'number' && e.pf.src_ip && e.pf.ip_version === e.message.split(',')[8], `line ${i} not named`);
      assert.equal(e.tags, undefined);
    }
    for (const [k, v] of variants.entries()) assert.ok(Math.abs(seen.get(v)! - 10_000 / 6) <= 1, `variant ${k}: ${seen.get(v)}`);
  });
});
