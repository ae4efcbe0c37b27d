/** io.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineIo, type IoHooks } from '../src/io.js';
import { toBytes } from '../src/bytes.js';

function setup(hooks: Partial<IoHooks> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sec-io-'));
  const stdout: string[] = [];
  const warnings: string[] = [];
  const io = new EngineIo({ workingDir: dir, stdout: (t) => void stdout.push(t), ...hooks }, (m) => void warnings.push(m));
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);
  return { dir, io, stdout, warnings, read, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `fn` on a fresh EngineIo in a fresh directory, removed afterwards. */
function withIo(fn: (s: ReturnType<typeof setup>) => void): void {
  const s = setup();
  try {
    fn(s);
  } finally {
    s.done();
  }
}

test('write keeps the file open and batches: the bytes reach the file at flush, in order, relative to the working directory', () =>
  withIo((s) => {
    s.io.write('out.txt', 'one\n', true);
    s.io.write('out.txt', 'two\n', true);
    assert.equal(s.io.hasPending, true);
    assert.equal(s.read('out.txt'), undefined, 'nothing written before the flush');
    s.io.flush();
    assert.equal(s.io.hasPending, false);
    assert.equal(s.read('out.txt'), 'one\ntwo\n');
    s.io.write(join(s.dir, 'abs.txt'), 'x', true);
    s.io.closeAll();
    assert.equal(s.read('abs.txt'), 'x');
  }));

test('64 KiB pending are written out at once', () =>
  withIo((s) => {
    const line = 'y'.repeat(1023) + '\n';
    for (let i = 0; i < 64; i++) s.io.write('big.txt', line, true);
    assert.equal(s.read('big.txt')!.length, 65536);
    assert.equal(s.io.hasPending, false);
    s.io.closeAll();
  }));

test('owritecl writes what is pending for the file first, then its own bytes, and closes the file', () =>
  withIo((s) => {
    s.io.write('f.txt', 'kept\n', true);
    s.io.write('f.txt', 'now\n', false);
    assert.equal(s.read('f.txt'), 'kept\nnow\n');
    s.io.closeAll();
  }));

test('closef flushes and closes; the next write opens the file again (appending)', () =>
  withIo((s) => {
    s.io.write('c.txt', 'a\n', true);
    s.io.close('c.txt');
    assert.equal(s.read('c.txt'), 'a\n');
    s.io.write('c.txt', 'b\n', true);
    s.io.closeAll();
    assert.equal(s.read('c.txt'), 'a\nb\n');
  }));

test('`-` is standard output, decoded from bytes to UTF-8', () =>
  withIo((s) => {
    s.io.write('-', toBytes('grüße\n'), true);
    assert.deepEqual(s.stdout, ['grüße\n']);
    assert.equal(s.io.hasPending, false);
  }));

test('a file that cannot be written is a warning, not an exception', () =>
  withIo((s) => {
    s.io.write('no/such/dir/x.txt', 'a', false);
    s.io.write('no/such/dir/y.txt', 'b', true);
    s.io.flush();
    assert.equal(s.warnings.length, 2);
    assert.match(s.warnings[0]!, /^Can't write to file 'no\/such\/dir\/x\.txt': ENOENT/);
  }));

test('addinput and dropinput go to the host (file names decoded); without an addInput hook addinput warns', () => {
  const added: string[][] = [];
  const dropped: string[] = [];
  const s = setup({ addInput: (f, o, c) => void added.push([f, o, c]), dropInput: (f) => void dropped.push(f) });
  s.io.addInput(toBytes('/var/log/ä.log'), '-', 'CTX');
  s.io.dropInput(toBytes('/var/log/ä.log'));
  assert.deepEqual(added, [['/var/log/ä.log', '-', 'CTX']]);
  assert.deepEqual(dropped, ['/var/log/ä.log']);
  const bare = setup();
  bare.io.addInput('/x.log', '+0', 'C');
  assert.deepEqual(bare.warnings, ['addinput /x.log: no input can be added here']);
  s.done();
  bare.done();
});
