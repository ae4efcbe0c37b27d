/**
 * The dns filter in real pipeline runs: core/bin/pipeline.js start -f <conf> as a child process,
 * stdin in, json_lines out, dnsmasq on loopback as the name server. For the slow case dnsmasq
 * forwards two zones to responders of this test's: slow.test answered after 300 ms, never.test
 * not at all. The child is spawned asynchronously: those responders run on this test's event loop.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDnsmasq, startTinyDns, type Dnsmasq, type TinyDns } from './servers.js';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '../..');
const REPO = join(PKG, '../..');
const BIN = join(REPO, 'core/bin/pipeline.js');
const wd = mkdtempSync(join(tmpdir(), 'dns-pipeline-'));

/** 200 hosts: h<i>.test at 192.0.2.<i> (1-100) and 198.51.100.<i-100> (101-200). */
const addressOf = (i: number) => (i <= 100 ? `192.0.2.${i}` : `198.51.100.${i - 100}`);
const HOSTS = Array.from({ length: 200 }, (_, k) => `${addressOf(k + 1)} h${k + 1}.test`).join('\n');

let ns: Dnsmasq;
let slow: TinyDns;
let never: TinyDns;
before(async () => {
  slow = await startTinyDns((q) => ({ answer: q.type === 1 ? '203.0.113.' + (Number(/^s(\d+)/.exec(q.name)?.[1] ?? 0) % 250) : undefined, delayMs: 300 }));
  never = await startTinyDns(() => ({ drop: true }));
  ns = await startDnsmasq(HOSTS, [`/slow.test/${slow.address.replace(':', '#')}`, `/never.test/${never.address.replace(':', '#')}`]);
});
after(async () => {
  await ns?.stop();
  await slow?.close();
  await never?.close();
  rmSync(wd, { recursive: true, force: true });
});

function run(conf: string, input: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const file = join(wd, `dns-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(file, conf);
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, 'start', '-f', file, '--api.enabled', 'false', '--path.data', join(wd, 'data'), '--log.level', 'warn'], { cwd: wd });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  child.stdin.end(input);
  const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    }),
  );
}

const lines = (events: object[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';
const parse = (stdout: string) => stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);

describe('dns: through pipeline start', () => {
  it('resolves names and addresses from dnsmasq, every event out, in order (the last ones answered at the final flush)', async () => {
    const conf = `input { stdin { codec => json_lines } }
filter {
  dns {
    nameserver => { address => ["${ns.address}"] }
    resolve => ["host"]
    reverse => ["[client][ip]"]
    action => "replace"
    hit_cache_size => 1000
    add_tag => ["dns_ok"]
  }
}
output { stdout { codec => json_lines } }
`;
    const events = Array.from({ length: 3000 }, (_, seq) => ({ seq, host: `h${(seq % 200) + 1}.test`, client: { ip: addressOf(((seq * 7) % 200) + 1) } }));
    const r = await run(conf, lines(events));
    assert.equal(r.code, 0, r.stderr);
    const out = parse(r.stdout);
    assert.equal(out.length, events.length);
    assert.deepEqual(out.map((e) => e.seq), events.map((e) => e.seq), 'in order');
    for (const e of out) {
      assert.equal(e.host, addressOf((e.seq % 200) + 1));
      assert.equal(e.client.ip, `h${((e.seq * 7) % 200) + 1}.test`);
      assert.deepEqual(e.tags, ['dns_ok']);
    }
  });

  it('a slow zone: lookups run concurrently up to the bound, the pipeline keeps flowing, every event arrives in order, the unanswered ones tagged _dnstimeout', async () => {
    const BOUND = 50;
    const conf = `input { stdin { codec => json_lines } }
filter {
  dns {
    nameserver => "${ns.address}"
    resolve => ["host"]
    action => "replace"
    timeout => 0.5
    max_retries => 1
    max_concurrent_lookups => ${BOUND}
  }
}
output { stdout { codec => json_lines } }
`;
    // 2,000 events: every 10th a name of its own under slow.test (answered after 300 ms), every 50th one under never.test
    const kind = (i: number) => (i % 50 === 7 ? 'never' : i % 10 === 3 ? 'slow' : 'fast');
    const events = Array.from({ length: 2000 }, (_, seq) => ({
      seq,
      host: kind(seq) === 'never' ? `n${seq}.never.test` : kind(seq) === 'slow' ? `s${seq}.slow.test` : `h${(seq % 200) + 1}.test`,
    }));
    const r = await run(conf, lines(events));
    assert.equal(r.code, 0, r.stderr);
    const out = parse(r.stdout);
    assert.equal(out.length, events.length, 'every event arrives');
    assert.deepEqual(out.map((e) => e.seq), events.map((e) => e.seq), 'in order');
    const counts = { fast: 0, slow: 0, never: 0 };
    const bad: any[] = [];
    for (const e of out) {
      const k = kind(e.seq);
      counts[k]++;
      if (k === 'fast') assert.equal(e.host, addressOf((e.seq % 200) + 1));
      if (k === 'slow' && e.host !== `203.0.113.${e.seq % 250}`) bad.push(e);
      if (k === 'never') {
        assert.equal(e.host, `n${e.seq}.never.test`, 'left as it was');
        assert.deepEqual(e.tags, ['_dnstimeout']);
      } else assert.equal(e.tags, undefined, `${k} ${e.seq}`);
    }
    assert.deepEqual(bad, [], 'slow lookups answered');
    assert.ok(slow.maxOutstanding > 1 && slow.maxOutstanding <= BOUND, `slow lookups at once: ${slow.maxOutstanding}`);
    const serial = counts.slow * 0.3 + counts.never * 0.5 * 2;
    console.log(
      `# slow zone: ${events.length} events (${counts.slow} answered after 300 ms, ${counts.never} never answered, timeout 0.5 s x 2 attempts) in ${(r.ms / 1000).toFixed(2)} s ` +
        `= ${Math.round(events.length / (r.ms / 1000))} events/s with at most ${BOUND} lookups at once (${slow.maxOutstanding} seen at the slow server); one lookup at a time, as Logstash's one worker, would wait ${serial.toFixed(0)} s`,
    );
  });
});
