/**
 * Bytes to text by a codec's `charset` option. Inputs hand codecs bytes; the codec decodes them
 * here, so every codec reads the same names the same way (Logstash's codecs take Ruby encoding
 * names: UTF-8, ISO-8859-1, ASCII-8BIT, Windows-1252, Shift_JIS, ...).
 */
import { StringDecoder } from 'node:string_decoder';
import { TextDecoder } from 'node:util';

/** A streaming decoder: `write` keeps a character split between two chunks for the next one. */
export interface TextReader {
  write(b: Buffer): string;
  end(): string;
}

export interface Charset {
  /** The name as configured. */
  readonly name: string;
  /** One whole message (nothing carried over): bytes `start`..`end` of `b`. */
  decode(b: Buffer, start?: number, end?: number): string;
  /** A fresh streaming reader, one per stream (connection, file). */
  reader(): TextReader;
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

/**
 * Windows-1252's 0x80–0x9F (five of them undefined, kept as the C1 control). Node 20's TextDecoder
 * reads windows-1252 as Latin-1, so these are mapped here.
 */
const CP1252_C1 = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const C1 = /[\x80-\x9f]/g;
const cp1252 = (text: string) => text.replace(C1, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]!);

function native(name: string, encoding: 'utf8' | 'latin1'): Charset {
  return {
    name,
    decode: (b, start = 0, end = b.length) => b.toString(encoding, start, end),
    reader: () => new StringDecoder(encoding),
  };
}

/** The charset named `name`; throws a RangeError for a name it does not know. */
export function charset(name: string): Charset {
  if (UTF8.test(name)) return native(name, 'utf8');
  if (LATIN1.test(name)) return native(name, 'latin1');
  if (ASCII.test(name))
    return {
      name,
      decode: (b, start = 0, end = b.length) => b.toString('latin1', start, end).replace(HIGH, '\ufffd'),
      reader: () => new AsciiReader(),
    };
  const whole = new TextDecoder(name); // throws RangeError for a label it does not know
  if (whole.encoding === 'windows-1252') {
    // single-byte: nothing to carry between chunks
    const decode = (b: Buffer, start = 0, end = b.length) => cp1252(b.toString('latin1', start, end));
    return { name, decode, reader: () => ({ write: (b) => decode(b), end: () => '' }) };
  }
  return {
    name,
    decode: (b, start = 0, end = b.length) => whole.decode(start === 0 && end === b.length ? b : b.subarray(start, end)),
    reader: () => new WhatwgReader(name),
  };
}

/** An option's check: undefined for a known charset name, else the message. */
export function charsetError(name: string): string | undefined {
  try {
    charset(name);
    return undefined;
  } catch {
    return `unknown charset '${name}' (UTF-8, ISO-8859-1, ASCII-8BIT, Windows-1252, Shift_JIS, ... as Ruby names them)`;
  }
}
