/** Helpers for the file input's crash tests: numbered input files, tallies of the output, the sincedb. */
import { tallyLines, type Tally } from './tally.js';
import { get } from 'node:http';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `n` lines `line-0` … `line-(n-1)`. */
export function writeNumberedLines(path: string, n: number): void {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`line-${i}\n`);
  writeFileSync(path, parts.join(''));
}

/** Appends `line-0` … `line-(total-1)`, `perTick` lines every `ms` ms, as a logging program would. */
export function appendNumberedLines(path: string, total: number, perTick: number, ms: number): { done: Promise<void>; stop(): void } {
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    timer = setInterval(() => {
      const parts: string[] = [];
      for (let i = 0; i < perTick && next < total; i++) parts.push(`line-${next++}\n`);
      appendFileSync(path, parts.join(''));
      if (next >= total) {
        clearInterval(timer);
        resolve();
      }
    }, ms);
  });
  return { done, stop: () => clearInterval(timer) };
}

export { duplicates, type Tally } from './tally.js';

/** Counts each `line-N` in the output file (a partial last line, cut by kill -9, is left out). */
export const tally = (file: string): Tally => tallyLines(file, 'line-');

export function missing(t: Tally, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!t.counts.has(i)) out.push(i);
  return out;
}

/** The offsets in the file input's sincedb under `dataDir` (empty when none was written yet). */
export function sincedbOffsets(dataDir: string): number[] {
  const dir = join(dataDir, 'plugins', 'inputs', 'file');
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.startsWith('.sincedb_') && !f.endsWith('.tmp'));
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of names) {
    const lines = readFileSync(join(dir, name), 'utf8').split('\n').slice(1);
    for (const l of lines) if (l) out.push(Number(l.split('\t')[2]));
  }
  return out;
}

/** GET on the monitoring API; rejects after `ms` without an answer. */
export function getJson(port: number, path: string, ms: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: ms }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as Record<string, unknown>);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ms} ms`)));
    req.on('error', reject);
  });
}
