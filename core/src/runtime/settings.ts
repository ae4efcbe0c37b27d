import { availableParallelism } from 'node:os';

/**
 * Pipeline settings under Logstash's dotted names. Defaults here, then a settings file (read and
 * checked by settings-file.ts: nested or dotted keys, as logstash.yml accepts both), then the
 * command line (cli/main.ts settingsFrom).
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

/**
 * A settings file is parsed (settings-file.ts, which loads `yaml`) only when it sets something:
 * the shipped config/pipeline.yml is all comments, and loading `yaml` costs a tenth of the start-up.
 */
export const SETS_SOMETHING = /^[ \t]*[^#\s]/m;

/** Where settingsFrom leaves the Logstash-only keys a settings file set (startCommand warns once). */
export const IGNORED_SETTINGS = '_ignored_settings';

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
