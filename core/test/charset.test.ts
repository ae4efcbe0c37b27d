import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { charset, charsetError, opt } from '../src/index.js';

describe('charset: bytes to text by a codec charset name', () => {
  it('UTF-8 (any spelling) and its streaming reader keep a character split across chunks', () => {
    for (const name of ['UTF-8', 'utf8', 'CP65001']) assert.equal(charset(name).decode(Buffer.from('né', 'utf8')), 'né');
    const r = charset('UTF-8').reader();
    const b = Buffer.from('é', 'utf8');
    assert.equal(r.write(b.subarray(0, 1)) + r.write(b.subarray(1)) + r.end(), 'é');
  });

  it('ISO-8859-1 is Latin-1 itself (0x80 stays U+0080), Windows-1252 maps 0x80 to the euro sign', () => {
    assert.equal(charset('ISO-8859-1').decode(Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'café');
    assert.equal(charset('ISO-8859-1').decode(Buffer.from([0x80])), '\u0080');
    assert.equal(charset('Windows-1252').decode(Buffer.from([0x80])), '€');
  });

  it('ASCII names (Ruby ASCII-8BIT, US-ASCII): a byte above 0x7f becomes U+FFFD, as Logstash converts it', () => {
    assert.equal(charset('ASCII-8BIT').decode(Buffer.from([0x61, 0xe9, 0x62])), 'a\ufffdb');
    assert.equal(charset('US-ASCII').reader().write(Buffer.from([0xff])), '\ufffd');
  });

  it('multi-byte legacy encodings (Shift_JIS), whole and streamed', () => {
    const sjis = Buffer.from([0x93, 0xfa, 0x96, 0x7b]); // 日本
    assert.equal(charset('Shift_JIS').decode(sjis), '日本');
    const r = charset('Shift_JIS').reader();
    assert.equal(r.write(sjis.subarray(0, 1)) + r.write(sjis.subarray(1)) + r.end(), '日本');
  });

  it('decodes a slice of a buffer without copying it first', () => {
    const b = Buffer.from('xxcaféyy', 'latin1');
    assert.equal(charset('latin1').decode(b, 2, 6), 'café');
    assert.equal(charset('Windows-1252').decode(b, 2, 6), 'café');
  });

  it('an unknown name is a config error naming it; opt.charset checks it and defaults to UTF-8', () => {
    assert.throws(() => charset('KLINGON'), RangeError);
    assert.match(charsetError('KLINGON')!, /unknown charset 'KLINGON'/);
    assert.equal(charsetError('ISO-8859-1'), undefined);
    const spec = opt.charset();
    assert.equal(spec.default, 'UTF-8');
    assert.match(String(spec.validate!('KLINGON')), /unknown charset/);
  });
});
