import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { cleanup, ev, fileContext, fileOut, filesUnder, gauge, lines, metric, tempDir } from './helpers.js';

const dirs: string[] = [];
const fresh = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
after(() => dirs.forEach(cleanup));

describe('file output: codecs and formats', () => {
  it('writes json_lines by default (one JSON object per line, @timestamp as ISO text)', async () => {
    const wd = fresh();
    const ctx = fileContext(wd);
    const out = await fileOut('path => "a.jsonl" flush_interval => 0', ctx);
    await out.receive([ev({ message: 'hello', n: 1, nested: { k: 'v' } }, '2026-01-02T03:04:05.678Z'), ev({ message: 'two' })]);
    await out.close?.();
    const got = lines(join(wd, 'a.jsonl')).map((l) => JSON.parse(l));
    assert.deepEqual(got[0], { message: 'hello', n: 1, nested: { k: 'v' }, '@timestamp': '2026-01-02T03:04:05.678Z', '@version': '1' });
    assert.equal(got[1].message, 'two');
  });

  it('writes the line codec format when configured', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{[@timestamp]} %{host} %{message}"' });
    const out = await fileOut('path => "a.log" flush_interval => 0', ctx);
    await out.receive([ev({ host: 'h', message: 'm1' }, '2026-01-02T03:04:05.000Z'), ev({ host: 'h', message: 'm2' }, '2026-01-02T03:04:06.000Z')]);
    await out.close?.();
    assert.deepEqual(lines(join(wd, 'a.log')), ['2026-01-02T03:04:05.000Z h m1', '2026-01-02T03:04:06.000Z h m2']);
  });

  it('gzip output is readable by zlib.gunzipSync across flushes and reopens (one member per flush)', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "z/%{k}.log.gz" gzip => true flush_interval => 1', ctx);
    const want: string[] = [];
    for (let b = 0; b < 5; b++) {
      const batch = Array.from({ length: 50 }, (_, i) => ev({ k: 'one', message: `line ${b}-${i}` }));
      want.push(...batch.map((e) => e.fields.message as string));
      await out.receive(batch);
      ctx.clock.advance(1000); // a timer flush per batch: several gzip members
    }
    await out.close?.();
    // a second instance appends to the existing file: yet another member
    const out2 = await fileOut('path => "z/%{k}.log.gz" gzip => true', ctx);
    await out2.receive([ev({ k: 'one', message: 'after restart' })]);
    await out2.close?.();
    want.push('after restart');
    const text = gunzipSync(readFileSync(join(wd, 'z/one.log.gz'))).toString('utf8');
    assert.deepEqual(text.slice(0, -1).split('\n'), want);
  });

  it('write_behavior => overwrite keeps only the latest event of each flush', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "state/%{k}" write_behavior => overwrite flush_interval => 0', ctx);
    await out.receive([ev({ k: 'a', message: 'first' }), ev({ k: 'a', message: 'second' }), ev({ k: 'b', message: 'only' })]);
    assert.deepEqual(lines(join(wd, 'state/a')), ['second']);
    await out.receive([ev({ k: 'a', message: 'x' })]);
    await out.close?.();
    assert.deepEqual(lines(join(wd, 'state/a')), ['x']);
    assert.deepEqual(lines(join(wd, 'state/b')), ['only']);
  });
});

