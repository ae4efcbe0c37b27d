/**
 * Several pipelines in one process from `--path.settings DIR/pipelines.yml`, as Logstash runs them,
 * and pipeline-to-pipeline (`pipeline` output → `pipeline` input) between them: the forked path
 * (one intake feeding a parse and an archive pipeline), back-pressure across pipelines, a pipeline
 * that cannot start while the others run, SIGHUP per pipeline, and `-t` naming the pipeline.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, REPO, freePort, logRecords, startPipeline, tempDir, waitFor, type Running } from './util.js';

const linesOf = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

async function stats(port: number, path = '/_node/stats'): Promise<Record<string, any> | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return r.status === 200 ? ((await r.json()) as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** Writes `lines` over one connection, honouring the socket's back-pressure; `written` counts the lines the socket took. */
function flood(sock: Socket, count: number, line: (i: number) => string): { written: () => number; done: Promise<void> } {
  let i = 0;
  const done = new Promise<void>((resolve, reject) => {
    sock.on('error', reject);
    const pump = () => {
      while (i < count) {
        let chunk = '';
        for (let k = 0; k < 200 && i < count; k++, i++) chunk += line(i) + '\n';
        if (!sock.write(chunk)) return void sock.once('drain', pump);
      }
      sock.end(resolve);
    };
    pump();
  });
  return { written: () => i, done };
}

const start = (dir: string, apiPort: number, extra: string[] = []): Running =>
  startPipeline(['--path.settings', dir, '--path.data', join(dir, 'data'), '--api.http.host', '127.0.0.1', '--api.http.port', String(apiPort), ...extra], { cwd: dir });

const started = (p: Running, id: string) => logRecords(p.stderr()).some((r) => r.msg === 'pipeline started' && r.pipeline === id);

