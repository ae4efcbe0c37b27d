/**
 * fingerprint in a real pipeline run: core/bin/pipeline.js start -f <a config file>, lines on
 * stdin, json_lines on stdout; and -t refusing a bad option at its place in the file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = join(REPO, 'core/bin/pipeline.js');
const wd = mkdtempSync(join(tmpdir(), 'fingerprint-pipeline-'));
after(() => rmSync(wd, { recursive: true, force: true }));

function start(args: string[], input = '') {
  return spawnSync(process.execPath, [BIN, 'start', ...args, '--api.enabled', 'false', '--path.data', join(wd, 'data'), '--log.level', 'error'], {
    cwd: wd,
    input,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('fingerprint: through a pipeline run', () => {
  it('SHA256 HMAC of the message, MURMUR3 of a parsed field, concatenated sources; add_tag applies', () => {
    const conf = join(wd, 'fp.conf');
    writeFileSync(
      conf,
      `input { stdin { codec => json_lines } }
filter {
  fingerprint { method => SHA256 key => "s3cret" target => "[@metadata][id]" add_tag => ["fingerprinted"] }
  mutate { add_field => { "id" => "%{[@metadata][id]}" } }
  fingerprint { method => MURMUR3 source => "ip" target => "ip_hash" }
  fingerprint { source => ["user", "ip"] concatenate_sources => true target => "pair" base64encode => true }
}
output { stdout { codec => json_lines } }
`,
    );
    const input = [
      { message: 'first line', ip: '123.123.123.123', user: 'alice' },
      { message: 'second line', ip: 123, user: 'bob' },
    ];
    const r = start(['-f', conf], input.map((o) => JSON.stringify(o)).join('\n') + '\n');
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(out.length, 2);
    const by = new Map(out.map((e) => [e.message, e]));
    const first = by.get('first line')!;
    const second = by.get('second line')!;
    const hmac = (s: string) => createHmac('sha256', 's3cret').update(s, 'utf8').digest('hex');
    assert.equal(first.id, hmac('first line'));
    assert.equal(second.id, hmac('second line'));
    assert.deepEqual(first.tags, ['fingerprinted']);
    assert.equal(first['@metadata'], undefined, '@metadata is not written out');
    // Logstash's spec figures: the string and the integer 123
    assert.equal(first.ip_hash, 4013733395);
    assert.equal(second.ip_hash, 823512154);
    assert.equal(first.pair, createHash('sha1').update('|ip|123.123.123.123|user|alice|').digest('base64'));
    assert.equal(second.pair, createHash('sha1').update('|ip|123|user|bob|').digest('base64'));
  });

  it('-t refuses IPV4_NETWORK without a prefix length, at the option', () => {
    const conf = join(wd, 'bad.conf');
    writeFileSync(conf, 'input { stdin {} }\nfilter {\n  fingerprint {\n    method => IPV4_NETWORK\n    key => "abc"\n  }\n}\noutput { stdout {} }\n');
    const r = start(['-f', conf, '-t']);
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /bad\.conf:5:\d+: fingerprint: method IPV4_NETWORK needs 'key' set to a prefix length from 0 to 32, got 'abc'/);
  });
});
