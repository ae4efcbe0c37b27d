/**
 * Every option and method, against the figures of Logstash's own spec
 * (logstash-filter-fingerprint spec/filters/fingerprint_spec.rb) and the published MurmurHash3 vectors.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, Event, Timestamp, type Fields } from '@pipeline/core';
import { createPlugin, optionsFromConfig, runFilter } from '@pipeline/core/testing';
import fingerprint, { byteOrder, canonical, murmur3_128, murmur3_32, rubyFloat, rubyToS } from '../src/index.js';

async function fp(config: string, fields: Fields, target = 'fingerprint'): Promise<unknown> {
  const f = await createPlugin(fingerprint, config);
  const [out] = runFilter(f, [fields]);
  return out!.get(target);
}

const sha1 = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex');
const IP = { clientip: '123.123.123.123' };

describe('fingerprint: MurmurHash3 against published vectors', () => {
  const h32 = (s: string, seed: number) => murmur3_32(Buffer.from(s, 'utf8'), undefined, seed);
  it('x86_32 (SMHasher verification values)', () => {
    assert.equal(h32('', 0), 0);
    assert.equal(h32('', 1), 0x514e28b7);
    assert.equal(h32('', 0xffffffff), 0x81f16f39);
    assert.equal(h32('\0\0\0\0', 0), 0x2362f9de);
    assert.equal(h32('aaaa', 0x9747b28c), 0x5a97808a);
    assert.equal(h32('Hello, world!', 0x9747b28c), 0x24884cba);
    assert.equal(h32('The quick brown fox jumps over the lazy dog', 0x9747b28c), 0x2fa826cd);
  });
  it('x64_128', () => {
    assert.equal(murmur3_128(Buffer.from('The quick brown fox jumps over the lazy dog')).toString('hex'), '6c1b07bc7bbc4be347939ac4a93c437a');
    assert.equal(murmur3_128(Buffer.alloc(0)).toString('hex'), '0'.repeat(32));
  });
  it('hashes a range of a larger buffer (the reused scratch buffer) as the bytes alone', () => {
    const big = Buffer.from('Hello, world!XXXXXXXX');
    assert.equal(murmur3_32(big, 13, 0x9747b28c), 0x24884cba);
    assert.equal(murmur3_128(big, 13, 7).toString('hex'), murmur3_128(Buffer.from('Hello, world!'), 13, 7).toString('hex'));
  });
});

describe('fingerprint: methods (Logstash spec figures)', () => {
  const src = 'source => ["clientip"]';
  it('SHA1 is the default method, hex', async () => {
    assert.equal(await fp(src, IP), '3a5076c520b4b463f43806896ea0b3978d09dcae');
    assert.equal(await fp(`${src} base64encode => true`, IP), 'OlB2xSC0tGP0OAaJbqCzl40J3K4=');
  });
  it('key makes it an HMAC, hex or base64', async () => {
    assert.equal(await fp(`${src} key => "longencryptionkey"`, IP), 'fdc60acc4773dc5ac569ffb78fcb93c9630797f4');
    assert.equal(await fp(`${src} key => "longencryptionkey" base64encode => true`, IP), '/cYKzEdz3FrFaf+3j8uTyWMHl/Q=');
  });
  it('SHA256, SHA384, SHA512, MD5, plain and HMAC', async () => {
    const k = 'key => "longencryptionkey"';
    assert.equal(await fp(`${src} method => SHA256`, IP), '4dabcab210766e35f03e77120e6986d6e6d4752b2a9ff22980b9253d026080d8');
    assert.equal(await fp(`${src} method => SHA256 ${k}`, IP), '345bec3eff242d53b568916c2610b3e393d885d6b96d643f38494fd74bf4a9ca');
    assert.equal(await fp(`${src} method => SHA256 ${k} base64encode => true`, IP), 'NFvsPv8kLVO1aJFsJhCz45PYhda5bWQ/OElP10v0qco=');
    assert.equal(await fp(`${src} method => SHA384`, IP), 'fd605b0a3af3e04ce0d7a0b0d9c48d67a12dab811f60072e6eae84e35d567793ffb68a1807536f11c90874065c2a4392');
    assert.equal(await fp(`${src} method => SHA384 ${k} base64encode => true`, IP), 'ItTA6MT7zcSIfSA4/KdlDw4uDiRX/0HAbrKpgN3tZ0lWHIFP4YKv+T4lONGFk5R6');
    assert.equal(await fp(`${src} method => SHA512`, IP), '5468e2dc64ea92b617782aae884b35af60041ac9e168a283615b6a462c54c13d42fa9542cce9b7d76a8124ac6616818905e3e5dd35d6e519f77c3b517558639a');
    assert.equal(
      await fp(`${src} method => SHA512 ${k}`, IP),
      '11c19b326936c08d6c50a3c847d883e5a1362e6a64dd55201a25f2c1ac1b673f7d8bf15b8f112a4978276d573275e3b14166e17246f670c2a539401c5bfdace8',
    );
    assert.equal(await fp(`${src} method => MD5`, IP), 'ccdd8d3d940a01b2fb3258c059924c0d');
    assert.equal(await fp(`${src} method => MD5 ${k}`, IP), '9336c879e305c9604a3843fc3e75948f');
    assert.equal(await fp(`${src} method => MD5 ${k} base64encode => true`, IP), 'kzbIeeMFyWBKOEP8PnWUjw==');
  });
  it('MURMUR3: an unsigned 32-bit integer; a string by its UTF-8 bytes, an integer by its 8 bytes', async () => {
    assert.equal(await fp(`${src} method => MURMUR3`, IP), 4013733395);
    assert.equal(await fp(`${src} method => MURMUR3`, { clientip: 123 }), 823512154);
    // base64encode does not apply to MURMUR3 (an integer)
    assert.equal(await fp(`${src} method => MURMUR3 base64encode => true`, IP), 4013733395);
    // a non-ASCII string: its UTF-8 bytes
    assert.equal(await fp('method => MURMUR3', { message: 'é' }), murmur3_32(Buffer.from('é', 'utf8')));
  });
  it('MURMUR3_128: seed 2, hex or base64; 32-bit integers by 4 bytes, larger by 8', async () => {
    assert.equal(await fp(`${src} method => MURMUR3_128`, IP), '41cbc4056eed401d091dfbeabf7ea9e0');
    assert.equal(await fp(`${src} method => MURMUR3_128 base64encode => true`, IP), 'QcvEBW7tQB0JHfvqv36p4A==');
    assert.equal(await fp(`${src} method => MURMUR3_128`, { clientip: 123 }), '286816c693ac410ed63e1430dcd6f6fe');
    assert.equal(await fp(`${src} method => MURMUR3_128 base64encode => true`, { clientip: 123 }), 'KGgWxpOsQQ7WPhQw3Nb2/g==');
    assert.equal(await fp(`${src} method => MURMUR3_128`, { clientip: 2148483647 }), 'fdc7699a82556c8c584131f0133ee989');
    assert.equal(await fp(`${src} method => MURMUR3_128 base64encode => true`, { clientip: 2148483647 }), '/cdpmoJVbIxYQTHwEz7piQ==');
  });
  it('timestamps are hashed as ISO text with milliseconds', async () => {
    const epoch = { '@timestamp': new Timestamp(0) };
    assert.equal(await fp('source => ["@timestamp"] key => "0123"', epoch), '1d5379ec92d86a67cfc642d55aa050ca312d3b9a');
    assert.equal(await fp('source => ["@timestamp"] method => MURMUR3', epoch), 743372282);
    assert.equal(await fp('source => ["@timestamp"] method => MURMUR3_128', epoch), '37785b62a8cae473acc315d39b66d86e');
    assert.equal(await fp('source => ["@timestamp"] method => MURMUR3', { '@timestamp': '2000-01-01T05:00:00.12Z' }), 4263087275);
  });
  it('IPV4_NETWORK masks the address to key bits', async () => {
    assert.equal(await fp(`${src} method => IPV4_NETWORK key => "24"`, IP), '123.123.123.0');
    assert.equal(await fp(`${src} method => IPV4_NETWORK key => "16"`, IP), '123.123.0.0');
    assert.equal(await fp(`${src} method => IPV4_NETWORK key => "0"`, IP), '0.0.0.0');
    assert.equal(await fp(`${src} method => IPV4_NETWORK key => "32"`, IP), '123.123.123.123');
    // not an IPv4 address: the target is left alone
    assert.equal(await fp(`${src} method => IPV4_NETWORK key => "24"`, { clientip: 'nope', fingerprint: 'kept' }), 'kept');
  });
  it('UUID: a random version 4 UUID per event', async () => {
    const f = await createPlugin(fingerprint, 'method => UUID');
    const [a, b] = runFilter(f, [{ message: 'x' }, { message: 'x' }]);
    const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    assert.match(a!.get('fingerprint') as string, re);
    assert.notEqual(a!.get('fingerprint'), b!.get('fingerprint'));
  });
  it('PUNCTUATION keeps punctuation and symbols', async () => {
    const line =
      "PHP Warning:  json_encode() [<a href='function.json-encode'>function.json-encode</a>]: Invalid UTF-8 sequence in argument in /var/www/htdocs/test.php on line 233";
    assert.equal(await fp('method => PUNCTUATION source => "field1"', { field1: line }), ":_()[<='.-'>.-</>]:-////.");
    // of several sources (sorted by name) the last one present wins
    assert.equal(await fp('method => PUNCTUATION source => ["b", "a"]', { a: 'a.b', b: 'a!b' }), '!');
  });
});

describe('fingerprint: sources, target, concatenation', () => {
  it('source defaults to message, target to fingerprint', async () => {
    assert.equal(await fp('', { message: 'hello' }), sha1('hello'));
  });
  it('target names another field; it is overwritten', async () => {
    assert.equal(await fp('target => "[@metadata][id]"', { message: 'hello' }, '[@metadata][id]'), sha1('hello'));
    assert.equal(await fp('', { message: 'hello', fingerprint: 'old' }), sha1('hello'));
  });
  it('ecs_compatibility v1/v8: the default target is [event][hash]', async () => {
    assert.equal(await fp('ecs_compatibility => v8', { message: 'hello' }, '[event][hash]'), sha1('hello'));
    assert.equal(await fp('ecs_compatibility => v1 target => "t"', { message: 'hello' }, 't'), sha1('hello'));
  });
  it('several sources without concatenation: the last one present wins', async () => {
    assert.equal(await fp('source => ["field1", "field2"]', { field1: 'test1', field2: 'test2' }), '109f4b3c50d7b0df729d299bc6f8e9ef9066971f');
    assert.equal(await fp('source => ["field1", "field2"]', { field1: 'test1' }), sha1('test1'));
  });
  it('a missing source sets nothing, and the filter still counts as matched (add_tag applies)', async () => {
    const f = await createPlugin(fingerprint, 'source => ["nope"]');
    const e = new Event({ message: 'x' });
    assert.equal(f.filter(e, () => {}), true);
    assert.equal(e.get('fingerprint'), undefined);
  });
  it('an array source gives an array of fingerprints', async () => {
    assert.deepEqual(await fp('source => ["clientip"]', { clientip: ['123.123.123.123', '223.223.223.223'] }), [
      '3a5076c520b4b463f43806896ea0b3978d09dcae',
      '47bbc4e06edebbace047fed35abeceec64968b81',
    ]);
  });
  it('concatenate_sources hashes |name|value|... with the names sorted', async () => {
    assert.equal(await fp('source => ["field2", "field1"] concatenate_sources => true', { field1: 'test1', field2: 'test2' }), 'e3b6b71eedc656f1d29408264e8a75535db985cb');
    assert.equal(await fp('source => ["a", "b"] concatenate_sources => true', { a: 1 }), sha1('|a|1|b||'));
  });
  it('hashes and arrays as key|value with keys sorted, at any depth (UTF-8)', async () => {
    const data = () => ({ field1: [{ inner_key: '🂡' }, { '1': '2' }], field2: '🂡' });
    assert.equal(await fp('source => ["field1", "field2"]', data()), '58fa9e0e60c9f0d24b51d84cddb26732a39eeb3d');
    assert.equal(await fp('source => ["field1", "field2"] concatenate_sources => true', data()), 'd2a1c14e0c9ef137d67114db23b3f2fdbcc90d08');
    assert.equal(sha1('|field1|inner_key|🂡|1|2|field2|🂡|'), 'd2a1c14e0c9ef137d67114db23b3f2fdbcc90d08');
  });
  it('concatenate_all_fields: every field but @metadata, sorted; insertion order does not matter', async () => {
    // an event owns the fields object it is made from: a fresh one each time
    const data = () => ({ '@timestamp': '2017-07-26T14:44:27.064Z', clientip: '123.123.123.123', message: 'This is a test message', log_level: 'INFO', offset: 123456789, type: 'test' });
    assert.equal(await fp('concatenate_all_fields => true', data()), 'cbf022518e97860403160ed8a41847c0db104e63');
    assert.equal(await fp('concatenate_all_fields => true', { ...data(), '@metadata': { secret: 1 } }), 'cbf022518e97860403160ed8a41847c0db104e63');
    const a = await fp('concatenate_all_fields => true', { a: { a0: 0, a1: 1 }, b: { b0: 0, b1: 1 }, '@timestamp': 0 });
    const b = await fp('concatenate_all_fields => true', { b: { b1: 1, b0: 0 }, a: { a1: 1, a0: 0 }, '@timestamp': 0 });
    assert.equal(a, b);
  });
  it('a field name from data is a plain key (__proto__, constructor)', async () => {
    const fields = JSON.parse('{"__proto__": {"x": 1}, "constructor": "c", "@timestamp": "2026-01-01T00:00:00Z"}') as Fields;
    assert.equal(await fp('concatenate_all_fields => true', fields), sha1('|@timestamp|2026-01-01T00:00:00.000Z|@version|1|__proto__|x|1|constructor|c|'));
  });
});

describe('fingerprint: Ruby text of values', () => {
  it('floats as Ruby writes them', () => {
    assert.deepEqual([0.1, 1.5, -2.25, 1e-4, 1e-5, 1.5e-7, 123456.789, 1e16, 1.25e20, 2 ** 60].map(rubyFloat), [
      '0.1',
      '1.5',
      '-2.25',
      '0.0001',
      '1.0e-05',
      '1.5e-07',
      '123456.789',
      '1.0e+16',
      '1.25e+20',
      '1.152921504606847e+18',
    ]);
  });
  it('nil, booleans, integers, timestamps; canonical hashes and arrays', () => {
    assert.deepEqual([null, true, false, 42, -7, new Timestamp(Date.UTC(2020, 1, 3, 4, 5, 6, 7))].map(rubyToS), ['', 'true', 'false', '42', '-7', '2020-02-03T04:05:06.007Z']);
    assert.equal(canonical({ b: [1, null, 'x'], a: { d: true, c: 1.5 } }), 'a|c|1.5|d|true|b|1||x');
  });
  it('keys sort by code point (UTF-8 byte order), not UTF-16 units', () => {
    assert.deepEqual(['\u{1F0A1}', '\uFF01', 'b', 'a'].sort(byteOrder), ['a', 'b', '\uFF01', '\u{1F0A1}']);
  });
});

describe('fingerprint: configuration errors', () => {
  it('IPV4_NETWORK without a key, or a key that is no prefix length', async () => {
    await assert.rejects(createPlugin(fingerprint, 'method => IPV4_NETWORK'), (e: Error) => e instanceof ConfigError && /prefix length/.test(e.message));
    await assert.rejects(createPlugin(fingerprint, 'method => IPV4_NETWORK key => "33"'), /prefix length from 0 to 32, got '33'/);
  });
  it('concatenation with UUID or PUNCTUATION', async () => {
    await assert.rejects(createPlugin(fingerprint, 'method => UUID concatenate_sources => true'), /concatenation has no meaning with method UUID/);
    await assert.rejects(createPlugin(fingerprint, 'method => PUNCTUATION concatenate_all_fields => true'), /concatenation has no meaning with method PUNCTUATION/);
  });
  it('an unknown method, a malformed field reference', () => {
    assert.throws(() => optionsFromConfig(fingerprint, 'method => SHA3'), /must be one of/);
    assert.throws(() => optionsFromConfig(fingerprint, 'source => ["[a][b"]'), ConfigError);
    assert.throws(() => optionsFromConfig(fingerprint, 'target => "[a][b"'), ConfigError);
  });
});
