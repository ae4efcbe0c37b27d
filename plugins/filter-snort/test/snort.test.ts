import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event } from '@pipeline/core';
import { createPlugin, runFilter } from '@pipeline/core/testing';
import snort from '../src/index.js';

// Lines in the shapes Snort 2, Snort 3 and Suricata write them (fast.log, alert_syslog, pfSense).
const SNORT2_FAST =
  '01/28-08:39:14.541245  [**] [1:2100498:7] GPL ATTACK_RESPONSE id check returned root [**] [Classification: Potentially Bad Traffic] [Priority: 2] {TCP} 217.160.0.187:80 -> 192.168.1.2:54321';
const PFSENSE_SYSLOG =
  'Jan 28 08:39:14 snort[12345]: [1:2013504:3] ET POLICY GNU/Linux APT User-Agent Outbound likely related to package management [Classification: Not Suspicious Traffic] [Priority: 3] {TCP} 192.168.1.10:46282 -> 91.189.91.15:80';
const SNORT2_SYSLOG_ICMP = 'Feb  3 21:07:55 ids1 snort[2101]: [1:1000001:1] ICMP Ping detected [Classification: Misc activity] [Priority: 3]: {ICMP} 192.168.1.5 -> 8.8.8.8';
const SURICATA_DROP =
  '10/05/2023-10:08:59.667372  [Drop] [**] [1:2009187:4] ET WEB_CLIENT ACTIVEX iDefense COMRaider ActiveX Control Arbitrary File Deletion [**] [Classification: Web Application Attack] [Priority: 3] {TCP} 10.1.1.5:80 -> 192.168.1.4:56068';
const SURICATA_V6 =
  '03/11/2024-17:02:11.004411  [**] [1:2027758:3] ET DNS Query for .cc TLD [**] [Classification: Potentially Bad Traffic] [Priority: 2] {UDP} 2001:0db8:0000:0000:0000:0000:0000:0001:53 -> 2001:0db8:0000:0000:0000:0000:0000:0002:41234';
const SNORT_V6_TCP = '03/11-17:02:11.004411  [**] [1:2010935:3] ET SCAN Suspicious inbound to MSSQL port 1433 [**] [Classification: Potentially Bad Traffic] [Priority: 2] {TCP} 2001:db8::1:443 -> 2001:db8::2:1433';
const SNORT_V6_ICMP = '03/11-17:02:11.004411  [**] [116:431:1] (snort_decoder) WARNING: ICMPv6 type not decoded [**] [Priority: 3] {IPV6-ICMP} fe80::1 -> ff02::1';
const SURICATA_ICMP_TYPE = '03/11/2024-17:02:11.004411  [**] [1:2100366:8] GPL ICMP_INFO PING *NIX [**] [Classification: Misc activity] [Priority: 3] {ICMP} 192.168.1.5:8 -> 8.8.8.8:0';
const SNORT3 = '01/05-12:00:00.000123 [**] [1:1000001:0] "ICMP Test" [**] [Priority: 0] [AppID: ICMP] {ICMP} 10.0.0.1 -> 10.0.0.2';

async function parse(line: string, config = ''): Promise<{ out: Event; matched: boolean | void }> {
  const f = await createPlugin(snort, config);
  const out = new Event({ message: line });
  const matched = f.filter(out, () => {});
  return { out, matched };
}

