import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { networkText, parseAddress } from '../src/ip.js';
import { Lru } from '../src/lru.js';

describe('geoip: the LRU cache', () => {
  it('evicts the least recently used entry, a get counting as a use', () => {
    const c = new Lru<number>(3);
    c.set('a', 1);
    c.set('b', 2);
    c.set('c', 3);
    assert.equal(c.get('a'), 1);
    c.set('d', 4); // evicts b
    assert.equal(c.get('b'), undefined);
    assert.deepEqual(c.keysByRecency(), ['d', 'a', 'c']);
    c.set('c', 30); // update moves it to the front
    assert.deepEqual(c.keysByRecency(), ['c', 'd', 'a']);
    assert.equal(c.size, 3);
    c.set('e', 5); // evicts a
    assert.deepEqual(c.keysByRecency(), ['e', 'c', 'd']);
    assert.equal(c.get('c'), 30);
  });

  it('capacity 1, and clear', () => {
    const c = new Lru<string>(1);
    c.set('x', 'X');
    c.set('y', 'Y');
    assert.equal(c.get('x'), undefined);
    assert.equal(c.get('y'), 'Y');
    c.clear();
    assert.equal(c.size, 0);
    assert.equal(c.get('y'), undefined);
    c.set('z', 'Z');
    assert.deepEqual(c.keysByRecency(), ['z']);
  });

  it('keys from data are plain keys', () => {
    const c = new Lru<number>(4);
    c.set('__proto__', 1);
    c.set('constructor', 2);
    assert.equal(c.get('__proto__'), 1);
    assert.equal(c.get('constructor'), 2);
    assert.equal(c.get('toString'), undefined);
  });

  it('many entries through a small cache stay consistent', () => {
    const c = new Lru<number>(7);
    for (let i = 0; i < 1000; i++) {
      c.set(String(i % 13), i);
      if (i % 3 === 0) c.get(String((i * 7) % 13));
      assert.ok(c.size <= 7);
      assert.equal(new Set(c.keysByRecency()).size, c.size);
    }
  });
});

describe('geoip: addresses', () => {
  it('IPv4 as it is; not-addresses refused (no DNS)', () => {
    assert.deepEqual(parseAddress('1.2.3.4')?.text, '1.2.3.4');
    for (const s of ['1.2.3', '01.2.3.4', ' 1.2.3.4', 'example.com', '', '1.2.3.4/24']) assert.equal(parseAddress(s), undefined, s);
  });

  it("IPv6 in Java's full form; IPv4-mapped becomes IPv4; embedded IPv4 and zones", () => {
    assert.equal(parseAddress('2001:DB8::1')!.text, '2001:db8:0:0:0:0:0:1');
    assert.equal(parseAddress('::')!.text, '0:0:0:0:0:0:0:0');
    assert.equal(parseAddress('::1')!.text, '0:0:0:0:0:0:0:1');
    assert.equal(parseAddress('fe80::1%eth0')!.text, 'fe80:0:0:0:0:0:0:1%eth0');
    assert.equal(parseAddress('fe80::1%eth0')!.lookup, 'fe80::1');
    const m = parseAddress('::ffff:81.2.69.142')!;
    assert.deepEqual([m.text, m.lookup], ['81.2.69.142', '81.2.69.142']);
    assert.equal(parseAddress('::ffff:5102:458e')!.text, '81.2.69.142');
    assert.equal(parseAddress('64:ff9b::192.0.2.33')!.text, '64:ff9b:0:0:0:0:c000:221');
  });

  it('network text for a prefix', () => {
    assert.equal(networkText(parseAddress('1.128.9.7')!.bytes, 11), '1.128.0.0/11');
    assert.equal(networkText(parseAddress('89.160.20.112')!.bytes, 17), '89.160.0.0/17');
    assert.equal(networkText(parseAddress('2001:218:ab::1')!.bytes, 32), '2001:218:0:0:0:0:0:0/32');
    assert.equal(networkText(parseAddress('10.1.2.3')!.bytes, 32), '10.1.2.3/32');
  });
});

describe('geoip: the address parser agrees with node:net', () => {
  it('on valid and invalid forms', async () => {
    const { isIP } = await import('node:net');
    const samples = [
      '1.2.3.4', '255.255.255.255', '256.1.1.1', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '0.0.0.0', '00.1.2.3', '1.2.3.04',
      '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1::2::3', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:',
      '12345::1', 'g::1', '::ffff:1.2.3.4', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::ffff:1.2.3', 'fe80::1%eth0', 'fe80::1%',
      '2001:db8:0:0:0:0:2:1', '2001:DB8::A', '::1:2:3:4:5:6:7', '1:2:3:4:5:6:7::', '1:2:3:4::5:6:7:8', ':', ':::', '', 'abc', '1.2.3.4 ',
    ];
    for (const s of samples) {
      const ours = parseAddress(s) !== undefined;
      assert.equal(ours, isIP(s) !== 0, s);
    }
  });

  it('bytes of a few forms', () => {
    assert.deepEqual([...parseAddress('1:2:3:4:5:6:7:8')!.bytes], [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
    assert.equal(parseAddress('1::8')!.text, '1:0:0:0:0:0:0:8');
    assert.equal(parseAddress('::2:3:4:5:6:7:8')!.text, '0:2:3:4:5:6:7:8');
    assert.equal(parseAddress('1:2:3:4:5:6:7::')!.text, '1:2:3:4:5:6:7:0');
    assert.equal(parseAddress('::1.2.3.4')!.text, '0:0:0:0:0:0:102:304');
  });
});
