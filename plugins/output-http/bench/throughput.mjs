#!/usr/bin/env node
// Throughput of the http output to a local node:http server, beside a baseline in the same run:
// a plain node:http client loop (keep-alive, one request at a time, as the output sends) posting
// the same bodies to the same kind of server. The output runs in a real `pipeline start` (stdin ->
// http, stdin lines), timed at the server (its own process) from the first request to the last.
//   node plugins/output-http/bench/throughput.mjs      (N_JSON=10000 N_BATCH=100000)
import { fork, spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(REPO, 'core/bin/pipeline.js');
const BATCH = 125;
const N_JSON = Number(process.env.N_JSON ?? 10_000);
const N_BATCH = Number(process.env.N_BATCH ?? 100_000);

if (process.argv[2] === 'server') {
  // the receiving server, in its own process: counts events (array elements) and requests
  let events = 0;
  let requests = 0;
  let first = 0;
  let last = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') {
      res.end(JSON.stringify({ events, requests, first, last }));
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (requests++ === 0) first = performance.timeOrigin + performance.now();
      events += body[0] === 0x5b ? body.toString('latin1').split('"@version"').length - 1 : 1;
      last = performance.timeOrigin + performance.now();
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  /** A fresh server process per measurement. */
  async function withServer(fn) {
    const child = fork(fileURLToPath(import.meta.url), ['server'], { stdio: 'inherit' });
    const port = await new Promise((r) => child.once('message', r));
    const base = `http://127.0.0.1:${port}`;
    const counts = async () => (await fetch(`${base}/count`)).json();
    try {
      return await fn(`${base}/ingest`, counts);
    } finally {
      child.kill();
    }
  }
  const rate = (c) => ({ eps: c.events / ((c.last - c.first) / 1000), rps: c.requests / ((c.last - c.first) / 1000), events: c.events });

  /** The baseline: a node:http keep-alive loop, one request at a time. */
  const baseline = (body, requests) =>
    withServer(async (url, counts) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const buf = Buffer.from(body);
      for (let i = 0; i < requests; i++)
        await new Promise((resolve, reject) => {
          const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': buf.length } }, (res) => {
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
          req.end(buf);
        });
      agent.destroy();
      return rate(await counts());
    });

  /** The output in a real pipeline: stdin lines -> http, timed at the server from first to last request. */
  const pipeline = (format, n) =>
    withServer(async (url, counts) => {
      const data = mkdtempSync(join(tmpdir(), 'http-bench-'));
      const config = `input { stdin {} } output { http { url => "${url}" http_method => "post" format => "${format}" } }`;
      const child = spawn(process.execPath, [BIN, 'start', '-e', config, '--path.data', data, '--api.enabled', 'false', '--log.level', 'warn', '-b', String(BATCH)], { stdio: ['pipe', 'ignore', 'inherit'] });
      const line = 'Hello world! a benchmark line of about the size of a syslog message from a homelab host';
      child.stdin.write(Array.from({ length: n }, () => line).join('\n') + '\n');
      let c;
      while ((c = await counts()).events < n) await sleep(100);
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
      rmSync(data, { recursive: true, force: true });
      return rate(c);
    });

  const event = JSON.stringify({ message: 'Hello world! a benchmark line of about the size of a syslog message from a homelab host', host: { name: hostname() }, '@version': '1', '@timestamp': new Date().toISOString(), event: { original: 'Hello world! a benchmark line of about the size of a syslog message from a homelab host' } });
  const batch = `[${Array.from({ length: BATCH }, () => event).join(',')}]`;
  const rows = [
    ['baseline: node:http loop, one event per request', await baseline(event, N_JSON)],
    ['http output, format => json', await pipeline('json', N_JSON)],
    [`baseline: node:http loop, ${BATCH} events per request`, await baseline(batch, N_BATCH / BATCH)],
    [`http output, format => json_batch (-b ${BATCH})`, await pipeline('json_batch', N_BATCH)],
  ];
  console.log(`node ${process.version}, ${hostname()}, one request in flight at a time, loopback, the server in its own process`);
  console.log('| sender | events | events/s | requests/s |\n| --- | ---: | ---: | ---: |');
  for (const [name, m] of rows) console.log(`| ${name} | ${m.events.toLocaleString('en')} | ${Math.round(m.eps).toLocaleString('en')} | ${Math.round(m.rps).toLocaleString('en')} |`);
}
