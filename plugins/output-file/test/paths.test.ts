import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, ev, fileContext, fileOut, filesUnder, lines, metric, tempDir } from './helpers.js';

const dirs: string[] = [];
const fresh = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
after(() => dirs.forEach(cleanup));

describe('file output: template paths', () => {
  it('renders host/program, nested fields and event dates into the path, relative to the working directory', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "data/logs/%{host}-%{syslog_program}/%{[log][file][name]}-%{+yyyy.MM.dd}.log" flush_interval => 0', ctx);
    await out.receive([
      ev({ host: 'web1', syslog_program: 'sshd', log: { file: { name: 'auth' } }, message: 'a' }, '2026-03-04T05:06:07Z'),
      ev({ host: 'web1', syslog_program: 'sshd', log: { file: { name: 'auth' } }, message: 'b' }, '2026-03-05T00:00:01Z'),
      ev({ host: 'db', syslog_program: 'cron', log: { file: { name: 'x' } }, message: 'c' }, '2026-03-04T23:59:59Z'),
      ev({ host: 'web1', syslog_program: 'sshd', log: { file: { name: 'auth' } }, message: 'd' }, '2026-03-04T10:00:00Z'),
    ]);
    await out.close?.();
    assert.deepEqual(filesUnder(join(wd, 'data/logs')), ['db-cron/x-2026.03.04.log', 'web1-sshd/auth-2026.03.04.log', 'web1-sshd/auth-2026.03.05.log']);
    assert.deepEqual(lines(join(wd, 'data/logs/web1-sshd/auth-2026.03.04.log')), ['a', 'd']);
    assert.deepEqual(lines(join(wd, 'data/logs/web1-sshd/auth-2026.03.05.log')), ['b']);
    assert.equal(metric(ctx, 'events'), 4);
    assert.equal(metric(ctx, 'path_failures'), 0);
  });

  it('keeps a missing field as its %{...} text, as Logstash does, inside the root', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "logs/%{host}.log" flush_interval => 0', ctx);
    await out.receive([ev({ message: 'no host' })]);
    await out.close?.();
    assert.deepEqual(lines(join(wd, 'logs/%{host}.log')), ['no host']);
  });
});

