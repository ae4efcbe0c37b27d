import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, REPO, tempDir } from './util.js';

/** The filter section of pipelines/default.conf: the reference's, unchanged. */
function referenceFilter(): string {
  const conf = readFileSync(join(REPO, 'pipelines', 'default.conf'), 'utf8');
  return conf.slice(conf.indexOf('\nfilter {') + 1, conf.indexOf('\ncorrelate {'));
}

const LINES = {
  snort: '<33>Nov 27 10:15:02 snort[2729]: [1:2001219:20] ET SCAN Potential SSH Scan [Classification: Attempted Information Leak] [Priority: 2] {TCP} 203.0.113.168:31145 -> 10.0.0.1:22',
  rsnapshot: '<78>Nov 27 11:00:01 nas rsnapshot[4242]: /usr/bin/rsnapshot hourly: completed successfully',
  sshd: '<38>Nov 27 12:34:56 web1 sshd[9876]: Failed password for invalid user admin from 198.51.100.7 port 52214 ssh2',
  pfsense: '<38>Nov 27 13:00:00 sshd[12345]: error: PAM: Authentication error for root from 192.0.2.44',
  iso: '2026-11-27T14:00:00.123+00:00 db1 postgres[77]: connection received',
  garbage: 'this is not syslog at all',
};

describe('the reference filter section, unchanged, through the whole pipeline', () => {
  it('gives the fields Logstash gives for snort, rsnapshot, sshd, pfSense and ISO lines', () => {
    const t = tempDir();
    try {
      const conf = join(t.dir, 'ref.conf');
      writeFileSync(conf, `input { stdin { type => syslog tags => ['syslog'] } }\n${referenceFilter()}\noutput { stdout { codec => json_lines } }\n`);
      const r = spawnSync(process.execPath, [BIN, 'start', '-f', conf, '--path.data', join(t.dir, 'data'), '--api.enabled', 'false'], {
        cwd: REPO,
        input: Object.values(LINES).join('\n') + '\n',
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      const by = (needle: string) => events.find((e) => String(e.message).includes(needle))!;

      const snort = by('ET SCAN');
      assert.equal(snort.syslog_program, 'snort');
      assert.equal(snort.syslog_pid, '2729');
      assert.equal(snort.snort_event, 'ET SCAN Potential SSH Scan');
      assert.equal(snort.snort_classification, 'Attempted Information Leak');
      assert.equal(snort.snort_priority, '2');
      assert.equal(snort.snort_protocol, 'TCP');
      assert.deepEqual([snort.snort_src_ip, snort.snort_src_port, snort.snort_dest, snort.snort_dest_port], ['203.0.113.168', '31145', '10.0.0.1', '22']);
      assert.deepEqual(snort.tags, ['syslog', 'snort']);

      const rs = by('rsnapshot hourly');
      assert.equal(rs.syslog_hostname, 'nas');
      assert.equal(rs.syslog_program, 'rsnapshot');
      assert.equal(rs.rsnapshot_event, 'hourly');
      assert.equal(rs.rsnapshot_output, 'completed successfully');
      assert.deepEqual(rs.tags, ['syslog', 'rsnapshot']);

      const ssh = by('invalid user admin');
      assert.deepEqual([ssh.syslog_timestamp, ssh.syslog_hostname, ssh.syslog_program, ssh.syslog_pid], ['Nov 27 12:34:56', 'web1', 'sshd', '9876']);
      assert.equal(ssh.syslog_message, 'Failed password for invalid user admin from 198.51.100.7 port 52214 ssh2');
      assert.deepEqual(ssh.tags, ['syslog']);

      // pfSense omits the hostname: only the last pattern matches, without syslog_hostname
      const pf = by('PAM: Authentication error');
      assert.equal(pf.syslog_hostname, undefined);
      assert.equal(pf.syslog_program, 'sshd');
      assert.equal(pf.syslog_message, 'error: PAM: Authentication error for root from 192.0.2.44');

      const iso = by('connection received');
      assert.deepEqual([iso.syslog_timestamp, iso.syslog_hostname, iso.syslog_program], ['2026-11-27T14:00:00.123+00:00', 'db1', 'postgres']);

      for (const e of [snort, rs, ssh, pf, iso]) {
        assert.equal(e.received_from, e.host, 'add_field received_from => %{host}');
        assert.equal(e.received_at, e['@timestamp'], 'add_field received_at => %{@timestamp}');
      }
      const bad = by('not syslog');
      assert.deepEqual(bad.tags, ['syslog', '_grokparsefailure']);
      assert.equal(bad.received_at, undefined, 'add_field only on success');
    } finally {
      t.cleanup();
    }
  });
});