describe('file output: buffering and flushing', () => {
  it('buffers until flush_interval, then writes (virtual clock), and close flushes the rest', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "b.log"', ctx); // flush_interval 2 s by default
    await out.receive([ev({ message: '1' })]);
    assert.ok(!existsSync(join(wd, 'b.log')) || lines(join(wd, 'b.log')).length === 0);
    ctx.clock.advance(1999);
    assert.equal(metric(ctx, 'events'), 0);
    ctx.clock.advance(1);
    assert.deepEqual(lines(join(wd, 'b.log')), ['1']);
    await out.receive([ev({ message: '2' })]);
    await out.close?.();
    assert.deepEqual(lines(join(wd, 'b.log')), ['1', '2']);
    assert.equal(metric(ctx, 'events'), 2);
    assert.equal(ctx.clock.pending, 0, 'close cancels the timers');
  });

  it('writes a file early once its buffer is large, without waiting for the timer', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "big.log" flush_interval => 60', ctx);
    const long = 'x'.repeat(1000);
    await out.receive(Array.from({ length: 100 }, (_, i) => ev({ message: `${i} ${long}` })));
    assert.equal(lines(join(wd, 'big.log')).length, 100);
    await out.close?.();
  });
});

describe('file output: files and directories', () => {
  it('create_if_deleted => true recreates a deleted file; false sends its events to filename_failure', async () => {
    for (const create of [true, false]) {
      const wd = fresh();
      const ctx = fileContext(wd, { line: 'format => "%{message}"' });
      writeFileSync(join(wd, 'x.log'), 'pre\n');
      const out = await fileOut(`path => "logs/../%{f}.log" create_if_deleted => ${create} flush_interval => 0`, ctx);
      await out.receive([ev({ f: 'x', message: 'a' })]);
      assert.deepEqual(lines(join(wd, 'x.log')), ['pre', 'a']);
      rmSync(join(wd, 'x.log'));
      ctx.clock.advance(1000); // the path is checked at most once a second
      await out.receive([ev({ f: 'x', message: 'b' }), ev({ f: 'new', message: 'c' })]);
      await out.close?.();
      if (create) {
        assert.deepEqual(lines(join(wd, 'x.log')), ['b']);
        assert.deepEqual(lines(join(wd, 'new.log')), ['c']);
        assert.equal(metric(ctx, 'reopens'), 1);
      } else {
        assert.ok(!existsSync(join(wd, 'x.log')) && !existsSync(join(wd, 'new.log')));
        assert.deepEqual(lines(join(wd, '_filepath_failures')), ['b', 'c']);
        assert.equal(metric(ctx, 'path_failures'), 2);
      }
    }
  });

  it('a file renamed away keeps receiving lines until the next check, then is created anew (no race with logrotate create)', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "r/%{f}.log" flush_interval => 0', ctx);
    await out.receive([ev({ f: 'a', message: '1' })]);
    renameSync(join(wd, 'r/a.log'), join(wd, 'r/a.log.1'));
    ctx.clock.advance(1000);
    await out.receive([ev({ f: 'a', message: '2' })]); // path missing, file renamed: still the old file
    assert.ok(!existsSync(join(wd, 'r/a.log')));
    ctx.clock.advance(1000);
    await out.receive([ev({ f: 'a', message: '3' })]); // still missing a check later: created
    await out.close?.();
    assert.deepEqual(lines(join(wd, 'r/a.log.1')), ['1', '2']);
    assert.deepEqual(lines(join(wd, 'r/a.log')), ['3']);
    assert.equal(metric(ctx, 'reopens'), 1);
  });

  it('keeps at most max_open_files open, closing the least recently used, and loses nothing', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{n}"' });
    const out = await fileOut('path => "many/%{p}.log" max_open_files => 8', ctx);
    const perFile = new Map<string, string[]>();
    for (let b = 0; b < 20; b++) {
      const batch = Array.from({ length: 50 }, (_, i) => {
        const p = `p${(b * 7 + i * 13) % 40}`;
        const n = `${b}.${i}`;
        perFile.set(p, [...(perFile.get(p) ?? []), n]);
        return ev({ p, n });
      });
      await out.receive(batch);
      assert.ok(gauge(ctx, 'files_open') <= 8, `files_open ${gauge(ctx, 'files_open')}`);
    }
    // the most recently written file stayed open, so a further write needs no reopen
    await out.close?.();
    assert.equal(gauge(ctx, 'files_open'), 0);
    assert.equal(filesUnder(join(wd, 'many')).length, 40);
    for (const [p, ns] of perFile) assert.deepEqual(lines(join(wd, `many/${p}.log`)), ns);
    assert.equal(metric(ctx, 'events'), 1000);
  });

  it('closes files not written since the previous stale cleanup', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "s/%{f}" stale_cleanup_interval => 10 flush_interval => 0', ctx);
    await out.receive([ev({ f: 'a', message: '1' }), ev({ f: 'b', message: '1' })]);
    ctx.clock.advance(5000);
    await out.receive([ev({ f: 'a', message: '2' })]);
    ctx.clock.advance(5000); // cleanup at 10 s: both written since start, both stay
    assert.equal(gauge(ctx, 'files_open'), 2);
    await out.receive([ev({ f: 'a', message: '3' })]);
    ctx.clock.advance(10_000); // cleanup at 20 s: b untouched since 10 s goes
    assert.equal(gauge(ctx, 'files_open'), 1);
    ctx.clock.advance(10_000);
    assert.equal(gauge(ctx, 'files_open'), 0);
    await out.close?.();
    assert.deepEqual(lines(join(wd, 's/a')), ['1', '2', '3']);
  });

  it('applies dir_mode and file_mode as octal, regardless of the umask', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "m/%{d}/%{f}.log" dir_mode => 0705 file_mode => "0604" flush_interval => 0', ctx);
    await out.receive([ev({ d: 'x/y', f: 'z', message: '1' })]);
    await out.close?.();
    assert.equal(statSync(join(wd, 'm/x')).mode & 0o7777, 0o705);
    assert.equal(statSync(join(wd, 'm/x/y')).mode & 0o7777, 0o705);
    assert.equal(statSync(join(wd, 'm/x/y/z.log')).mode & 0o7777, 0o604);
  });

  it('refuses modes that are not octal', async () => {
    const ctx = fileContext(fresh());
    await assert.rejects(fileOut('path => "a" file_mode => 0689', ctx), /octal mode/);
  });
});

