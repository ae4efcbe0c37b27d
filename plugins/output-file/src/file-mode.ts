import { ConfigError } from '@pipeline/core';

/**
 * Reads `dir_mode` / `file_mode` as octal, the way people write them (`0750`). The config parser
 * hands `0750` over as the number 750, so the decimal digits are read as octal digits; a quoted
 * `"0750"` works too. Logstash reads the number as decimal (logstash-output-file issue #78), which
 * gives nonsense modes; this is the intended meaning. -1 means "leave it to the umask".
 */
export function parseMode(name: string, v: unknown): number {
  if (v === -1 || v === '-1' || v === undefined || v === null) return -1;
  const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  const digits = text.replace(/^0o/i, '');
  if (!/^[0-7]{1,4}$/.test(digits)) throw new ConfigError(`file: option '${name}' must be an octal mode such as 0750 (or -1), got ${JSON.stringify(v)}`);
  return parseInt(digits, 8);
}
