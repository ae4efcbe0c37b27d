/**
 * The http input in real `pipeline start` runs (core/bin/pipeline.js, a config file, the file
 * output): curl and node clients; 1,000 concurrent keep-alive clients, every event once; and a
 * slow output behind a small queue, where a flood is answered 429 and memory stays bounded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '@pipeline/core/testing';
import { tempDir } from './helpers.js';
import { jsonLines, Pipeline, post, SLOW_OUTPUT } from './run.js';

const tmp = tempDir('pipeline-http-run-');
after(() => tmp.cleanup());

function curl(args: string[]): { status: number; body: string } {
  const r = spawnSync('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', ...args], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  return { status: Number(lines.pop()), body: lines.join('\n') };
}

describe('http input: through pipeline start', () => {
  it('curl and a node client post; the file output has the events, headers and host; basic auth is enforced', async () => {
    const dir = join(tmp.dir, 'basic');
    spawnSync('mkdir', ['-p', dir]);
    const port = await freePort();
    const out = join(dir, 'out.json');
    writeFileSync(
      join(dir, 'p.conf'),
      `input { http { host => "127.0.0.1" port => ${port} user => "u" password => "p" response_code => 202 add_field => { "via" => "http" } } }\noutput { file { path => "${out}" codec => json_lines } }\n`,
    );
    const p = new Pipeline(dir, ['-f', join(dir, 'p.conf')]);
    try {
      await p.listening();
      assert.equal(curl(['-u', 'u:wrong', '--data', 'x', `http://127.0.0.1:${port}/`]).status, 401);
      const one = curl(['-u', 'u:p', '-H', 'Content-Type: application/json', '--data', '{"kind":"single"}', `http://127.0.0.1:${port}/api/events`]);
      assert.deepEqual(one, { status: 202, body: 'ok' });
      assert.equal(curl(['-u', 'u:p', '--data-binary', 'plain text line', `http://127.0.0.1:${port}/`]).status, 202);
      const agent = new http.Agent({ keepAlive: true });
      const auth = `Basic ${Buffer.from('u:p').toString('base64')}`;
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', agent, headers: { 'Content-Type': 'application/json', Authorization: auth } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(JSON.stringify([{ kind: 'array', n: 1 }, { kind: 'array', n: 2 }]));
      });
      agent.destroy();
      assert.equal(status, 202);
    } finally {
      assert.equal(await p.stop(), 0, p.stderr);
    }
    const events = jsonLines(out);
    assert.equal(events.length, 4);
    const single = events.find((e) => e.kind === 'single')!;
    assert.equal(single.host, '127.0.0.1');
    assert.equal(single.via, 'http');
    const h = single.headers as Record<string, unknown>;
    assert.equal(h.request_path, '/api/events');
    assert.equal(h.request_method, 'POST');
    assert.match(String(h.http_user_agent), /^curl\//);
    assert.equal(h.authorization, undefined);
    assert.equal(events.find((e) => e.message === 'plain text line')?.via, 'http');
    assert.deepEqual(
      events.filter((e) => e.kind === 'array').map((e) => e.n),
      [1, 2],
    );
  });

  it('1,000 concurrent keep-alive clients (1,000 sockets): every event arrives once', async () => {
    const dir = join(tmp.dir, 'many');
    spawnSync('mkdir', ['-p', dir]);
    const port = await freePort();
    const out = join(dir, 'out.json');
    writeFileSync(join(dir, 'p.conf'), `input { http { host => "127.0.0.1" port => ${port} } }\noutput { file { path => "${out}" codec => json_lines } }\n`);
    const p = new Pipeline(dir, ['-f', join(dir, 'p.conf')]);
    const CLIENTS = 1000;
    const EACH = 10;
    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
    const sockets = new Set<unknown>();
    agent.on('free', (s) => sockets.add(s));
    let retries = 0;
    try {
      await p.listening();
      const client = async (c: number) => {
        for (let i = 0; i < EACH; i++) {
          // a 429 means the request was not taken: back off and send it again, as Logstash tells clients to
          for (let attempt = 0; ; attempt++) {
            const code = await post(agent, port, JSON.stringify({ client: c, seq: i }));
            if (code === 200) break;
            assert.equal(code, 429);
            retries++;
            await new Promise((r) => setTimeout(r, Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random())));
          }
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    } finally {
      agent.destroy();
      assert.equal(await p.stop(), 0, p.stderr);
    }
    assert.equal(sockets.size, CLIENTS, 'one keep-alive socket per client, reused');
    const events = jsonLines(out);
    const seen = new Map<string, number>();
    for (const e of events) {
      const k = `${String(e.client)}/${String(e.seq)}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    assert.equal(events.length, CLIENTS * EACH, `events written (429s retried: ${retries})`);
    assert.equal(seen.size, CLIENTS * EACH);
    for (const [k, n] of seen) assert.equal(n, 1, `${k} arrived ${n} times`);
  });

  it('a slow output behind a small queue: a flood is answered 429, what got 200 is delivered, memory stays bounded', async () => {
    const dir = join(tmp.dir, 'slow');
    spawnSync('mkdir', ['-p', dir]);
    const port = await freePort();
    const out = join(dir, 'out.json');
    writeFileSync(
      join(dir, 'p.conf'),
      `input { http { host => "127.0.0.1" port => ${port} threads => 1 max_pending_requests => 10 } }\noutput {\n  slow { delay_ms => 100 }\n  file { path => "${out}" codec => json_lines }\n}\n`,
    );
    // The pipeline's heap is capped at 128 MB: holding what the flood posts would end it (out of memory).
    const HEAP_MB = 128;
    const p = new Pipeline(dir, ['-f', join(dir, 'p.conf'), '--path.plugins', SLOW_OUTPUT, '--queue.max_events', '200', '-b', '50', '-w', '1'], [`--max-old-space-size=${HEAP_MB}`]);
    const CLIENTS = 1000;
    const EVENTS = 50;
    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
    // one body for every request: a JSON array of 50 events of about 1 kB each
    const body = Buffer.from(JSON.stringify(Array.from({ length: EVENTS }, (_, k) => ({ k, pad: 'x'.repeat(1000) }))));
    let ok = 0;
    let busy = 0;
    let sent = 0;
    const rss: number[] = [];
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    try {
      await p.listening();
      // warm up, so the code paths are loaded before the first measure
      for (let i = 0; i < 20; i++) assert.equal(await post(agent, port, body), 200);
      ok += 20;
      const before = p.rss();
      const FLOOD_MS = 8000;
      const t0 = Date.now();
      const sampler = setInterval(() => rss.push(p.rss()), 200);
      const client = async () => {
        while (Date.now() - t0 < FLOOD_MS) {
          sent += body.length;
          const code = await post(agent, port, body);
          if (code === 200) ok++;
          else if (code === 429) busy++;
          else assert.fail(`unexpected status ${code}`);
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, () => client()));
      clearInterval(sampler);
      const peak = Math.max(...rss);
      const firstHalf = Math.max(...rss.slice(0, Math.ceil(rss.length / 2)));
      const secondHalf = Math.max(...rss.slice(Math.floor(rss.length / 2)));
      console.log(
        `# slow output flood (1,000 keep-alive clients, ${FLOOD_MS / 1000} s, heap capped at ${HEAP_MB} MB): ${ok - 20} requests answered 200, ${busy} answered 429, ${mb(sent)} posted; ` +
          `pipeline RSS before ${mb(before)}, peak ${mb(peak)} (first half ${mb(firstHalf)}, second half ${mb(secondHalf)})`,
      );
      assert.ok(busy > 0, 'the flood met a full queue: 429');
      assert.ok(busy > ok, 'most of the flood was refused, not held');
      assert.ok(sent > 2 * HEAP_MB * 1048576, `the flood posted ${mb(sent)}, more than twice the heap cap`);
      assert.ok(peak - before < 200 * 1048576, `RSS grew ${mb(peak - before)} under the flood`);
    } finally {
      agent.destroy();
      assert.equal(await p.stop(), 0, `the pipeline survived the flood and stopped cleanly: ${p.stderr.slice(-2000)}`);
    }
    assert.equal(jsonLines(out).length, ok * EVENTS, 'every event answered 200 was delivered');
  });
});
