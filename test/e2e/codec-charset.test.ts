import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completeCodec, type CodecImplementation, type CodecInstance, type Event } from '@pipeline/core';
import { createPlugin, makeContext } from '@pipeline/core/testing';
import json from '@pipeline/codec-json';
import jsonLines from '@pipeline/codec-json_lines';
import line from '@pipeline/codec-line';
import multiline from '@pipeline/codec-multiline';
import plain from '@pipeline/codec-plain';

/**
 * Issue 12: inputs hand codecs bytes, and every codec decodes them by its own `charset` (core's
 * `charset()`): whole messages, streams, and lines an input framed itself (`decodeLine` with bytes).
 * "café" in ISO-8859-1 is 63 61 66 e9; in Windows-1252 0x80 is the euro sign.
 */
const CAFE_LATIN1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
const EURO_1252 = Buffer.from([0x80, 0x31]);

async function codec(def: typeof plain | typeof line | typeof json | typeof jsonLines | typeof multiline, body: string): Promise<CodecInstance> {
  return completeCodec((await createPlugin(def as never, body, makeContext())) as unknown as CodecImplementation);
}

function run(fn: (emit: (e: Event) => void) => void): Event[] {
  const out: Event[] = [];
  fn((e) => out.push(e));
  return out;
}

describe('codec charset: bytes decoded by the codec', () => {
  it('plain: a message, a stream, Latin-1 and Windows-1252', async () => {
    const latin = await codec(plain, 'charset => "ISO-8859-1"');
    assert.deepEqual(run((emit) => latin.decodeMessage(CAFE_LATIN1, emit)).map((e) => e.get('message')), ['café']);
    assert.deepEqual(run((emit) => latin.decode(CAFE_LATIN1, emit)).map((e) => e.get('message')), ['café']);
    const cp = await codec(plain, 'charset => "Windows-1252"');
    assert.deepEqual(run((emit) => cp.decodeMessage(EURO_1252, emit)).map((e) => e.get('message')), ['€1']);
    const utf = await codec(plain, '');
    assert.deepEqual(run((emit) => utf.decodeMessage(Buffer.from('café'), emit)).map((e) => e.get('message')), ['café']);
  });

  it('line: decodeLine takes bytes an input framed, and a stream keeps a multi-byte character split across chunks', async () => {
    const latin = await codec(line, 'charset => "ISO-8859-1"');
    assert.deepEqual(run((emit) => latin.decodeLine!(CAFE_LATIN1, emit)).map((e) => e.get('message')), ['café']);
    const utf = await codec(line, '');
    const bytes = Buffer.from('né\n');
    const events = run((emit) => {
      utf.decode(bytes.subarray(0, 2), emit); // "n" and the first byte of "é"
      utf.decode(bytes.subarray(2), emit);
    });
    assert.deepEqual(events.map((e) => e.get('message')), ['né']);
  });

  it('json and json_lines honour charset (they read UTF-8 only before): Latin-1 in a JSON string', async () => {
    const doc = Buffer.concat([Buffer.from('{"word":"'), CAFE_LATIN1, Buffer.from('"}')]);
    const j = await codec(json, 'charset => "ISO-8859-1"');
    assert.deepEqual(run((emit) => j.decodeMessage(doc, emit)).map((e) => e.get('word')), ['café']);
    const jl = await codec(jsonLines, 'charset => "ISO-8859-1"');
    assert.deepEqual(run((emit) => jl.decodeLine!(doc, emit)).map((e) => e.get('word')), ['café']);
    assert.deepEqual(run((emit) => jl.decode(Buffer.concat([doc, Buffer.from('\n')]), emit)).map((e) => e.get('word')), ['café']);
  });

  it('multiline: lines handed as bytes are decoded by its charset before they are joined', async () => {
    const m = await codec(multiline, 'pattern => "^\\s" what => previous charset => "ISO-8859-1"');
    const events = run((emit) => {
      m.decodeLine!(CAFE_LATIN1, emit);
      m.decodeLine!(Buffer.from([0x20, 0xe9]), emit);
      m.flush(emit);
    });
    assert.deepEqual(events.map((e) => e.get('message')), ['café\n é']);
  });

  it('an unknown charset is refused when the config is read', async () => {
    await assert.rejects(() => codec(plain, 'charset => "KLINGON"'), /unknown charset 'KLINGON'/);
    await assert.rejects(() => codec(json, 'charset => "KLINGON"'), /unknown charset 'KLINGON'/);
  });
});
