/** children.ts: real processes through /bin/sh. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Children } from '../src/children.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
}

function setup(allowShell: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'sec-children-'));
  const logs: string[] = [];
  const lines: [string, string][] = [];
  const c = new Children({ cwd: dir, allowShell, log: (l, m) => void logs.push(`${l}: ${m}`), line: (t, ctx) => void lines.push([t, ctx]) });
  return { dir, c, logs, lines, done: () => (c.killAll(), rmSync(dir, { recursive: true, force: true })) };
}

test('without allow_shell: a command line is refused with an error, an argument vector does nothing', () => {
  const s = setup(false);
  try {
    assert.equal(s.c.allowed, false);
    s.c.shell('touch made');
    s.c.exec(['/usr/bin/touch', 'made2']);
    assert.deepEqual(s.logs, ["error: refusing to run shell command 'touch made' without allow_shell"]);
  } finally {
    s.done();
  }
});

test('shell: the command runs in the working directory with the text on its standard input; its exit code is reported', async () => {
  const s = setup(true);
  try {
    let code: number | null | undefined;
    s.c.shell('cat > got.txt; exit 3', 'to stdin\n', undefined, (c) => (code = c));
    await until(() => code !== undefined);
    assert.equal(code, 3);
    assert.equal(readFileSync(join(s.dir, 'got.txt'), 'utf8'), 'to stdin\n');
  } finally {
    s.done();
  }
});

test('a context: each line the child writes comes back as an event in it (a last line without newline is dropped)', async () => {
  const s = setup(true);
  try {
    let exited = false;
    s.c.shell("printf 'one\\ntwo\\npartial'", undefined, 'CTX', () => (exited = true));
    await until(() => exited && s.lines.length >= 2);
    assert.deepEqual(s.lines, [['one', 'CTX'], ['two', 'CTX']]);
  } finally {
    s.done();
  }
});

test('exec: an argument vector, no shell in between', async () => {
  const s = setup(true);
  try {
    s.c.exec(['/bin/echo', '$HOME', 'a b'], undefined, 'OUT');
    await until(() => s.lines.length >= 1);
    assert.deepEqual(s.lines, [['$HOME a b', 'OUT']]);
  } finally {
    s.done();
  }
});

test('a command that cannot start is logged; killAll ends the running ones', async () => {
  const s = setup(true);
  try {
    s.c.exec(['/no/such/program']);
    await until(() => s.logs.length > 0);
    assert.match(s.logs[0]!, /^error: can't run '\/no\/such\/program': spawn \/no\/such\/program ENOENT/);
    let code: number | null | undefined;
    s.c.shell('sleep 30; touch late', undefined, undefined, (c) => (code = c));
    s.c.killAll();
    await until(() => code !== undefined);
    assert.equal(code, null, 'ended by a signal');
    assert.equal(existsSync(join(s.dir, 'late')), false);
  } finally {
    s.done();
  }
});
