#!/usr/bin/env node
// Alerts/s into the `alerta` output, delivered to a local Alerta double (the recorded-answers HTTP
// server from @pipeline/output-alerta/testing, in a child process so it does not share our core),
// through the durable spool, one alert in flight, keep-alive. Peers in the same run:
//  - a plain Node loop POSTing the same bodies over a keep-alive agent (no spool): the HTTP bound;
//  - one `curl` process per alert, as the reference forks `alerta send` per SEC match (a subset).
//   node scripts/bench/outputs/alerta.mjs [--alerts N] [--batch B] [--forks F]
import { fork, execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { Event, MetricsRegistry, SystemClock, Timestamp } from '@pipeline/core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ALERTS = arg('alerts', 20_000);
const BATCH = arg('batch', 125);
const FORKS = arg('forks', 300);

if (process.argv[2] === '--serve') {
  // child: the Alerta double
  const { AlertaDouble } = await import(join(root, 'plugins/output-alerta/dist/src/testing.js'));
  const d = await AlertaDouble.start();
  const counts = () => ({ alerts: d.alerts.length, connections: d.connections });
  process.on('message', (m) => {
    if (m === 'counts') process.send(counts());
    if (m === 'reset') {
      d.alerts.length = 0;
      d.requests.length = 0;
      process.send(counts());
    }
  });
  process.send({ url: d.url });
} else {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: 'inherit' });
  const ask = (m) => new Promise((resolve) => child.once('message', resolve) && child.send(m));
  const { url } = await new Promise((resolve) => child.once('message', resolve));
  const alertaDef = (await import(join(root, 'plugins/output-alerta/dist/src/index.js'))).default;

  const events = [];
  for (let i = 0; i < ALERTS; i++)
    events.push(
      new Event(
        {
          message: `sshd[${1000 + i}]: Failed password for invalid user u${i % 97} from 10.0.${i % 255}.${i % 7} port 22 ssh2`,
          tags: ['alert'],
          alert: {
            resource: `host${i % 50}`,
            event: `ssh login failure in host${i % 50} with invalid user u${i % 97}`,
            environment: 'Homelab',
            severity: 'warning',
            service: ['sshd'],
            correlate: ['SEC'],
            text: `Nov 27 10:00:00 host${i % 50} sshd[${1000 + i}]: Failed password for invalid user u${i % 97}`,
          },
        },
        new Timestamp(Date.UTC(2026, 10, 27) + i),
      ),
    );

  const dir = mkdtempSync(join(tmpdir(), 'bench-alerta-'));
  const ctx = {
    logger: pino({ level: 'warn' }),
    clock: new SystemClock(),
    metrics: new MetricsRegistry(),
    dataDir: dir,
    workingDir: dir,
    resolvePath: (p) => join(dir, p),
    signal: new AbortController().signal,
    pipelineId: 'bench',
    id: 'bench-alerta',
    settings: {},
    codec: { name: 'none', create() { throw new Error('no codec'); } },
  };
  const opts = { endpoint: url };
  const o = { ...Object.fromEntries(Object.entries(alertaDef.options).filter(([, s]) => s.default !== undefined).map(([k, s]) => [k, structuredClone(s.default)])), ...opts };
  alertaDef.check(o);
  const out = await alertaDef.create(o, ctx);

  // 1) Pipeline: receive in batches (spooled at once), delivered in order
  await ask('reset');
  let t0 = process.hrtime.bigint();
  for (let off = 0; off < ALERTS; off += BATCH) out.receive(events.slice(off, off + BATCH));
  const spooledMs = Number(process.hrtime.bigint() - t0) / 1e6;
  while (out.spool.depth > 0) {
    await out.whenIdle();
    if (out.spool.depth > 0) await new Promise((r) => setTimeout(r, 5));
  }
  const pipeMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const pipeCounts = await ask('counts');
  await out.close();
  if (pipeCounts.alerts !== ALERTS) throw new Error(`double got ${pipeCounts.alerts} of ${ALERTS}`);

  // 2) peer: plain keep-alive POST loop, same bodies, no spool
  await ask('reset');
  const bodies = events.map((e) => JSON.stringify({ ...e.fields.alert, createTime: e.timestamp.toISOString() }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const post = (body) =>
    new Promise((resolve, reject) => {
      const req = http.request({ hostname: target.hostname, port: target.port, path: '/alert', method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(body);
    });
  t0 = process.hrtime.bigint();
  for (const b of bodies) await post(b);
  const peerMs = Number(process.hrtime.bigint() - t0) / 1e6;
  agent.destroy();

  // 3) peer: a process per alert (curl), as `shellcmd alerta send` per match
  const run = promisify(execFile);
  t0 = process.hrtime.bigint();
  for (let i = 0; i < FORKS; i++) await run('curl', ['-s', '-o', '/dev/null', '-X', 'POST', '-H', 'Content-Type: application/json', '--data', bodies[i], `${url}/alert`]);
  const forkMs = Number(process.hrtime.bigint() - t0) / 1e6;

  child.kill();
  rmSync(dir, { recursive: true, force: true });
  const rate = (n, ms) => Math.round((n / ms) * 1000);
  const pipeRate = rate(ALERTS, pipeMs);
  const peerRate = rate(ALERTS, peerMs);
  const forkRate = rate(FORKS, forkMs);
  console.log(`alerts: ${ALERTS} (batches of ${BATCH}), delivered exactly once in order to the double over ${pipeCounts.connections} connection(s)`);
  console.log(`spooling (receive() returns): ${rate(ALERTS, spooledMs).toLocaleString('en')} alerts/s`);
  console.log(`alerta output, spooled + delivered: ${pipeRate.toLocaleString('en')} alerts/s`);
  console.log(`peer, plain keep-alive POST loop (no spool): ${peerRate.toLocaleString('en')} alerts/s (output/peer ${(pipeRate / peerRate).toFixed(2)}x)`);
  console.log(`peer, one curl process per alert (${FORKS}): ${forkRate.toLocaleString('en')} alerts/s (output/fork ${(pipeRate / forkRate).toFixed(1)}x)`);
}