describe('snort: fast-alert lines', () => {
  it('parses a Snort 2 fast.log line into typed fields and tags it snort', async () => {
    const { out, matched } = await parse(SNORT2_FAST);
    assert.equal(matched, true);
    assert.deepEqual(out.get('snort'), {
      gid: 1,
      sid: 2100498,
      rev: 7,
      message: 'GPL ATTACK_RESPONSE id check returned root',
      classification: 'Potentially Bad Traffic',
      priority: 2,
      protocol: 'TCP',
      src_ip: '217.160.0.187',
      src_port: 80,
      dest_ip: '192.168.1.2',
      dest_port: 54321,
      alert_time: '01/28-08:39:14.541245',
    });
    assert.deepEqual(out.tags, ['snort']);
    assert.equal(out.includes('syslog_program'), false);
  });

  it('parses the pfSense syslog form the reference grok was written for, with its syslog header', async () => {
    const { out } = await parse(PFSENSE_SYSLOG);
    assert.equal(out.get('[snort][sid]'), 2013504);
    assert.equal(out.get('[snort][message]'), 'ET POLICY GNU/Linux APT User-Agent Outbound likely related to package management');
    assert.equal(out.get('[snort][classification]'), 'Not Suspicious Traffic');
    assert.equal(out.get('[snort][dest_port]'), 80);
    assert.equal(out.get('syslog_timestamp'), 'Jan 28 08:39:14');
    assert.equal(out.get('syslog_program'), 'snort');
    assert.equal(out.get('syslog_pid'), '12345');
    assert.equal(out.includes('syslog_hostname'), false);
  });

  it("parses Snort's own syslog form (host, ':' after the priority) and ICMP without ports", async () => {
    const { out } = await parse(SNORT2_SYSLOG_ICMP);
    assert.equal(out.get('syslog_hostname'), 'ids1');
    assert.equal(out.get('syslog_timestamp'), 'Feb  3 21:07:55');
    assert.equal(out.get('[snort][protocol]'), 'ICMP');
    assert.equal(out.get('[snort][src_ip]'), '192.168.1.5');
    assert.equal(out.includes('[snort][src_port]'), false);
    assert.equal(out.get('[snort][dest_ip]'), '8.8.8.8');
    assert.equal(out.get('[snort][priority]'), 3);
  });

  it('keeps syslog_* fields an earlier grok already set', async () => {
    const f = await createPlugin(snort, '');
    const [out] = runFilter(f, [{ message: PFSENSE_SYSLOG, syslog_program: 'snort-eth0' }]);
    assert.equal(out!.get('syslog_program'), 'snort-eth0');
    assert.equal(out!.get('syslog_pid'), '12345');
  });

  it("parses Suricata's IPS verdict and a year in the alert time", async () => {
    const { out } = await parse(SURICATA_DROP);
    assert.equal(out.get('[snort][action]'), 'Drop');
    assert.equal(out.get('[snort][alert_time]'), '10/05/2023-10:08:59.667372');
    assert.equal(out.get('[snort][message]'), 'ET WEB_CLIENT ACTIVEX iDefense COMRaider ActiveX Control Arbitrary File Deletion');
  });

  it("splits Suricata's full-form IPv6 endpoints at the ninth group", async () => {
    const { out } = await parse(SURICATA_V6);
    assert.equal(out.get('[snort][src_ip]'), '2001:0db8:0000:0000:0000:0000:0000:0001');
    assert.equal(out.get('[snort][src_port]'), 53);
    assert.equal(out.get('[snort][dest_ip]'), '2001:0db8:0000:0000:0000:0000:0000:0002');
    assert.equal(out.get('[snort][dest_port]'), 41234);
  });

  it('splits compressed IPv6 by protocol: TCP has a port, IPV6-ICMP has none', async () => {
    const tcp = (await parse(SNORT_V6_TCP)).out;
    assert.deepEqual([tcp.get('[snort][src_ip]'), tcp.get('[snort][src_port]'), tcp.get('[snort][dest_ip]'), tcp.get('[snort][dest_port]')], ['2001:db8::1', 443, '2001:db8::2', 1433]);
    const icmp = (await parse(SNORT_V6_ICMP)).out;
    assert.deepEqual([icmp.get('[snort][gid]'), icmp.get('[snort][src_ip]'), icmp.get('[snort][dest_ip]')], [116, 'fe80::1', 'ff02::1']);
    assert.equal(icmp.includes('[snort][src_port]'), false);
    assert.equal(icmp.includes('[snort][classification]'), false);
  });

  it('keeps the numbers Suricata writes after ICMP addresses (type and code) as ports', async () => {
    const { out } = await parse(SURICATA_ICMP_TYPE);
    assert.equal(out.get('[snort][src_port]'), 8);
    assert.equal(out.get('[snort][dest_port]'), 0);
  });

  it("parses Snort 3's quoted message and AppID", async () => {
    const { out } = await parse(SNORT3);
    assert.equal(out.get('[snort][message]'), 'ICMP Test');
    assert.equal(out.get('[snort][app_id]'), 'ICMP');
    assert.equal(out.get('[snort][priority]'), 0);
  });

  it('leaves other lines alone and returns false, so add_tag does not apply', async () => {
    const f = await createPlugin(snort, '');
    const ev = new Event({ message: 'Jan 28 08:39:14 fw1 sshd[411]: Accepted publickey for root from 10.0.0.9 port 50022 ssh2' });
    assert.equal(f.filter(ev, () => {}), false);
    assert.deepEqual(ev.tags, []);
    assert.equal(ev.includes('snort'), false);
    assert.equal(f.filter(new Event({ message: '[**] [1:2:3] truncated alert [**] {TCP} 1.2.3.4:' }), () => {}), false);
    assert.equal(f.filter(new Event({ message: 42 }), () => {}), false);
    assert.equal(f.filter(new Event({}), () => {}), false);
  });

  it('refuses endpoints that are not addresses', async () => {
    const { matched } = await parse('[**] [1:1:1] x [**] [Priority: 1] {TCP} host.example:80 -> 10.0.0.1:22');
    assert.equal(matched, false);
  });
});

describe('snort: options', () => {
  it('writes the reference grok field names with layout => "reference"', async () => {
    const { out } = await parse(PFSENSE_SYSLOG, 'layout => "reference"');
    assert.equal(out.includes('snort'), false);
    assert.deepEqual(
      Object.fromEntries(Object.entries(out.fields).filter(([k]) => k.startsWith('snort_'))),
      {
        snort_event: 'ET POLICY GNU/Linux APT User-Agent Outbound likely related to package management',
        snort_classification: 'Not Suspicious Traffic',
        snort_priority: '3',
        snort_protocol: 'TCP',
        snort_src_ip: '192.168.1.10',
        snort_src_port: '46282',
        snort_dest: '91.189.91.15',
        snort_dest_port: '80',
        snort_gid: '1',
        snort_sid: '2013504',
        snort_rev: '3',
      },
    );
    assert.deepEqual(out.tags, ['snort']);
  });

  it('reads another source field and writes under a nested target', async () => {
    const f = await createPlugin(snort, 'source => "[raw][line]" target => "[ids][alert]"');
    const [out] = runFilter(f, [{ raw: { line: SNORT2_FAST } }]);
    assert.equal(out!.get('[ids][alert][sid]'), 2100498);
  });

  it('adds tag_on_failure to lines that are not alerts', async () => {
    const f = await createPlugin(snort, 'tag_on_failure => ["_snortparsefailure"]');
    const [bad, good] = runFilter(f, [{ message: 'not an alert' }, { message: SNORT2_FAST }]);
    assert.deepEqual(bad!.tags, ['_snortparsefailure']);
    assert.deepEqual(good!.tags, ['snort']);
  });

  it('refuses an unknown layout and a malformed field reference', async () => {
    await assert.rejects(createPlugin(snort, 'layout => "ecs"'), /must be one of 'nested', 'reference'/);
    await assert.rejects(createPlugin(snort, 'target => "[a"'), /snort: option 'target': malformed field reference/);
  });
});