describe('file output: write errors', () => {
  it('on_write_failure => drop retries a failing write 3 times on the clock, then drops the lines and acknowledges the batch', async () => {
    const ctx = fileContext(fresh(), { line: 'format => "%{message}"' });
    const out = await fileOut('path => "/dev/full" flush_interval => 0 on_write_failure => drop', ctx);
    let settled: unknown = 'pending';
    const p = Promise.resolve(out.receive([ev({ message: 'x' }), ev({ message: 'y' })]));
    p.then(
      (r) => (settled = r ?? 'acknowledged'),
      (e: Error) => (settled = e),
    );
    for (let i = 0; i < 10 && settled === 'pending'; i++) {
      await new Promise((r) => setImmediate(r));
      ctx.clock.advance(1000);
    }
    assert.equal(settled, 'acknowledged');
    assert.equal(metric(ctx, 'write_errors'), 4);
    assert.equal(metric(ctx, 'events_dropped'), 2);
    assert.equal(metric(ctx, 'events'), 0);
    await out.close?.();
  });

  it('on_write_failure => drop: a timer flush that fails is retried, then its lines are dropped', async () => {
    const ctx = fileContext(fresh(), { line: 'format => "%{message}"' });
    const out = await fileOut('path => "/dev/full" flush_interval => 1 on_write_failure => drop', ctx);
    const r = await out.receive([ev({ message: 'x' })]);
    ctx.clock.advance(1000); // the flush fails: the retry loop takes over
    for (let i = 0; i < 5; i++) {
      await new Promise((res) => setImmediate(res));
      ctx.clock.advance(1000);
    }
    assert.equal(metric(ctx, 'write_errors'), 4);
    assert.equal(metric(ctx, 'events_dropped'), 1);
    await (r as { written: Promise<void> }).written; // dropped lines are acknowledged: the user chose loss
    await out.close?.();
  });
});