describe('several pipelines in one process (pipelines.yml)', () => {
  it('forked path: a syslog intake sends every event once to a parse and an archive pipeline, each with its own copy, queue and stats', async () => {
    const t = tempDir();
    try {
      const [port, api] = [await freePort(), await freePort()];
      const parsed = join(t.dir, 'parsed.jsonl');
      const archived = join(t.dir, 'archive.log');
      writeFileSync(
        join(t.dir, 'pipelines.yml'),
        `- pipeline.id: intake
  pipeline.workers: 1
  config.string: |
    input { tcp { id => "syslog_in" host => "127.0.0.1" port => ${port} } }
    filter { mutate { add_field => { "[@metadata][route]" => "from-intake" } } }
    output { pipeline { id => "fork" send_to => ["parse", "archive"] } }
- pipeline.id: parse
  pipeline.workers: 1
  path.config: parse.conf
- pipeline.id: archive
  queue.type: persisted
  config.string: |
    input { pipeline { address => "archive" } }
    output { file { path => "${archived}" codec => line { format => "%{message}" } } }
`,
      );
      writeFileSync(
        join(t.dir, 'parse.conf'),
        `input { pipeline { address => "parse" } }
filter {
  grok { match => { "message" => "^<%{POSINT:pri}>%{SYSLOGTIMESTAMP:ts} %{HOSTNAME:src} %{DATA:program}(?:\\[%{POSINT:pid}\\])?: seq=%{INT:seq:int}" } }
  mutate { add_field => { "route" => "%{[@metadata][route]}" } replace => { "message" => "changed downstream" } }
}
output { file { path => "${parsed}" codec => json_lines } }
`,
      );
      const p = start(t.dir, api);
      try {
        await waitFor(() => ['intake', 'parse', 'archive'].every((id) => started(p, id)), `three pipelines started:\n${p.stderr()}`);
        await waitFor(() => logRecords(p.stderr()).some((r) => r.plugin === 'syslog_in' && String(r.msg).startsWith('listening')), 'the tcp input to listen');
        const N = 5000;
        const sock = await open(port);
        await flood(sock, N, (i) => `<38>Dec  4 05:00:00 web${i % 7} sshd[1]: seq=${i}`).done;
        await waitFor(() => linesOf(parsed).length >= N && linesOf(archived).length >= N, `every event in both targets (${linesOf(parsed).length}, ${linesOf(archived).length})`);
        const events = linesOf(parsed).map((l) => JSON.parse(l) as Record<string, unknown>);
        assert.equal(events.length, N, 'each event once in parse');
        assert.deepEqual(
          events.map((e) => e.seq),
          Array.from({ length: N }, (_, i) => i),
          'in order, none lost or repeated',
        );
        assert.ok(events.every((e) => e.route === 'from-intake'), '@metadata crosses with the event (Logstash clones it whole)');
        assert.ok(events.every((e, i) => e.src === `web${i % 7}` && e.program === 'sshd'), `parsed downstream: ${JSON.stringify(events[0])}`);
        const raw = linesOf(archived);
        assert.equal(raw.length, N, 'each event once in archive');
        assert.deepEqual(raw, Array.from({ length: N }, (_, i) => `<38>Dec  4 05:00:00 web${i % 7} sshd[1]: seq=${i}`), 'archive has its own copy: the change parse made is not in it');
        assert.ok(existsSync(join(t.dir, 'data', 'queue', 'archive')), 'the persisted queue lives under path.data/queue/<pipeline id>');
        assert.ok(!existsSync(join(t.dir, 'data', 'queue', 'parse')), 'the memory-queue pipelines have none');

        // the monitoring API: one section per pipeline, and /_node/stats/pipelines/<id> for each
        await waitFor(async () => (await stats(api))?.pipelines?.archive?.events?.out === N, 'archive stats');
        for (const id of ['intake', 'parse', 'archive']) {
          const one = await stats(api, `/_node/stats/pipelines/${id}`);
          assert.deepEqual(Object.keys(one!.pipelines), [id]);
          assert.equal(one!.pipelines[id].events.in, N, `${id}: events in`);
        }
        const node = await stats(api);
        assert.equal(node!.events.in, 3 * N, 'node events are the sum of its pipelines');
        assert.equal(node!.pipelines.archive.queue.type, 'persisted');
        assert.equal(node!.pipelines.parse.queue.type, 'memory');
        const fork = node!.pipelines.intake.plugins.outputs.find((o: { id: string }) => o.id === 'fork');
        assert.equal(fork.sent, 2 * N, 'the pipeline output counts what it sent (two copies of each)');
        const metrics = await (await fetch(`http://127.0.0.1:${api}/metrics`)).text();
        for (const id of ['intake', 'parse', 'archive']) assert.match(metrics, new RegExp(`^pipeline_events_in_total\\{pipeline="${id}"\\} ${N}$`, 'm'));
        assert.match(metrics, /^pipeline_plugin_sent_total\{pipeline="intake",kind="output",plugin_id="fork"\} 10000$/m);
      } finally {
        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0, p.stderr());
      }
      const stopped = logRecords(p.stderr()).filter((r) => r.msg === 'pipeline stopped');
      assert.deepEqual(stopped.map((r) => r.pipeline).sort(), ['archive', 'intake', 'parse'], 'SIGTERM drains every pipeline');
      assert.equal(stopped.findIndex((r) => r.pipeline === 'intake'), 0, 'the upstream pipeline stops first: the downstream inputs wait for it');
    } finally {
      t.cleanup();
    }
  });

  it('back-pressure across pipelines: a slow downstream output fills both queues and the intake stops reading; nothing is lost, memory stays bounded', async () => {
    const t = tempDir();
    try {
      const [port, api] = [await freePort(), await freePort()];
      const out = join(t.dir, 'slow.log');
      writeFileSync(
        join(t.dir, 'pipelines.yml'),
        `- pipeline.id: intake
  pipeline.workers: 1
  queue.max_events: 500
  config.string: |
    input { tcp { host => "127.0.0.1" port => ${port} } }
    output { pipeline { send_to => ["slowpath"] } }
- pipeline.id: slowpath
  pipeline.workers: 1
  pipeline.batch.size: 50
  queue.max_events: 200
  path.config: slow.conf
`,
      );
      const slowConf = (delay: number) => `input { pipeline { address => "slowpath" } }
output {
  slow { delay_ms => ${delay} }
  file { id => "filed" path => "${out}" codec => line { format => "%{message}" } }
}
`;
      writeFileSync(join(t.dir, 'slow.conf'), slowConf(200));
      const p = start(t.dir, api, ['--path.plugins', join(REPO, 'core', 'test', 'fixtures', 'plugins')]);
      try {
        await waitFor(() => started(p, 'intake') && started(p, 'slowpath'), `started:\n${p.stderr()}`);
        await waitFor(() => logRecords(p.stderr()).some((r) => r.pipeline === 'intake' && String(r.msg).startsWith('listening')), 'the tcp input to listen');
        const before = (await stats(api))!.process.mem.rss_in_bytes as number;
        const N = 300_000; // ~60 MB of lines
        const pad = 'x'.repeat(180);
        const sock = await open(port);
        const f = flood(sock, N, (i) => `${i} ${pad}`);
        // both queues full, the tcp input no longer reading: the sender is held by TCP
        let s: Record<string, any> | undefined;
        await waitFor(async () => {
          s = await stats(api);
          const q = (id: string) => s?.pipelines?.[id]?.queue;
          return q('intake')?.size >= q('intake')?.capacity - 125 && q('slowpath')?.size >= q('slowpath')?.capacity - 50;
        }, 'both queues full');
        const held = f.written();
        let rssPeak = 0;
        for (let k = 0; k < 8; k++) {
          await new Promise((r) => setTimeout(r, 250));
          const now = await stats(api);
          rssPeak = Math.max(rssPeak, now!.process.mem.rss_in_bytes as number);
          assert.ok(now!.pipelines.intake.queue.size <= now!.pipelines.intake.queue.capacity + 200, 'the intake queue stays bounded');
        }
        const inFile = linesOf(out).length;
        const took = f.written();
        process.stdout.write(
          `# back-pressure: sender wrote ${took} of ${N} lines (${Math.round((took * 200) / 1048576)} MiB of ${Math.round((N * 200) / 1048576)}) while ${inFile} were filed; ` +
            `intake queue ${s!.pipelines.intake.queue.size}/${s!.pipelines.intake.queue.capacity}, slowpath ${s!.pipelines.slowpath.queue.size}/${s!.pipelines.slowpath.queue.capacity}; ` +
            `rss before ${Math.round(before / 1048576)} MiB, peak while held ${Math.round(rssPeak / 1048576)} MiB\n`,
        );
        assert.ok(took < N / 2, `the sender is held back (${took} of ${N} lines taken, ${held} when the queues filled)`);
        assert.ok(rssPeak - before < 48 * 1048576, `memory stays bounded: rss grew ${Math.round((rssPeak - before) / 1048576)} MiB while ${Math.round((took * 200) / 1048576)} MiB were offered`);
        // the slow destination recovers (its pipeline reloaded alone): everything arrives, once, in order
        writeFileSync(join(t.dir, 'slow.conf'), slowConf(0));
        p.child.kill('SIGHUP');
        await f.done;
        await waitFor(() => linesOf(out).length >= N, `every line filed (${linesOf(out).length})`, 240_000);
        const lines = linesOf(out);
        assert.equal(lines.length, N);
        for (let i = 0; i < N; i++) if (lines[i] !== `${i} ${pad}`) assert.fail(`line ${i} is ${lines[i]?.slice(0, 20)}`);
        const after = await stats(api);
        assert.equal(after!.pipelines.slowpath.reloads.successes, 1, 'slowpath reloaded');
        assert.equal(after!.pipelines.intake.reloads.successes, 1, 'intake reloaded too (SIGHUP reloads each), unchanged');
      } finally {
        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0, p.stderr());
      }
    } finally {
      t.cleanup();
    }
  });

  it('a pipeline that cannot start (bad config, port in use) is logged and the others run; SIGHUP starts it once fixed and reloads each pipeline on its own', async () => {
    const t = tempDir();
    let holder: Server | undefined;
    try {
      const [port, busyPort, api] = [await freePort(), await freePort(), await freePort()];
      holder = createServer().listen(busyPort, '127.0.0.1');
      await new Promise((r) => holder!.once('listening', r));
      const good = join(t.dir, 'good.log');
      const late = join(t.dir, 'late.log');
      const goodConf = (tag: string) => `input { tcp { host => "127.0.0.1" port => ${port} } }
output {
  file { path => "${good}" codec => line { format => "%{message} %{tags}" } }
  pipeline { id => "to_late" send_to => ["late"] }
  pipeline { id => "to_nowhere" send_to => ["nowhere"] ensure_delivery => false }
}
filter { mutate { add_tag => ["${tag}"] } }
`;
      const lateConf = `input { pipeline { address => "late" } }
output { file { path => "${late}" codec => line { format => "%{message}" } } }
`;
      writeFileSync(join(t.dir, 'good.conf'), goodConf('v1'));
      writeFileSync(join(t.dir, 'late.conf'), lateConf.replace('output {', 'output { nosuchoutput {} '));
      writeFileSync(
        join(t.dir, 'pipelines.yml'),
        `- pipeline.id: good
  pipeline.workers: 1
  path.config: good.conf
- pipeline.id: late
  path.config: late.conf
- pipeline.id: busy
  config.string: 'input { tcp { host => "127.0.0.1" port => ${busyPort} } } output { null {} }'
`,
      );
      const p = start(t.dir, api);
      try {
        await waitFor(() => started(p, 'good'), `good started:\n${p.stderr()}`);
        await waitFor(() => logRecords(p.stderr()).some((r) => r.pipeline === 'good' && String(r.msg).startsWith('listening')), 'the tcp input to listen');
        await waitFor(() => logRecords(p.stderr()).some((r) => r.level === 'error' && r.pipeline === 'busy' && r.msg === 'input failed'), 'the busy pipeline reports its port');
        const recs = logRecords(p.stderr());
        const bad = recs.find((r) => r.level === 'error' && r.pipeline === 'late');
        assert.ok(bad && String(bad.msg).includes('pipeline late') && String(bad.msg).includes('nosuchoutput') && String(bad.msg).includes('could not start'), `the bad pipeline is named with its error:\n${p.stderr()}`);
        const sock = await open(port);
        sock.write('one\ntwo\nthree\n');
        await waitFor(() => linesOf(good).length === 3, 'the good pipeline runs');
        assert.deepEqual(linesOf(good), ['one v1', 'two v1', 'three v1']);
        const waitLog = () => logRecords(p.stderr()).filter((r) => String(r.msg).includes('"late" has no listener: waiting'));
        await waitFor(() => waitLog().length === 1, 'the output waits for the address, and says so once');
        await waitFor(async () => (await stats(api))?.pipelines?.good?.plugins?.outputs?.find((o: { id: string }) => o.id === 'to_nowhere')?.dropped === 3, 'ensure_delivery => false drops and counts');
        assert.ok(logRecords(p.stderr()).some((r) => r.level === 'warn' && String(r.msg).includes('"nowhere" has no listener')), 'and warns');
        assert.equal((await stats(api))?.pipelines?.late, undefined, 'a pipeline that did not start has no stats');

        // fixed, then SIGHUP: it starts, and the waiting output delivers what it held
        writeFileSync(join(t.dir, 'late.conf'), lateConf);
        p.child.kill('SIGHUP');
        await waitFor(() => linesOf(late).length === 3, `the late pipeline received what waited for it:\n${p.stderr()}`);
        assert.deepEqual(linesOf(late), ['one', 'two', 'three']);
        assert.equal(waitLog().length, 1, 'logged once for the whole wait');

        // SIGHUP per pipeline: good changes and reloads, late breaks and keeps running as it was
        writeFileSync(join(t.dir, 'good.conf'), goodConf('v2'));
        writeFileSync(join(t.dir, 'late.conf'), 'input { pipeline { address => "late" } output { }');
        p.child.kill('SIGHUP');
        await waitFor(async () => (await stats(api))?.pipelines?.late?.reloads?.failures >= 2 && (await stats(api))?.pipelines?.good?.reloads?.successes >= 2, `reloads counted per pipeline:\n${p.stderr()}`);
        sock.write('four\n');
        await waitFor(() => linesOf(good).length === 4 && linesOf(late).length === 4, 'both go on');
        assert.equal(linesOf(good)[3], 'four v2', 'good runs its new config');
        assert.equal(linesOf(late)[3], 'four', 'late runs its old config');
        assert.ok(logRecords(p.stderr()).some((r) => r.level === 'error' && r.pipeline === 'late' && String(r.msg).startsWith('pipeline late: configuration refused')));
        sock.destroy();
      } finally {
        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0, p.stderr());
      }
    } finally {
      holder?.close();
      t.cleanup();
    }
  });

  it('-t checks every pipeline and names the one in error; an address two inputs listen on and a process setting in an entry are refused', async () => {
    const t = tempDir();
    try {
      const run = async (yml: string) => {
        writeFileSync(join(t.dir, 'pipelines.yml'), yml);
        const r = spawnSync(process.execPath, [BIN, 'start', '--path.settings', t.dir, '-t'], { cwd: t.dir, encoding: 'utf8', timeout: 60_000 });
        return { code: r.status, stderr: r.stderr, stdout: r.stdout };
      };
      const ok = `- pipeline.id: first
  config.string: 'input { pipeline { address => "a" } } output { null {} }'
`;
      writeFileSync(join(t.dir, 'second.conf'), 'input { pipeline { address => "b" } }\noutput {\n  nosuch_output { }\n}\n');
      const r1 = await run(`${ok}- pipeline.id: second\n  path.config: second.conf\n`);
      assert.equal(r1.code, 1, r1.stderr);
      assert.match(r1.stderr, /pipeline second \(.*pipelines\.yml:3\)/, 'the pipeline id and its entry');
      assert.match(r1.stderr, /second\.conf:3/, 'the file, line of the error');
      assert.doesNotMatch(r1.stderr, /pipeline first/);
      writeFileSync(join(t.dir, 'second.conf'), 'input { pipeline { address => "a" } }\noutput { null {} }\n');
      const r2 = await run(`${ok}- pipeline.id: second\n  path.config: second.conf\n`);
      assert.equal(r2.code, 1, r2.stderr);
      assert.match(r2.stderr, /pipeline second.*\n?.*address "a", which pipeline first/);
      const r3 = await run(`${ok}- pipeline.id: third\n  api.http.port: 9700\n  config.string: 'input { stdin {} }'\n`);
      assert.equal(r3.code, 1, r3.stderr);
      assert.match(r3.stderr, /pipelines\.yml:4: 'api\.http\.port' is a setting of the process, not of one pipeline/);
      const r4 = await run(`${ok}- pipeline.id: first\n  config.string: 'input { stdin {} }'\n`);
      assert.equal(r4.code, 1);
      assert.match(r4.stderr, /pipeline\.id first is listed twice/);
      writeFileSync(join(t.dir, 'second.conf'), 'input { pipeline { address => "b" } }\noutput { null {} }\n');
      const r5 = await run(`${ok}- pipeline.id: second\n  path.config: second.conf\n`);
      assert.equal(r5.code, 0, r5.stderr);
      assert.equal(r5.stdout, 'Configuration OK\n');
    } finally {
      t.cleanup();
    }
  });
});
