import { tallyLines as countLines } from './tally.js';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Helpers for the disk-full system tests: a real small file system (tmpfs, mounted here as root),
 * a filler that takes what space is left, and readers of what is on disk.
 */
export { mountTmpfs, type Tmpfs } from '@pipeline/core/testing';

/** How many times each `<prefix>N` line (optionally followed by a space and more) appears in a file. */
export const tallyLines = (file: string, prefix: string): Map<number, number> => countLines(file, prefix).counts;

/** Rows of an SQLite file read by another process (read-only; empty if it is not there yet). */
export function readRows<T>(path: string, sql: string): T[] {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    return db.prepare(sql).all() as T[];
  } catch {
    return [];
  } finally {
    db?.close();
  }
}

/** Sends `lines` over one TCP connection as fast as the peer takes them; `done` once all are written. */
export function sendLines(port: number, lines: number, line: (i: number) => string): { done: Promise<void>; finished(): boolean; close(): void } {
  const sock = connect(port, '127.0.0.1');
  let finished = false;
  const done = new Promise<void>((resolve, reject) => {
    sock.on('error', reject);
    sock.on('connect', () => {
      let i = 0;
      const pump = () => {
        while (i < lines) {
          let chunk = '';
          for (let k = 0; k < 200 && i < lines; k++, i++) chunk += line(i) + '\n';
          if (!sock.write(chunk)) return void sock.once('drain', pump);
        }
        sock.end(() => {
          finished = true;
          resolve();
        });
      };
      pump();
    });
  });
  return { done, finished: () => finished, close: () => sock.destroy() };
}
