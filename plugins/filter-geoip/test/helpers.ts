/** Paths and small helpers shared by the geoip tests. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@pipeline/core';

/** plugins/filter-geoip (tests run from dist/test). */
export const PKG = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO = join(PKG, '../..');
/** MaxMind's test databases, beside the repository (CI has them there too). */
export const FIXTURES = join(REPO, '..', 'shared', 'fixtures', 'geoip');
export const CITY = join(FIXTURES, 'GeoIP2-City-Test.mmdb');
export const LITE_CITY = join(FIXTURES, 'GeoLite2-City-Test.mmdb');
export const COUNTRY = join(FIXTURES, 'GeoIP2-Country-Test.mmdb');
export const ASN = join(FIXTURES, 'GeoLite2-ASN-Test.mmdb');

type Rec = Record<string, any>;

/** The source records the test databases were built from, by network. */
function records(file: string): Map<string, Rec> {
  const out = new Map<string, Rec>();
  for (const r of JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as Rec[]) for (const [net, rec] of Object.entries(r)) out.set(net, rec as Rec);
  return out;
}

const v4 = (s: string): number => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);

/**
 * The source record of the most specific IPv4 network holding `ip` (networks written `a.b.c.d/n`
 * or, in an IPv6 tree, `::a.b.c.d/(96+n)`): the expected answer, read independently of the reader.
 */
export function expected(file: 'GeoIP2-City-Test.json' | 'GeoLite2-ASN-Test.json', ip: string): Rec | undefined {
  let best: { len: number; rec: Rec } | undefined;
  const a = v4(ip);
  for (const [net, rec] of records(file)) {
    const m = /^(?:::)?(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(net);
    if (!m) continue;
    const len = Number(m[2]) - (net.startsWith('::') ? 96 : 0);
    const size = 2 ** (32 - len);
    const base = v4(m[1]!);
    if (a >= base - (base % size) && a < base - (base % size) + size && (!best || len > best.len)) best = { len, rec };
  }
  return best?.rec;
}

export interface Captured {
  level: string;
  obj: unknown;
  msg: string;
}

/** A logger that keeps what it is given, for assertions on warnings. */
export function captureLogger(into: Captured[]): Logger {
  const at =
    (level: string) =>
    (a: unknown, b?: unknown): void => {
      if (typeof a === 'string') into.push({ level, obj: undefined, msg: a });
      else into.push({ level, obj: a, msg: String(b ?? '') });
    };
  const l: Record<string, unknown> = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal'), level: 'trace' };
  l.child = () => l;
  l.isLevelEnabled = () => true;
  return l as unknown as Logger;
}

/** Waits for `cond` (file system work finishing in the thread pool); throws naming `what`. */
export async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
