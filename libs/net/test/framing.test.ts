import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Framer } from '../src/framing.js';

function frames(max: number, chunks: (string | Buffer)[], end = true) {
  const out: { text: string; truncated: boolean }[] = [];
  const counts = { oversize: 0, framing: 0 };
  const f = new Framer(max, {
    frame: (bytes, truncated) => out.push({ text: bytes.toString('utf8'), truncated }),
    oversize: () => counts.oversize++,
    framingError: () => counts.framing++,
  });
  for (const c of chunks) f.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  if (end) f.end();
  return { texts: out.map((o) => o.text), out, counts, framing: f.framing };
}

/** Every way of cutting `s` into two or three pieces gives the same frames as one piece. */
function allSplits(s: string): string[][] {
  const res: string[][] = [[s]];
  for (let i = 1; i < s.length; i++) {
    res.push([s.slice(0, i), s.slice(i)]);
    for (let j = i + 1; j < s.length; j += 3) res.push([s.slice(0, i), s.slice(i, j), s.slice(j)]);
  }
  return res;
}

describe('Framer: newline framing', () => {
  it('splits LF and CRLF lines and keeps a partial last line as a frame at the end', () => {
    const r = frames(100, ['a\r\nbb\n', 'c', 'cc\r\n', 'last']);
    assert.deepEqual(r.texts, ['a', 'bb', 'ccc', 'last']);
    assert.equal(r.framing, 'lf');
  });

  it('gives the same frames however the stream is cut into chunks', () => {
    const stream = '<13>one\r\ntwo\n\nthree\nfour';
    for (const split of allSplits(stream)) assert.deepEqual(frames(100, split).texts, ['<13>one', 'two', '', 'three', 'four'], JSON.stringify(split));
  });

  it('truncates a line over the limit, discards its rest without buffering it, and goes on', () => {
    const big = 'x'.repeat(50);
    for (const split of allSplits(`ok\n${big}\nafter\n`)) {
      const r = frames(10, split);
      assert.deepEqual(r.texts, ['ok', 'x'.repeat(10), 'after'], JSON.stringify(split));
      assert.equal(r.out[1]!.truncated, true);
      assert.equal(r.counts.oversize, 1);
    }
  });

  it('a line starting with a number is not an octet count', () => {
    assert.deepEqual(frames(100, ['5 apples\n12 pears\n']).texts, ['5 apples', '12 pears']);
    assert.deepEqual(frames(100, ['12', '3', ' x\n']).texts, ['123 x']);
  });

  it('keeps NUL bytes and replaces invalid UTF-8, also when a character is split across chunks', () => {
    const euro = Buffer.from('€\n'); // 3-byte character
    const r = frames(100, [Buffer.from([0x61, 0x00, 0x62, 0x0a]), Buffer.from([0xff, 0xfe, 0x0a]), euro.subarray(0, 1), euro.subarray(1)]);
    assert.deepEqual(r.texts, ['a\u0000b', '\ufffd\ufffd', '€']);
  });
});

describe('Framer: RFC 6587 octet counting', () => {
  const msgs = ['<13>1 - h app - - - hello', '<14>Nov 27 22:28:09 h app: with\nnewline inside', '<15>x'];
  const stream = msgs.map((m) => `${Buffer.byteLength(m)} ${m}`).join('');

  it('is detected from "digits SP <" and reads frames with LFs inside', () => {
    for (const split of allSplits(stream)) {
      const r = frames(100, split);
      assert.deepEqual(r.texts, msgs, JSON.stringify(split));
      assert.equal(r.framing, 'octet');
    }
  });

  it('drops the line end a sender counted into the frame (rsyslog 5424 templates)', () => {
    assert.deepEqual(frames(100, ['6 <13>a\n7 <13>b\r\n']).texts, ['<13>a', '<13>b']);
  });

  it('skips LF separators some senders put between frames', () => {
    assert.deepEqual(frames(100, ['5 <13>a\n5 <13>b\r\n']).texts, ['<13>a', '<13>b']);
  });

  it('truncates a frame over the limit and stays in sync', () => {
    const long = '<13>' + 'y'.repeat(40);
    const r = frames(10, [`${long.length} ${long}5 <13>z`]);
    assert.deepEqual(r.texts, [long.slice(0, 10), '<13>z']);
    assert.equal(r.out[0]!.truncated, true);
    assert.equal(r.counts.oversize, 1);
  });

  it('a count that is too small: the rest is read as a line and counted as a framing error', () => {
    const r = frames(100, ['3 <13>abc\n6 <13>ok']);
    assert.deepEqual(r.texts, ['<13', '>abc', '<13>ok']);
    assert.equal(r.counts.framing, 1);
  });

  it('a count that is too large swallows what follows, and the partial frame is kept at the end', () => {
    const r = frames(100, ['50 <13>short6 <13>ok']);
    assert.deepEqual(r.texts, ['<13>short6 <13>ok']);
  });
});
