import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

let driver: typeof BetterSqlite3 | undefined;

/**
 * Opens a SQLite database. better-sqlite3 is a native addon that takes time and memory to load,
 * so it is required by the first spool or persisted queue that opens, and a pipeline with neither
 * (the default one) never loads it.
 */
export function openDatabase(path: string): BetterSqlite3.Database {
  driver ??= createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  return new driver(path);
}
