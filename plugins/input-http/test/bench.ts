/**
 * Throughput of the http input beside a baseline, in one run (node dist/test/bench.js [seconds]):
 * the same keep-alive client (a child process, 50 sockets) posts single JSON events, then JSON
 * arrays of 100 events, to
 *   1. a bare node:http server that reads the body and answers "ok" (the floor: HTTP alone),
 *   2. the http input in this process, its events counted by a sink that is always writable,
 *   3. `pipeline start` with the http input and the null output (the whole runtime).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@pipeline/core/testing';
import { recordingSink, start, tempDir } from './helpers.js';
import { Pipeline } from './run.js';

const SECONDS = Number(process.argv[2] ?? 5);
const CONCURRENCY = 50;
const CLIENT = fileURLToPath(new URL('./bench-client.js', import.meta.url));

interface Result {
  requests: number;
  non200: number;
  ms: number;
  perRequest: number;
}

function client(port: number, mode: 'single' | 'array'): Promise<Result> {
  // run asynchronously so the server in this process keeps serving
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLIENT, String(port), mode, String(SECONDS), String(CONCURRENCY)], (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as Result)));
  });
}

const rate = (r: Result) => ({ req: (r.requests * 1000) / r.ms, ev: (r.requests * r.perRequest * 1000) / r.ms });
const rows: string[] = [];
function row(name: string, mode: string, r: Result) {
  const { req, ev } = rate(r);
  rows.push(`| ${name} | ${mode} | ${Math.round(req).toLocaleString('en')} | ${Math.round(ev).toLocaleString('en')} | ${r.non200} |`);
}

// 1. bare server
const bare = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 2 });
    res.end('ok');
  });
});
await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
const barePort = (bare.address() as { port: number }).port;
for (const mode of ['single', 'array'] as const) row('bare node:http server (floor)', mode, await client(barePort, mode));
bare.close();

// 2. the input in process
const sink = recordingSink();
sink.push = () => {};
const t = await start('', {}, sink);
for (const mode of ['single', 'array'] as const) row('http input, in process', mode, await client(t.port, mode));
await t.stop();

// 3. the whole pipeline
const tmp = tempDir('pipeline-http-bench-');
const port = await freePort();
writeFileSync(join(tmp.dir, 'p.conf'), `input { http { host => "127.0.0.1" port => ${port} } }\noutput { null {} }\n`);
const p = new Pipeline(tmp.dir, ['-f', join(tmp.dir, 'p.conf'), '--log.level', 'info']);
await p.listening();
for (const mode of ['single', 'array'] as const) row('pipeline start: http input, null output', mode, await client(port, mode));
await p.stop();
tmp.cleanup();

console.log(`keep-alive client, ${CONCURRENCY} sockets, ${SECONDS} s per row, node ${process.version}`);
console.log('| server | body | requests/s | events/s | non-200 |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
