/**
 * `max_bytes` sizes as Logstash's `bytes` option type reads them.
 */
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
