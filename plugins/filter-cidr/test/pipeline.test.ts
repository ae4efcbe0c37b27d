/**
 * cidr in a real pipeline run: core/bin/pipeline.js start -f <config file> with a network file on
 * disk; the file is rewritten while the pipeline runs and the new networks apply after
 * refresh_interval. Also -t refusing a bad network at its place in the file.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = join(REPO, 'core/bin/pipeline.js');
const wd = mkdtempSync(join(tmpdir(), 'cidr-pipeline-'));
after(() => rmSync(wd, { recursive: true, force: true }));

const ARGS = ['--api.enabled', 'false', '--path.data', join(wd, 'data'), '--log.level', 'error'];

describe('cidr: through a pipeline run', () => {
  it('tags events by a network file, and follows the file when it changes', async () => {
    writeFileSync(join(wd, 'internal.txt'), '10.0.0.0/8\n192.168.0.0/16\n');
    const conf = join(wd, 'cidr.conf');
    writeFileSync(
      conf,
      `input { stdin { codec => json_lines } }
filter {
  cidr { address => ["%{src}"] network_path => "internal.txt" refresh_interval => 1 add_tag => ["internal"] add_field => { "zone" => "lan" } }
  cidr { address_field => "[dst]" network => ["2001:db8::/32", "198.51.100.0/24"] add_tag => ["documentation"] }
}
output { stdout { codec => json_lines } }
`,
    );
    const child = spawn(process.execPath, [BIN, 'start', '-f', conf, ...ARGS], { cwd: wd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const byId = new Map<string, Record<string, unknown>>();
    const waiters: { id: string; resolve: (e: Record<string, unknown>) => void }[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as Record<string, unknown>;
      byId.set(String(e.id), e);
      for (const w of waiters.filter((w) => w.id === e.id)) w.resolve(e);
    });
    const send = (o: Record<string, unknown>) => child.stdin.write(JSON.stringify(o) + '\n');
    const receive = (id: string) =>
      byId.get(id) ?? new Promise<Record<string, unknown>>((resolve, reject) => {
        waiters.push({ id, resolve });
        setTimeout(() => reject(new Error(`no event ${id}; stderr: ${stderr}`)), 30_000).unref();
      });
    try {
      send({ id: 'a', src: '10.1.2.3', dst: ['203.0.113.1', '2001:db8::5'] });
      send({ id: 'b', src: '8.8.8.8', dst: '198.51.100.7' });
      send({ id: 'c', src: 'not an ip', dst: 'nope' });
      const [a, b, c] = await Promise.all([receive('a'), receive('b'), receive('c')]);
      assert.deepEqual(a.tags, ['internal', 'documentation']);
      assert.equal(a.zone, 'lan');
      assert.deepEqual(b.tags, ['documentation']);
      assert.equal(b.zone, undefined, 'add_field only on a match');
      assert.equal(c.tags, undefined);

      // replaced the way a deploy would (write, then rename over): 8.8.8.0/24 is internal now, 10/8 no longer
      writeFileSync(join(wd, 'internal.new'), '8.8.8.0/24\n');
      renameSync(join(wd, 'internal.new'), join(wd, 'internal.txt'));
      let n = 0;
      let probe: Record<string, unknown>;
      do {
        await new Promise((r) => setTimeout(r, 250));
        const id = `probe${n++}`;
        send({ id, src: '8.8.8.8' });
        probe = await receive(id);
      } while (probe.tags === undefined && n < 60);
      assert.deepEqual(probe.tags, ['internal'], 'the rewritten file applies after refresh_interval');
      send({ id: 'd', src: '10.1.2.3' });
      assert.equal((await receive('d')).tags, undefined, 'the old networks are gone');
    } finally {
      child.stdin.end();
      const code = await new Promise<number | null>((r) => child.on('close', r));
      assert.equal(code, 0, stderr);
    }
  });

  it('-t refuses a network that is none, at its item in the file', () => {
    const conf = join(wd, 'bad.conf');
    writeFileSync(conf, 'input { stdin {} }\nfilter {\n  cidr {\n    address => ["%{ip}"]\n    network => ["10.0.0.0/8", "10.0.0.0/33"]\n  }\n}\noutput { stdout {} }\n');
    const r = spawnSync(process.execPath, [BIN, 'start', '-f', conf, '-t', ...ARGS], { cwd: wd, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /bad\.conf:5:31: cidr: '10\.0\.0\.0\/33' is not an IP network/);
  });
});
