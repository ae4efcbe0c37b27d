import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@pipeline/output-redis/testing';
import { freePort, REPO, startPipeline, tempDir, waitFor, type Running } from './util.js';

/**
 * Issue 9's system test: a real redis-server, two shippers, three indexers owning two partitions
 * each; a scripted workload from six hosts (six loopback source addresses); one indexer killed with
 * kill -9 halfway and restarted under its name. Every event must be filed, and the alerts must be
 * those of a single instance running the default pipeline on the same input.
 */
const HOSTS = ['web1', 'web2', 'db1', 'nas', 'mail', 'gw'];
const PARTITIONS = 6;

/** The workload of one phase: per host, lines the reference rules fire on, and noise. */
function workload(phase: number): Map<string, string[]> {
  const byHost = new Map<string, string[]>();
  HOSTS.forEach((h, i) => {
    const lines: string[] = [];
    const ts = (s: number) => `Nov 27 ${String(10 + phase).padStart(2, '0')}:${String(i).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
    for (let n = 0; n < 150; n++) {
      const t = ts(n);
      switch (n % 10) {
        case 0:
          lines.push(`<38>${t} ${h} sshd[${1000 + n}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.${i}  user=user${phase}${n % 3}`);
          break;
        case 1:
          lines.push(`<38>${t} ${h} sshd[${1000 + n}]: Failed password for invalid user bot${phase}${n % 4} from 203.0.113.${i} port ${40000 + n} ssh2`);
          break;
        case 2:
          lines.push(`<85>${t} ${h} sudo: pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/${n} ruser=alice rhost=  user=alice${phase}`);
          break;
        case 3:
          lines.push(`<86>${t} ${h} sshd[${1000 + n}]: pam_unix(sshd:session): session opened for user ops${n % 2} by (uid=0)`);
          break;
        case 4:
          lines.push(`<78>${t} ${h} rsnapshot[${2000 + n}]: /usr/bin/rsnapshot hourly: completed successfully`);
          break;
        default:
          lines.push(`<30>${t} ${h} app[${3000 + n}]: request ${phase}-${i}-${n} served in ${n} ms`);
      }
    }
    byHost.set(h, lines);
  });
  return byHost;
}

/** Sends each host's lines over TCP from its own loopback address (127.0.0.2 ..). */
async function send(port: number, byHost: Map<string, string[]>): Promise<void> {
  await Promise.all(
    [...byHost.entries()].map(
      ([, lines], i) =>
        new Promise<void>((resolve, reject) => {
          const s = connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${i + 2}` }, () => {
            s.end(lines.join('\n') + '\n');
          });
          s.on('error', reject);
          s.on('close', () => resolve());
        }),
    ),
  );
}