describe('file output: path safety', () => {
  const cases: { name: string; host: string; program: string; expect: string | 'failure' }[] = [
    { name: 'climbing out with ../../etc/x in host', host: '../../etc/x', program: 'p', expect: 'failure' },
    { name: 'climbing out with ../.. in program', host: 'h', program: '/../../../../etc/passwd', expect: 'failure' },
    { name: '.. as host', host: '..', program: 'p', expect: 'failure' },
    { name: 'a NUL byte in program', host: 'h', program: 'sshd\0.bak', expect: 'failure' },
    { name: 'an absolute value in host', host: '/abs', program: 'p', expect: 'abs/p.log' },
    { name: 'a / inside a value makes a subdirectory', host: 'a/b', program: 'c', expect: 'a/b/c.log' },
    { name: 'a .. that stays inside the root', host: 'a/../b', program: 'c', expect: 'b/c.log' },
    { name: 'a newline in host', host: 'web\nFAKE LOG LINE', program: 'p', expect: 'web_FAKE LOG LINE/p.log' },
    { name: 'a terminal escape sequence and DEL in program', host: 'h', program: '\x1b[2J\x7fx\u009b', expect: 'h/_[2J_x_.log' },
    { name: 'a newline then ../ climbing out', host: '../\n', program: '../../p', expect: 'failure' },
    { name: 'a newline before ../.. that stays inside', host: '\n../../etc', program: 'p', expect: 'etc/p.log' },
  ];
  for (const c of cases) {
    it(`${c.name} lands ${c.expect === 'failure' ? 'in filename_failure' : `at ${c.expect}`}`, async () => {
      const wd = fresh();
      const root = join(wd, 'srv/logs');
      const ctx = fileContext(wd, { line: 'format => "%{message}"' });
      const out = await fileOut('path => "srv/logs/%{host}/%{syslog_program}.log" flush_interval => 0', ctx);
      await out.receive([ev({ host: c.host, syslog_program: c.program, message: 'evil' })]);
      await out.close?.();
      // nothing at all was written outside the root, and no file name holds a control character
      assert.deepEqual(filesUnder(wd).filter((f) => !f.startsWith('srv/logs/')), []);
      assert.deepEqual(filesUnder(wd).filter((f) => /[\x00-\x1f\x7f-\x9f]/.test(f)), []);
      if (c.expect === 'failure') {
        assert.deepEqual(filesUnder(root), ['_filepath_failures']);
        assert.deepEqual(lines(join(root, '_filepath_failures')), ['evil']);
        assert.equal(metric(ctx, 'path_failures'), 1);
      } else {
        assert.deepEqual(filesUnder(root), [c.expect]);
        assert.deepEqual(lines(join(root, c.expect)), ['evil']);
        assert.equal(metric(ctx, 'path_failures'), 0);
      }
    });
  }

  it('uses a custom filename_failure, counts every failed event, and keeps good ones in their files', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{host} %{message}"' });
    const out = await fileOut('path => "out/%{host}/x.log" filename_failure => "bad_paths" flush_interval => 0', ctx);
    await out.receive([
      ev({ host: 'ok', message: '1' }),
      ev({ host: '../..', message: '2' }),
      ev({ host: '..', message: '3' }),
      ev({ host: 'ok', message: '4' }),
    ]);
    await out.close?.();
    assert.deepEqual(filesUnder(join(wd, 'out')), ['bad_paths', 'ok/x.log']);
    assert.deepEqual(lines(join(wd, 'out/bad_paths')), ['../.. 2', '.. 3']);
    assert.deepEqual(lines(join(wd, 'out/ok/x.log')), ['ok 1', 'ok 4']);
    assert.equal(metric(ctx, 'path_failures'), 2);
  });

  it('a rendered path naming the root or a directory goes to the failure file', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "out/%{x}" flush_interval => 0', ctx);
    await out.receive([ev({ x: '', message: 'empty' }), ev({ x: '.', message: 'dot' }), ev({ x: 'sub/', message: 'dir' }), ev({ x: 'f', message: 'ok' })]);
    await out.close?.();
    assert.deepEqual(filesUnder(join(wd, 'out')), ['_filepath_failures', 'f']);
    assert.deepEqual(lines(join(wd, 'out/_filepath_failures')), ['empty', 'dot', 'dir']);
    assert.equal(metric(ctx, 'path_failures'), 3);
  });

  it('with no static directory (%{x}.log) confines paths to the working directory', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "%{x}.log" flush_interval => 0', ctx);
    await out.receive([ev({ x: 'fine', message: 'a' }), ev({ x: '../escape', message: 'b' }), ev({ x: '/etc/passwd', message: 'c' })]);
    await out.close?.();
    assert.deepEqual(filesUnder(wd), ['_filepath_failures', 'etc/passwd.log', 'fine.log']);
    assert.deepEqual(lines(join(wd, '_filepath_failures')), ['b']);
    assert.ok(!existsSync(join(wd, '..', 'escape.log')));
  });

  it('a static prefix part of the file name (app-%{x}.log) confines to its directory', async () => {
    const wd = fresh();
    mkdirSync(join(wd, 'logs'));
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "logs/app-%{x}.log" flush_interval => 0', ctx);
    await out.receive([ev({ x: '/../../../up', message: 'a' }), ev({ x: '/../sub', message: 'b' }), ev({ x: 'z', message: 'c' })]);
    await out.close?.();
    // `app-/../sub.log` normalises to logs/sub.log: inside the root, so allowed
    assert.deepEqual(filesUnder(wd), ['logs/_filepath_failures', 'logs/app-z.log', 'logs/sub.log']);
    assert.deepEqual(lines(join(wd, 'logs/_filepath_failures')), ['a']);
  });
});
