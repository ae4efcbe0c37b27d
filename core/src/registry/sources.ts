import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where each installed package came from, so `pipeline plugin update` can reinstall it from
 * there: `<plugin home>/pipeline-sources.json`, package name -> the spec as installed (a tarball
 * or directory as an absolute path, or a registry name).
 */
export interface SourceRecord {
  spec: string;
  type: 'tarball' | 'directory' | 'registry';
  version: string;
  installedAt: string;
}
const SOURCES = 'pipeline-sources.json';

export function readSources(home: string): Map<string, SourceRecord> {
  try {
    return new Map(Object.entries(JSON.parse(readFileSync(join(home, SOURCES), 'utf8')) as Record<string, SourceRecord>));
  } catch {
    return new Map();
  }
}

export function writeSource(home: string, pkg: string, rec: SourceRecord | undefined): void {
  const all = readSources(home);
  if (rec) all.set(pkg, rec);
  else all.delete(pkg);
  const tmp = join(home, `${SOURCES}.tmp`);
  writeFileSync(tmp, JSON.stringify(Object.fromEntries([...all].sort(([a], [b]) => a.localeCompare(b))), null, 2) + '\n');
  renameSync(tmp, join(home, SOURCES));
}

