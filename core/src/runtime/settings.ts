import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import type { parse as ParseYaml } from 'yaml';

/**
 * Pipeline settings under Logstash's dotted names. Defaults here, then `config/pipeline.yml`
 * (nested or dotted keys, as logstash.yml accepts both), then the command line.
 */
export type Settings = Record<string, unknown>;

export const DEFAULT_SETTINGS: Settings = {
  'pipeline.id': 'main',
  'pipeline.workers': availableParallelism(),
  'pipeline.batch.size': 125,
  'pipeline.batch.delay': 50,
  'pipeline.ordered': 'auto',
  'queue.type': 'memory',
  'queue.max_events': 0,
  'queue.max_bytes': '1024mb',
  'queue.checkpoint.writes': 1024,
  'path.data': './data',
  'path.plugins': [],
  'path.config': undefined,
  'log.level': 'info',
  'log.format': 'plain',
  'config.support_escapes': false,
  'config.reload.automatic': false,
  'config.reload.interval': 3,
  'config.test_and_exit': false,
  'api.enabled': true,
  'api.http.host': '127.0.0.1',
  'api.http.port': 9600,
};

/** Flattens nested YAML maps into dotted keys. */
export function flatten(obj: Record<string, unknown>, prefix = '', out: Settings = {}): Settings {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out[key] = v;
  }
  return out;
}

/**
 * The YAML parser is loaded only for a settings file that sets something: the shipped
 * config/pipeline.yml is all comments, and loading `yaml` costs a tenth of the start-up.
 */
let parseYaml: typeof ParseYaml | undefined;
const SETS_SOMETHING = /^[ \t]*[^#\s]/m;

export function loadSettingsFile(path: string): Settings {
  if (!existsSync(path)) return {};
  const text = readFileSync(path, 'utf8');
  if (!SETS_SOMETHING.test(text)) return {};
  parseYaml ??= (createRequire(import.meta.url)('yaml') as { parse: typeof ParseYaml }).parse;
  const doc = parseYaml(text) as unknown;
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${path}: expected a map of settings`);
  return flatten(doc as Record<string, unknown>);
}

/** Merges layers left to right; undefined values in later layers do not override. */
export function mergeSettings(...layers: Settings[]): Settings {
  const out: Settings = {};
  for (const layer of layers) for (const [k, v] of Object.entries(layer)) if (v !== undefined) out[k] = v;
  return out;
}

export function num(settings: Settings, key: string): number {
  const v = settings[key];
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`setting ${key} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** Sizes such as `1024mb`, `4gb`, `512kb` in bytes. */
export function bytes(settings: Settings, key: string): number {
  const v = settings[key];
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?\s*$/i.exec(String(v));
  if (!m) throw new Error(`setting ${key} must be a size like 1024mb, got ${JSON.stringify(v)}`);
  const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(m[1]) * mult);
}
