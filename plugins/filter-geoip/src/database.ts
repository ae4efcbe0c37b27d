import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Reader } from 'maxmind';
import type { DatabaseKind } from './fields.js';
import { Lru } from './lru.js';

/**
 * An opened MaxMind DB: the reader and its kind. The reader keeps decoded records by their offset
 * in the file in an LRU of cache_size (what Logstash's cache_size sizes: its reader's CHMCache), so
 * addresses of one network or one city share a decoded record; the filter keeps its answers per
 * address in a second LRU of the same size.
 */
export interface Database {
  readonly reader: Reader<any>;
  readonly kind: DatabaseKind;
  /** metadata.databaseType, e.g. GeoLite2-City */
  readonly type: string;
  readonly buildEpoch: Date;
}

export class DatabaseError extends Error {}

/** Which of the supported kinds a database type names (Logstash matches by substring, as here). */
export function kindOf(type: string): DatabaseKind | undefined {
  if (type.includes('City')) return 'City';
  if (type.includes('Country')) return 'Country';
  if (type.includes('ASN')) return 'ASN';
  return undefined;
}

/** Opens a database from its bytes; throws a DatabaseError saying what is wrong with the file. */
export function openDatabase(buf: Buffer, path: string, cacheSize: number): Database {
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    throw new DatabaseError(`${path} is gzip-compressed (a .tar.gz or .gz download?): extract the .mmdb file from it and point database at that`);
  }
  let reader: Reader<any>;
  try {
    reader = new Reader<any>(buf, { cache: new Lru<unknown, number>(cacheSize) });
  } catch (e) {
    throw new DatabaseError(`${path} is not a MaxMind DB (.mmdb) file: ${(e as Error).message}`);
  }
  const type = String(reader.metadata.databaseType);
  const kind = kindOf(type);
  if (kind === undefined) {
    throw new DatabaseError(`${path} is a '${type}' database; supported: City, Country and ASN databases (GeoLite2-City, GeoIP2-City, GeoLite2-Country, GeoIP2-Country, GeoLite2-ASN)`);
  }
  // A file cut short or damaged past its metadata: walking the tree and decoding fails.
  try {
    for (const probe of ['1.1.1.1', '81.2.69.142', '8.8.8.8']) reader.get(probe);
    if (reader.metadata.ipVersion === 6) reader.get('2001:4860::1');
  } catch (e) {
    throw new DatabaseError(`${path} is damaged: ${(e as Error).message}`);
  }
  return { reader, kind, type, buildEpoch: reader.metadata.buildEpoch };
}

export function openDatabaseSync(path: string, cacheSize: number): Database {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new DatabaseError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return openDatabase(buf, path, cacheSize);
}

export async function openDatabaseAsync(path: string, cacheSize: number): Promise<Database> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new DatabaseError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return openDatabase(buf, path, cacheSize);
}

/** What identifies one version of the file: a replacement (rename or copy) changes one of these. */
export function signature(s: Stats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

export function signatureSync(path: string): string | undefined {
  try {
    return signature(statSync(path));
  } catch {
    return undefined;
  }
}

export async function signatureAsync(path: string): Promise<string | undefined> {
  try {
    return signature(await stat(path));
  } catch {
    return undefined;
  }
}
