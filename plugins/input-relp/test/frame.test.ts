import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command, FrameParser } from '../src/frame.js';

interface Seen {
  frames: [number, Command, string, boolean, string | undefined][];
  errors: string[];
}

function parse(chunks: Buffer[], max = 64): Seen {
  const seen: Seen = { frames: [], errors: [] };
  const p = new FrameParser(max, {
    frame: (t, c, d, tr, n) => seen.frames.push([t, c, d.toString('latin1'), tr, n]),
    error: (r) => seen.errors.push(r),
  });
  for (const c of chunks) p.push(c);
  return seen;
}

const STREAM = Buffer.from('1 open 30 relp_version=0\ncommands=syslog\n2 syslog 11 <13>hello A\n3 close 0\n4 rsp 6 200 OK\n0 serverclose 0\n');

describe('RELP frame parser', () => {
  it('splits frames: commands recognised, empty data, data containing LF', () => {
    const s = parse([STREAM]);
    assert.deepEqual(s.errors, []);
    assert.deepEqual(s.frames, [
      [1, Command.Open, 'relp_version=0\ncommands=syslog', false, undefined],
      [2, Command.Syslog, '<13>hello A', false, undefined],
      [3, Command.Close, '', false, undefined],
      [4, Command.Other, '200 OK', false, 'rsp'],
      [0, Command.Other, '', false, 'serverclose'],
    ]);
  });

  it('gives the same frames however the stream is cut (every split point, and byte by byte)', () => {
    const whole = parse([STREAM]).frames;
    for (let i = 1; i < STREAM.length; i++) assert.deepEqual(parse([STREAM.subarray(0, i), STREAM.subarray(i)]).frames, whole, `split at ${i}`);
    assert.deepEqual(parse([...STREAM].map((b) => Buffer.from([b]))).frames, whole);
  });

  it('keeps max bytes of a longer frame (truncated) without buffering the rest, and goes on', () => {
    const big = Buffer.concat([Buffer.from('1 syslog 100000 '), Buffer.alloc(100_000, 0x61), Buffer.from('\n2 syslog 2 ok\n')]);
    for (const chunks of [[big], [big.subarray(0, 30), big.subarray(30, 50_000), big.subarray(50_000)]]) {
      const s = parse(chunks, 64);
      assert.deepEqual(s.errors, []);
      assert.equal(s.frames.length, 2);
      assert.equal(s.frames[0]![2], 'a'.repeat(64));
      assert.equal(s.frames[0]![3], true);
      assert.deepEqual(s.frames[1], [2, Command.Syslog, 'ok', false, undefined]);
    }
  });

  it('reports a framing error and reads nothing more: bad numbers, commands, lengths, a missing LF', () => {
    const cases: [string, RegExp][] = [
      ['x syslog 1 a\n', /start with its transaction number/],
      ['1234567890 syslog 1 a\n', /invalid transaction number/],
      ['1 sys1og 1 a\n', /invalid command/],
      [`1 ${'a'.repeat(33)} 1 a\n`, /invalid command/],
      ['1 syslog x\n', /invalid data length/],
      ['1 syslog 1234567890 a\n', /invalid data length/],
      ['1 syslog 0 \n', /without data must end with LF/],
      ['1 syslog 3 abcdef\n2 syslog 1 a\n', /no LF after 3 bytes/],
      ['\x16\x03\x01\x00', /start with its transaction number/],
    ];
    for (const [text, re] of cases) {
      const s = parse([Buffer.from(text)]);
      assert.equal(s.errors.length, 1, text);
      assert.match(s.errors[0]!, re, text);
      assert.equal(s.frames.length, 0, text);
    }
  });
});
