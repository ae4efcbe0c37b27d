/**
 * Partition routing shared by the stream output and input: the stream a key's events go to.
 * FNV-1a (32 bit) of the rendered partition key is stable across processes, versions and
 * machines, so every shipper sends one host's events to the same stream.
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    // hash UTF-8 bytes, so the value matches FNV-1a implementations in other languages
    if (c < 0x80) h = Math.imul(h ^ c, 0x01000193);
    else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      const bytes =
        c < 0x800
          ? [0xc0 | (c >> 6), 0x80 | (c & 63)]
          : c < 0x10000
            ? [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)]
            : [0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)];
      for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
    }
  }
  return h >>> 0;
}

/** The partition (0..partitions-1) of a rendered partition key. */
export function partitionOf(renderedKey: string, partitions: number): number {
  return partitions <= 1 ? 0 : fnv1a32(renderedKey) % partitions;
}

/** The stream holding partition `p` of `key`: the key itself when there is one partition. */
export function streamName(key: string, partitions: number, p: number): string {
  return partitions <= 1 ? key : `${key}:${p}`;
}
