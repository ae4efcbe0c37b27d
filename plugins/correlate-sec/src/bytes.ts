/**
 * SEC reads and writes bytes, and Perl matches them byte by byte. The engine keeps every string
 * as a "byte string": one JS char per byte (latin1 view of the UTF-8 bytes). Lines enter through
 * `toBytes` and leave (files, emitted events) through `fromBytes`, so regexes, lengths and substr
 * behave exactly as in SEC, and pure-ASCII text (the common case) costs one test and no copy.
 */
const NON_ASCII = /[^\x00-\x7f]/;

export function toBytes(s: string): string {
  // byteLength is native and fast; equal lengths mean pure ASCII
  return Buffer.byteLength(s, 'utf8') === s.length ? s : Buffer.from(s, 'utf8').toString('latin1');
}

export function fromBytes(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}

export function bytesBuffer(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** Perl's split(/\n/, s): drops trailing empty fields; "" gives no lines. */
export function perlSplitLines(s: string): string[] {
  const parts = s.split('\n');
  while (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
