/**
 * Bytes to text by `charset`, and `max_bytes` sizes as Logstash's `bytes` option type reads them.
 */
import { StringDecoder } from 'node:string_decoder';
import { TextDecoder } from 'node:util';

/** A streaming decoder: `write` keeps a character split between two chunks for the next one. */
export interface TextReader {
  write(b: Buffer): string;
  end(): string;
}

/** Ruby's ASCII names: a byte above 0x7f is not a character, it becomes U+FFFD (Logstash's charset converter). */
const ASCII = /^(ASCII-8BIT|BINARY|US-ASCII|ASCII|ANSI_X3\.4-1968|646)$/i;
/** ISO-8859-1 is Latin-1 itself here; WHATWG's decoder would read it as Windows-1252. */
const LATIN1 = /^(ISO-?8859-1|latin1)$/i;
const UTF8 = /^(UTF-?8|CP65001)$/i;
const HIGH = /[\x80-\xff]/g;

class AsciiReader implements TextReader {
  write(b: Buffer): string {
    return b.toString('latin1').replace(HIGH, '\ufffd');
  }
  end(): string {
    return '';
  }
}

class WhatwgReader implements TextReader {
  private readonly d: TextDecoder;
  constructor(label: string) {
    this.d = new TextDecoder(label);
  }
  write(b: Buffer): string {
    return this.d.decode(b, { stream: true });
  }
  end(): string {
    return this.d.decode();
  }
}

/** Makes a fresh reader per stream for `charset`, or throws when the name is unknown. */
export function readerFactory(charset: string): () => TextReader {
  if (UTF8.test(charset)) return () => new StringDecoder('utf8');
  if (LATIN1.test(charset)) return () => new StringDecoder('latin1');
  if (ASCII.test(charset)) return () => new AsciiReader();
  new TextDecoder(charset); // throws RangeError for a label it does not know
  return () => new WhatwgReader(charset);
}

export function charsetError(charset: string): string | undefined {
  try {
    readerFactory(charset);
    return undefined;
  } catch {
    return `unknown charset '${charset}'`;
  }
}

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgtpezy])(i?))?b?\s*$/i;
const POWERS = 'kmgtpezy';

/**
 * A size in bytes: a whole number, or a number with an SI (`kb`, `MB`: powers of 1000) or binary
 * (`KiB`, `mib`: powers of 1024) unit, case-insensitive, a space allowed before it ("10 MiB").
 * NaN when the text is none of these.
 */
export function parseBytes(text: string): number {
  const m = SIZE.exec(text);
  if (m === null) return NaN;
  const n = Number(m[1]);
  if (m[2] === undefined) return Math.floor(n);
  const power = POWERS.indexOf(m[2].toLowerCase()) + 1;
  return Math.floor(n * (m[3] ? 1024 : 1000) ** power);
}