/** Every message filed under a pipeline's data/logs, and the alerts it wrote. */
function filed(dir: string): string[] {
  const logs = join(dir, 'data', 'logs');
  if (!existsSync(logs)) return [];
  return readdirSync(logs).flatMap((f) =>
    readFileSync(join(logs, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { message: string }).message),
  );
}
function alerts(dir: string): string[] {
  const f = join(dir, 'data', 'alerts.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { alert?: Record<string, string>; heartbeat?: Record<string, string> })
    .map((e) => (e.alert ? `alert ${e.alert.severity} ${e.alert.resource}: ${e.alert.event}` : `heartbeat ${e.heartbeat!.origin}`));
}

describe('scale-out over Redis streams', () => {
  const procs: Running[] = [];
  let redis: RedisServer | undefined;
  const t = tempDir();
  after(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await redis?.stop();
    t.cleanup();
  });

  it('2 shippers, 3 indexers, one killed with kill -9 halfway: every event filed, the alerts of a single instance', async () => {
    redis = await startRedis();
    const env = { REDIS_PORT: String(redis.port), REDIS_PARTITIONS: String(PARTITIONS), REDIS_KEY: 'e2e:logs' };
    const common = ['--api.enabled', 'false'];
    const start = (name: string, args: string[], extra: Record<string, string>) => {
      const dir = join(t.dir, name);
      mkdirSync(dir, { recursive: true });
      const p = startPipeline([...args, ...common], { cwd: dir, env: { ...env, ...extra } });
      procs.push(p);
      return { dir, p };
    };
    const shipperPorts = [await freePort(), await freePort()];
    const shippers = shipperPorts.map((port, i) =>
      start(`shipper-${i}`, ['-f', join(REPO, 'pipelines', 'shipper.conf'), '--queue.type', 'persisted', '--path.data', 'data'], { PIPELINE_SYSLOG_PORT: String(port) }),
    );
    const indexer = (i: number) =>
      start(`indexer-${i}`, ['-f', join(REPO, 'pipelines', 'indexer.conf'), '--path.data', 'data'], { INDEXER_NAME: `indexer-${i}`, INDEXER_PARTITIONS: `${2 * i}-${2 * i + 1}` });
    const indexers = [indexer(0), indexer(1), indexer(2)];
    const singlePort = await freePort();
    const single = start('single', ['--path.data', 'data'], { PIPELINE_SYSLOG_PORT: String(singlePort) });
    for (const p of [...shippers, ...indexers, single]) await waitFor(() => p.p.stderr().includes('pipeline started'), 'start');
    await new Promise((r) => setTimeout(r, 500)); // listeners up

    const phase1 = workload(1);
    const phase2 = workload(2);
    const total = [...phase1.values(), ...phase2.values()].reduce((n, l) => n + l.length, 0);
    // phase 1 through shipper 0, then kill -9 indexer 1 while phase 2 streams in through shipper 1
    await send(shipperPorts[0]!, phase1);
    await send(singlePort, phase1);
    const allFiled = () => new Set(indexers.flatMap((x) => filed(x.dir))).size;
    await waitFor(() => allFiled() >= total / 2, 'phase 1 filed by the indexers', 120_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${allFiled()} filed\n${[...shippers, ...indexers].map((x) => `${x.dir}: ${x.p.stderr().slice(-1500)}`).join('\n')}`);
    });
    const sending = send(shipperPorts[1]!, phase2);
    indexers[1]!.p.child.kill('SIGKILL');
    await indexers[1]!.p.exited;
    await sending;
    await send(singlePort, phase2);
    await new Promise((r) => setTimeout(r, 1000)); // its partitions wait in Redis meanwhile
    indexers[1] = indexer(1); // restarted under its name: takes back its pending entries
    await waitFor(() => allFiled() === total, `all ${total} events filed (${allFiled()} so far)`, 180_000);
    await waitFor(() => new Set(filed(single.dir)).size === total, 'the single instance to file everything', 120_000);

    const sent = new Set([...phase1.values(), ...phase2.values()].flat());
    const union = new Set(indexers.flatMap((x) => filed(x.dir)));
    assert.deepEqual([...union].filter((m) => !sent.has(m)), [], 'nothing filed that was not sent');
    assert.equal(union.size, sent.size, 'every event filed at least once');

    // one host, one indexer: each host's events were correlated in one place
    for (const [i, h] of HOSTS.entries()) {
      const owners = indexers.filter((x) => filed(x.dir).some((m) => m.includes(` ${h} `)));
      assert.equal(owners.length, 1, `host ${h} (127.0.0.${i + 2}) reached one indexer`);
    }
    await waitFor(() => new Set(indexers.flatMap((x) => alerts(x.dir))).size >= new Set(alerts(single.dir)).size, 'alerts', 60_000);
    const distributed = new Set(indexers.flatMap((x) => alerts(x.dir)));
    const reference = new Set(alerts(single.dir));
    assert.ok(reference.size > 20, `the workload raises alerts (${reference.size})`);
    assert.deepEqual([...distributed].sort(), [...reference].sort(), 'the same alerts as a single instance (duplicates after the crash aside)');
  });

  it('Redis going away and coming back loses nothing on the shipper side', async () => {
    const r = redis!;
    const port = await freePort();
    const dir = join(t.dir, 'shipper-outage');
    mkdirSync(dir);
    const env = { REDIS_PORT: String(r.port), REDIS_PARTITIONS: '1', REDIS_KEY: 'outage:logs', PIPELINE_SYSLOG_PORT: String(port) };
    const shipper = startPipeline(['-f', join(REPO, 'pipelines', 'shipper.conf'), '--queue.type', 'persisted', '--path.data', 'data', '--api.enabled', 'false'], { cwd: dir, env });
    procs.push(shipper);
    await waitFor(() => shipper.stderr().includes('pipeline started'), 'start');
    await new Promise((res) => setTimeout(res, 300));
    const batch = (from: number, n: number) => new Map([['web1', Array.from({ length: n }, (_, k) => `<13>Nov 27 12:00:00 web1 app: outage ${from + k}`)]]);
    await send(port, batch(0, 200));
    const client = new Redis({ port: r.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    await waitFor(async () => (await client.xlen('outage:logs')) === 200, 'the first 200 in Redis');
    client.disconnect();
    await r.kill(); // Redis is gone; the shipper keeps receiving
    await send(port, batch(200, 500));
    await new Promise((res) => setTimeout(res, 1500));
    await r.restart(); // back, empty (no persistence): what the shipper held must all arrive
    const again = new Redis({ port: r.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await again.connect();
    await waitFor(async () => (await again.xlen('outage:logs')) >= 500, 'the 500 sent during the outage', 120_000);
    const entries = (await again.xrange('outage:logs', '-', '+')) as [string, string[]][];
    const got = new Set(entries.map(([, f]) => (JSON.parse(f[1]!) as { message: string }).message));
    again.disconnect();
    for (let k = 200; k < 700; k++) assert.ok(got.has(`<13>Nov 27 12:00:00 web1 app: outage ${k}`), `event ${k} arrived after the outage`);
    shipper.child.kill('SIGTERM');
    assert.equal(await shipper.exited, 0, shipper.stderr());
  });
});
