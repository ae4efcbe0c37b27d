/**
 * multiline through real pipeline runs (`core/bin/pipeline.js start -e ...` as a child process):
 * stdin, tcp (real sockets, two connections interleaving), the file input (a Java stack trace and a
 * Python traceback, one state per file, acknowledged offsets across a crash), auto_flush_interval
 * with a real wait, and `-t` on a bad pattern.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../../..'); // plugins/codec-multiline/dist/test -> repo
const BIN = join(REPO, 'core/bin/pipeline.js');
const wd = mkdtempSync(join(tmpdir(), 'multiline-pipeline-'));
after(() => rmSync(wd, { recursive: true, force: true }));

interface Out {
  message: string;
  tags?: string[];
  path?: string;
  port?: number;
  host?: string;
}

const OUTPUT = 'output { stdout { codec => json_lines } }';
let runs = 0;
const common = (data: string) => ['--api.enabled', 'false', '--path.data', data, '--log.level', 'warn', '-w', '1'];

function parse(stdout: string): Out[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Out);
}

/** A run to completion: stdin is `input`, the process ends at its end. */
function runOnce(config: string, input: string, extra: string[] = []) {
  const r = spawnSync(process.execPath, [BIN, 'start', ...common(join(wd, `data-${runs++}`)), ...extra, '-e', config], { cwd: wd, input, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr, events: parse(r.stdout) };
}

interface Running {
  child: ChildProcess;
  events(): Out[];
  stderr(): string;
  exited: Promise<number | null>;
}

/** A long-running pipeline (spawn helper as test/e2e/util.ts's startPipeline). */
function start(config: string, data = join(wd, `data-${runs++}`)): Running {
  const child = spawn(process.execPath, [BIN, 'start', ...common(data), '-e', config], { cwd: wd, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, events: () => parse(out), stderr: () => err, exited };
}

async function waitFor(cond: () => boolean, what: string, p?: Running, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}${p ? `\nstderr:\n${p.stderr()}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function connectTo(port: number, p: Running): Promise<Socket> {
  const t0 = Date.now();
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (Date.now() - t0 > 60_000) throw new Error(`cannot connect: ${String(e)}\n${p.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const write = (s: Socket, text: string) => new Promise<void>((r) => s.write(text, () => r()));
const close = (s: Socket) => new Promise<void>((r) => s.end(() => r()));

const JAVA = [
  '2026-01-05 10:00:00,001 ERROR [main] com.example.App - request failed',
  'java.lang.IllegalStateException: cannot store order 42',
  '\tat com.example.Store.save(Store.java:77)',
  '\tat com.example.App.handle(App.java:31)',
  'Caused by: java.io.IOException: No space left on device',
  '\tat java.io.FileOutputStream.writeBytes(Native Method)',
  '\t... 2 more',
];
const JAVA_NEXT = '2026-01-05 10:00:01,500 INFO  [main] com.example.App - retrying order 42';
const PYTHON = [
  '2026-01-05 10:00:00,250 ERROR worker: job 7 failed',
  'Traceback (most recent call last):',
  '  File "/srv/app/worker.py", line 12, in run',
  '    total = compute(job)',
  '  File "/srv/app/calc.py", line 4, in compute',
  '    return job.amount / job.count',
  'ZeroDivisionError: division by zero',
];
const PYTHON_NEXT = '2026-01-05 10:00:02,000 INFO worker: job 8 done';
/** A log record starts with a timestamp; every other line belongs to the record before it. */
const BY_TIMESTAMP = 'pattern => "^%{TIMESTAMP_ISO8601} " negate => true what => previous';

describe('multiline: through pipeline runs', () => {
  it('stdin: a Java stack trace (indented and "Caused by:" lines join the line before); the last one is emitted at end of input', () => {
    const trace = JAVA.slice(1);
    const second = ['Exception in thread "main" java.lang.NullPointerException', '\tat com.example.Main.main(Main.java:5)'];
    const r = runOnce(`input { stdin { codec => multiline { pattern => "^(\\s|Caused by:)" what => previous } } } ${OUTPUT}`, [...trace, ...second].join('\n') + '\n');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      r.events.map((e) => [e.message, e.tags]),
      [
        [trace.join('\n'), ['multiline']],
        [second.join('\n'), ['multiline']],
      ],
    );
  });

  it('stdin: a partial last line without its newline is part of the last event', () => {
    const r = runOnce(`input { stdin { codec => multiline { ${BY_TIMESTAMP} } } } ${OUTPUT}`, [...PYTHON, PYTHON_NEXT, '  no newline at the end'].join('\n'));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      r.events.map((e) => e.message),
      [PYTHON.join('\n'), `${PYTHON_NEXT}\n  no newline at the end`],
    );
  });

  it('tcp: two connections interleaving lines keep their own events; a closed connection and the stop flush what they hold', async () => {
    const port = await freePort();
    const p = start(`input { tcp { port => ${port} dns_reverse_lookup_enabled => false codec => multiline { pattern => "^\\s" what => previous } } } ${OUTPUT}`);
    try {
      const a = await connectTo(port, p);
      const b = await connectTo(port, p);
      const aPort = a.localPort!;
      const bPort = b.localPort!;
      await write(a, 'A1 head\n');
      await write(b, 'B1 head\n');
      await write(a, '  A2\n');
      await write(b, '  B2\n');
      await write(a, '  A3\nA4 next\n');
      await write(b, '  B3'); // a partial line: completed by the next write
      await write(b, ' end\r\n');
      await waitFor(() => p.events().length >= 1, "A's first event", p);
      await close(b);
      await waitFor(() => p.events().length >= 2, "B's event at its close", p);
      const c = await connectTo(port, p);
      const cPort = c.localPort!;
      await write(c, 'C1 head\n  C2\nC3 held\n  C4\n');
      await write(a, '  A5\nA6 held\n');
      // the events before the held lines show that those lines arrived; the stop must hand them over
      await waitFor(() => p.events().length >= 4, 'the events before the held lines', p);
      p.child.kill('SIGTERM');
      assert.equal(await p.exited, 0, p.stderr());
      const ev = p.events();
      const byPort = (port: number) => ev.filter((e) => e.port === port).map((e) => e.message);
      assert.deepEqual(byPort(aPort), ['A1 head\n  A2\n  A3', 'A4 next\n  A5', 'A6 held']);
      // CRLF is removed by the tcp input's framing, as for the line codec
      assert.deepEqual(byPort(bPort), ['B1 head\n  B2\n  B3 end']);
      assert.deepEqual(byPort(cPort), ['C1 head\n  C2', 'C3 held\n  C4']);
      assert.equal(ev.length, 6);
      assert.deepEqual(
        ev.map((e) => [e.host, e.tags]),
        ev.map((e) => ['127.0.0.1', e.message.includes('\n') ? ['multiline'] : undefined]),
      );
      a.destroy();
      c.destroy();
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('file: a Java log and a Python log, each file its own state while both grow; the last records are emitted at shutdown', async () => {
    const java = join(wd, 'app-java.log');
    const python = join(wd, 'app-python.log');
    writeFileSync(java, JAVA.slice(0, 3).join('\n') + '\n');
    writeFileSync(python, PYTHON.slice(0, 2).join('\n') + '\n');
    const p = start(`input { file { path => ["${java}", "${python}"] start_position => beginning stat_interval => 0.1 codec => multiline { ${BY_TIMESTAMP} } } } ${OUTPUT}`);
    try {
      // interleaved growth: each file's lines join only that file's record
      await new Promise((r) => setTimeout(r, 500));
      appendFileSync(python, PYTHON.slice(2, 5).join('\n') + '\n');
      appendFileSync(java, JAVA.slice(3).join('\n') + '\n' + JAVA_NEXT + '\n');
      await new Promise((r) => setTimeout(r, 300));
      appendFileSync(python, PYTHON.slice(5).join('\n') + '\n' + PYTHON_NEXT + '\n');
      await waitFor(() => p.events().length >= 2, 'the two complete records', p);
      p.child.kill('SIGTERM');
      assert.equal(await p.exited, 0, p.stderr());
      const ev = p.events();
      const of = (path: string) => ev.filter((e) => e.path === path).map((e) => e.message);
      assert.deepEqual(of(java), [JAVA.join('\n'), JAVA_NEXT]);
      assert.deepEqual(of(python), [PYTHON.join('\n'), PYTHON_NEXT]);
      assert.deepEqual(
        ev.map((e) => e.tags ?? []),
        ev.map((e) => (e.message.includes('\n') ? ['multiline'] : [])),
      );
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('file: lines the codec holds are not acknowledged: after a crash they are read again and the record is whole', async () => {
    const log = join(wd, 'crash.log');
    const data = join(wd, 'crash-data');
    const sincedb = join(wd, 'crash.sincedb');
    // 200 lines of one record, then a record whose lines the codec still holds at the crash
    const first = ['2026-01-05 11:00:00,000 ERROR big dump', ...Array.from({ length: 199 }, (_, i) => `  frame ${i}`)];
    const held = ['2026-01-05 11:00:01,000 ERROR second', '  held line'];
    writeFileSync(log, [...first, ...held].join('\n') + '\n');
    const config = `input { file { path => "${log}" start_position => beginning stat_interval => 0.1 sincedb_path => "${sincedb}" sincedb_write_interval => 0.1 codec => multiline { ${BY_TIMESTAMP} } } } ${OUTPUT}`;
    const offset = () => {
      try {
        return Number(readFileSync(sincedb, 'utf8').split('\t')[2]);
      } catch {
        return 0;
      }
    };
    const p1 = start(config, data);
    try {
      await waitFor(() => p1.events().length >= 1, 'the first record', p1);
      assert.equal(p1.events()[0]!.message, first.join('\n'));
      // the whole segments of the first record are delivered: the offset moves, but not past the held lines
      await waitFor(() => offset() > 0, 'a sincedb write', p1);
      p1.child.kill('SIGKILL');
      await p1.exited;
    } finally {
      p1.child.kill('SIGKILL');
    }
    assert.ok(offset() < statSync(log).size - Buffer.byteLength(held.join('\n') + '\n') + 1, `offset ${offset()} is before the held lines`);
    appendFileSync(log, '  after the crash\n2026-01-05 11:00:02,000 INFO third\n');
    const p2 = start(config, data);
    try {
      await waitFor(() => p2.events().some((e) => e.message.startsWith(held[0]!)), 'the second record', p2);
      const second = p2.events().find((e) => e.message.startsWith(held[0]!))!;
      assert.equal(second.message, [...held, '  after the crash'].join('\n'));
      p2.child.kill('SIGTERM');
      assert.equal(await p2.exited, 0, p2.stderr());
      // nothing of the first record is lost either: what was not acknowledged is read again (at least once)
      const again = p2.events().filter((e) => e.message.startsWith('  frame'));
      assert.ok(again.every((e) => first.join('\n').endsWith(e.message)));
      assert.equal(p2.events().at(-1)!.message, '2026-01-05 11:00:02,000 INFO third');
    } finally {
      p2.child.kill('SIGKILL');
    }
  });

  it('auto_flush_interval on stdin: the event being built appears without a following line', async () => {
    const p = start(`input { stdin { codec => multiline { pattern => "^(\\s|Caused by:)" what => previous auto_flush_interval => 0.3 } } } ${OUTPUT}`);
    try {
      p.child.stdin!.write(JAVA.slice(1).join('\n') + '\n');
      await waitFor(() => p.events().length >= 1, 'the auto-flushed event', p);
      assert.deepEqual(p.events(), [{ ...p.events()[0]!, message: JAVA.slice(1).join('\n'), tags: ['multiline'] }]);
      // the stream goes on: a new event starts with the next line
      p.child.stdin!.write('next one\n  continued\n');
      await waitFor(() => p.events().length >= 2, 'the second auto-flushed event', p);
      assert.equal(p.events()[1]!.message, 'next one\n  continued');
      p.child.stdin!.end();
      assert.equal(await p.exited, 0, p.stderr());
      assert.equal(p.events().length, 2);
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('auto_flush_interval on the file input: the last record appears while the file is quiet, and its offset is acknowledged', async () => {
    const log = join(wd, 'quiet.log');
    const sincedb = join(wd, 'quiet.sincedb');
    writeFileSync(log, [...PYTHON, PYTHON_NEXT].join('\n') + '\n');
    const p = start(`input { file { path => "${log}" start_position => beginning stat_interval => 0.1 sincedb_path => "${sincedb}" sincedb_write_interval => 0.1 codec => multiline { ${BY_TIMESTAMP} auto_flush_interval => 0.3 } } } ${OUTPUT}`);
    try {
      await waitFor(() => p.events().length >= 2, 'the auto-flushed last record', p);
      assert.deepEqual(
        p.events().map((e) => [e.message, e.path]),
        [
          [PYTHON.join('\n'), log],
          [PYTHON_NEXT, log],
        ],
      );
      const size = statSync(log).size;
      await waitFor(() => {
        try {
          return Number(readFileSync(sincedb, 'utf8').split('\t')[2]) === size;
        } catch {
          return false;
        }
      }, 'the sincedb at the end of the file', p);
      p.child.kill('SIGTERM');
      assert.equal(await p.exited, 0, p.stderr());
      assert.equal(p.events().length, 2);
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('-t: a pattern that is not a regex is an error at its place in the config, naming the option', () => {
    const conf = join(wd, 'bad.conf');
    writeFileSync(conf, 'input {\n  stdin {\n    codec => multiline { pattern => "^(%{TIMESTAMP_ISO8601}" what => previous }\n  }\n}\noutput { stdout {} }\n');
    const r = spawnSync(process.execPath, [BIN, 'start', '-f', conf, '-t', ...common(join(wd, 'data-t'))], { cwd: wd, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /bad\.conf:3:37: codec multiline: option 'pattern': .*unterminated group/);
    const good = spawnSync(process.execPath, [BIN, 'start', '-t', ...common(join(wd, 'data-t')), '-e', `input { stdin { codec => multiline { ${BY_TIMESTAMP} } } } ${OUTPUT}`], { cwd: wd, encoding: 'utf8', timeout: 120_000 });
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /Configuration OK/);
  });
});
