/**
 * MurmurHash3 over bytes, as the murmurhash3 Ruby gem computes it (which Logstash's fingerprint
 * filter uses): x86_32 with a 32-bit result as an unsigned integer, and x64_128 whose digest is h1
 * then h2, each 8 bytes little-endian. Written here over a byte range so a caller can hash a
 * reused buffer without copying.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3 x86_32 of `bytes[0, len)` with `seed`: an unsigned 32-bit integer. */
export function murmur3_32(bytes: Uint8Array, len: number = bytes.length, seed = 0): number {
  let h = seed >>> 0;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = len & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= bytes[blocks + 2]! << 16;
    if (rest >= 2) k ^= bytes[blocks + 1]! << 8;
    k ^= bytes[blocks]!;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const M64 = (1n << 64n) - 1n;
const K1 = 0x87c37b91114253d5n;
const K2 = 0x4cf5ad432745937fn;

const rotl64 = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M64;

function fmix64(h: bigint): bigint {
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & M64;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & M64;
  return h ^ (h >> 33n);
}

function read64(b: Uint8Array, at: number, n = 8): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]!);
  return v;
}

/**
 * MurmurHash3 x64_128 of `bytes[0, len)` with `seed`: the 16-byte digest (h1 then h2, little-endian).
 * BigInt arithmetic: slower than the 32-bit hash, exact.
 */
export function murmur3_128(bytes: Uint8Array, len: number = bytes.length, seed = 0): Buffer {
  let h1 = BigInt(seed >>> 0);
  let h2 = h1;
  const blocks = len - (len % 16);
  for (let i = 0; i < blocks; i += 16) {
    let k1 = read64(bytes, i);
    let k2 = read64(bytes, i + 8);
    k1 = (k1 * K1) & M64;
    k1 = rotl64(k1, 31n);
    k1 = (k1 * K2) & M64;
    h1 ^= k1;
    h1 = rotl64(h1, 27n);
    h1 = (h1 + h2) & M64;
    h1 = (h1 * 5n + 0x52dce729n) & M64;
    k2 = (k2 * K2) & M64;
    k2 = rotl64(k2, 33n);
    k2 = (k2 * K1) & M64;
    h2 ^= k2;
    h2 = rotl64(h2, 31n);
    h2 = (h2 + h1) & M64;
    h2 = (h2 * 5n + 0x38495ab5n) & M64;
  }
  const tail = len - blocks;
  if (tail > 8) {
    let k2 = read64(bytes, blocks + 8, tail - 8);
    k2 = (k2 * K2) & M64;
    k2 = rotl64(k2, 33n);
    k2 = (k2 * K1) & M64;
    h2 ^= k2;
  }
  if (tail > 0) {
    let k1 = read64(bytes, blocks, Math.min(tail, 8));
    k1 = (k1 * K1) & M64;
    k1 = rotl64(k1, 31n);
    k1 = (k1 * K2) & M64;
    h1 ^= k1;
  }
  const n = BigInt(len);
  h1 ^= n;
  h2 ^= n;
  h1 = (h1 + h2) & M64;
  h2 = (h2 + h1) & M64;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 = (h1 + h2) & M64;
  h2 = (h2 + h1) & M64;
  const out = Buffer.allocUnsafe(16);
  out.writeBigUInt64LE(h1, 0);
  out.writeBigUInt64LE(h2, 8);
  return out;
}
