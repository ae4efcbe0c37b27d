import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, REPO, startPipeline, tempDir, waitFor } from './util.js';

/**
 * The reference's Logstash config (../shared/reference/homelab-setup.md: its input, filter and
 * output blocks), as the post shows it, run by Pipeline. Two things differ, both by text
 * replacement: the port (51444 may be taken on a shared machine) and the directory of the files
 * (/srv/logstash). With the tcp input's default `dns_reverse_lookup_enabled => true` a sender on
 * 127.0.0.1 is filed as localhost (the name /etc/hosts gives it), as Logstash files it.
 */
const REFERENCE = join(REPO, '..', 'shared', 'reference', 'homelab-setup.md');

function seedConfig(): string {
  const md = readFileSync(REFERENCE, 'utf8');
  const blocks = [...md.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\{% raw %\}\s*|\{% endraw %\}\s*/g, ''));
  const pick = (start: string) => {
    const b = blocks.find((x) => x.trimStart().startsWith(start));
    assert.ok(b, `the post has a ${start} block`);
    return b;
  };
  return [pick('input {'), pick('filter {'), pick('output {')].join('\n');
}

function sendLines(port: number, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.end(lines.join('\n') + '\n'));
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

describe("the reference's Logstash config, verbatim but for port and directory", () => {
  const t = tempDir('pipeline-seed-');
  after(() => t.cleanup());

  for (const [label, extra, expected] of [
    ['by default', '', 'localhost'],
    ['with dns_reverse_lookup_enabled => false', '    dns_reverse_lookup_enabled => false\n', '127.0.0.1'],
  ] as const) {
    it(`files a TCP sender on 127.0.0.1 as ${expected}-<program>.log ${label}`, async () => {
      const dir = join(t.dir, expected);
      const port = await freePort();
      const reference = seedConfig();
      assert.ok(reference.includes('port => 51444') && reference.includes('path => "/srv/logstash/%{host}-%{syslog_program}.log"'));
      let conf = reference.replaceAll('51444', String(port)).replace('/srv/logstash/', `${dir}/logs/`);
      // only the tcp block gets the option
      if (extra) conf = conf.replace(/(  tcp \{\n)/, `$1${extra}`);
      const file = join(dir, 'logstash-syslog.conf');
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, conf);
      const p = startPipeline(['-f', file, '--path.data', join(dir, 'data'), '--api.enabled', 'false'], { cwd: dir });
      try {
        await waitFor(() => p.stderr().includes('"msg":"listening"'), 'the tcp input to listen');
        await sendLines(port, ['<38>Dec  3 10:00:00 web1 sshd[4100]: Failed password for invalid user admin from 203.0.113.5 port 50000 ssh2', '<86>Dec  3 10:00:01 web1 sudo: pam_unix(sudo:session): session opened for user root']);
        const logs = join(dir, 'logs');
        const files = () => (existsSync(logs) ? readdirSync(logs).sort() : []);
        const written = () => files().filter((f) => readFileSync(join(logs, f), 'utf8').endsWith('\n')).length;
        await waitFor(() => files().length === 2 && written() === 2, `2 files written in ${logs}: ${p.stderr().slice(-1500)}`);
        assert.deepEqual(files(), [`${expected}-sshd.log`, `${expected}-sudo.log`]);
        const sshd = JSON.parse(readFileSync(join(logs, `${expected}-sshd.log`), 'utf8').trim()) as Record<string, unknown>;
        assert.equal(sshd.host, expected);
        assert.equal(sshd.received_from, expected, 'the grok add_field saw the same host');
        assert.equal(sshd.syslog_program, 'sshd');
      } finally {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    });
  }
});
