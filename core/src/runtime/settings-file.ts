import { createRequire } from 'node:module';
import type * as YamlModule from 'yaml';
import { closeMatches } from '../config/errors.js';
import type { Settings } from './settings.js';

/**
 * A settings file as Logstash reads logstash.yml: nested or dotted keys, `${VAR}` and
 * `${VAR:default}` in values, and every key checked. A key Pipeline does not know is an error with
 * the file, the line and the closest known name; a Logstash setting that means nothing here is
 * accepted with a warning naming it; a value of the wrong type is an error. (Logstash refuses an
 * unknown setting at start too.)
 */
export class SettingsError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
    readonly hint?: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${reason}${hint ? `\n  ${hint}` : ''}`);
    this.name = 'SettingsError';
  }
}

type Kind = 'number' | 'boolean' | 'string' | 'strings' | 'size' | 'port' | { values: readonly string[] };

/** What each setting Pipeline reads takes. */
export const SETTING_KINDS: Readonly<Record<string, Kind>> = {
  'pipeline.id': 'string',
  'pipeline.workers': 'number',
  'pipeline.batch.size': 'number',
  'pipeline.batch.delay': 'number',
  // correlate and outputs always see input order here (threads run the filter section only), which
  // is what every value of Logstash's setting allows: accepted, nothing to switch
  'pipeline.ordered': { values: ['auto', 'true', 'false'] },
  'queue.type': { values: ['memory', 'persisted'] },
  'queue.max_events': 'number',
  'queue.max_bytes': 'size',
  'queue.checkpoint.writes': 'number',
  'path.data': 'string',
  'path.queue': 'string',
  'path.plugins': 'strings',
  'path.config': 'string',
  'path.logs': 'string',
  'config.string': 'string',
  'log.level': { values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] },
  'log.format': { values: ['plain', 'json'] },
  'config.support_escapes': 'boolean',
  'config.reload.automatic': 'boolean',
  'config.reload.interval': 'number',
  'config.test_and_exit': 'boolean',
  'api.enabled': 'boolean',
  'api.http.host': 'string',
  'api.http.port': 'port',
};

/**
 * Settings of Logstash's logstash.yml that have no meaning here (the JVM, X-Pack, the dead letter
 * queue's own files, modules, Elastic Cloud...): a logstash.yml copied as it is still starts.
 */
const LOGSTASH_ONLY = [
  'node.name',
  'pipeline.unsafe_shutdown',
  'pipeline.plugin_classloaders',
  'pipeline.ecs_compatibility',
  'pipeline.separate_logs',
  'config.debug',
  'config.field_reference.escape_style',
  'queue.page_capacity',
  'queue.checkpoint.acks',
  'queue.checkpoint.retry',
  'queue.checkpoint.interval',
  'queue.drain',
  'queue.compression',
  'dead_letter_queue.enable',
  'dead_letter_queue.max_bytes',
  'dead_letter_queue.storage_policy',
  'dead_letter_queue.retain.age',
  'dead_letter_queue.flush_interval',
  'path.dead_letter_queue',
  'api.environment',
  'api.ssl.enabled',
  'api.ssl.keystore.path',
  'api.ssl.keystore.password',
  'api.ssl.supported_protocols',
  'api.auth.type',
  'api.auth.basic.username',
  'api.auth.basic.password',
  'api.auth.basic.password_policy.mode',
  'log.format.json.fix_duplicate_message_fields',
  'allow_superuser',
  'modules',
  'cloud.id',
  'cloud.auth',
  'http.host',
  'http.port',
];
const LOGSTASH_ONLY_PREFIXES = ['xpack.', 'modules.', 'api.auth.', 'api.ssl.', 'dead_letter_queue.'];

function logstashOnly(key: string): boolean {
  return LOGSTASH_ONLY.includes(key) || LOGSTASH_ONLY_PREFIXES.some((p) => key.startsWith(p));
}

let yaml: typeof YamlModule | undefined;

/** `${VAR}` / `${VAR:default}` from the environment, as Logstash substitutes them in logstash.yml. */
function substitute(v: string, file: string, line: number | undefined, env: NodeJS.ProcessEnv): string {
  return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (_m, name: string, dflt: string | undefined) => {
    const value = env[name] ?? dflt;
    if (value === undefined) throw new SettingsError(file, line, `environment variable ${name} is not set`, `set it, or give a default: \${${name}:value}`);
    return value;
  });
}

function checkValue(key: string, v: unknown, kind: Kind, file: string, line: number | undefined): unknown {
  const bad = (what: string) => new SettingsError(file, line, `${key} must be ${what}, got ${JSON.stringify(v)}`);
  if (typeof kind === 'object') {
    if (!kind.values.includes(String(v))) throw new SettingsError(file, line, `${key} must be one of ${kind.values.join(', ')}, got ${JSON.stringify(v)}`, closeMatches(String(v), kind.values).length ? `did you mean '${closeMatches(String(v), kind.values)[0]}'?` : undefined);
    return String(v);
  }
  switch (kind) {
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n)) throw bad('a number');
      return n;
    }
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      throw bad('true or false');
    case 'size':
      if (typeof v === 'number' || /^\s*\d+(?:\.\d+)?\s*(b|kb|mb|gb|tb)?\s*$/i.test(String(v))) return v;
      throw bad('a size like 1024mb');
    case 'port':
      if ((typeof v === 'number' && Number.isInteger(v)) || /^\d+(-\d+)?$/.test(String(v))) return v;
      throw bad('a port or a range like 9600-9700');
    case 'strings':
      if (Array.isArray(v)) return v.map(String);
      if (typeof v === 'string') return [v];
      throw bad('a path or a list of paths');
    case 'string':
      if (typeof v === 'object' && v !== null) throw bad('a text');
      return String(v);
  }
}

export interface SettingsFile {
  settings: Settings;
  /** Logstash-only keys it set, accepted and ignored (the caller logs one warning). */
  ignored: string[];
}

/** Reads and checks one settings file (logstash.yml or pipeline.yml). Throws SettingsError. */
export function readSettingsFile(file: string, text: string, env: NodeJS.ProcessEnv = process.env): SettingsFile {
  const { doc, lc } = parseYaml(file, text);
  const out: SettingsFile = { settings: {}, ignored: [] };
  const root = doc.contents;
  if (root === null || root === undefined) return out;
  if (!yaml!.isMap(root)) throw new SettingsError(file, 1, 'expected a map of settings (key: value lines)');
  checkMap(root, file, lc, env, out);
  return out;
}

function parseYaml(file: string, text: string): { doc: YamlModule.Document; lc: YamlModule.LineCounter } {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof YamlModule;
  const lc = new yaml.LineCounter();
  const doc = yaml.parseDocument(text, { lineCounter: lc });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new SettingsError(file, e.linePos?.[0]?.line, `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  return { doc, lc };
}

/** Checks a map of settings into `out`; `only`, when given, is the keys allowed here (a pipelines.yml entry's). */
function checkMap(root: YamlModule.YAMLMap, file: string, lc: YamlModule.LineCounter, env: NodeJS.ProcessEnv, out: SettingsFile, only?: ReadonlySet<string>): void {
  const walk = (map: YamlModule.YAMLMap, prefix: string) => {
    for (const pair of map.items) {
      const keyNode = pair.key as YamlModule.Scalar | null;
      const name = String(yaml!.isScalar(keyNode) ? keyNode.value : keyNode);
      const key = prefix ? `${prefix}.${name}` : name;
      const line = keyNode && yaml!.isNode(keyNode) && keyNode.range ? lc.linePos(keyNode.range[0]).line : undefined;
      const valueNode = pair.value;
      if (yaml!.isMap(valueNode) && !(key in SETTING_KINDS)) {
        walk(valueNode, key);
        continue;
      }
      const kind = SETTING_KINDS[key];
      if (kind === undefined) {
        if (logstashOnly(key)) {
          out.ignored.push(key);
          continue;
        }
        const close = closeMatches(key, only ? [...only] : Object.keys(SETTING_KINDS));
        throw new SettingsError(file, line, `unknown setting '${key}'`, close.length ? `did you mean '${close[0]}'?` : `settings Pipeline reads: ${Object.keys(SETTING_KINDS).join(', ')}`);
      }
      if (only && !only.has(key)) throw new SettingsError(file, line, `'${key}' is a setting of the process, not of one pipeline`, 'set it in logstash.yml (or pipeline.yml) or on the command line');
      let value: unknown = yaml!.isNode(valueNode) ? (valueNode as YamlModule.Node).toJSON() : valueNode;
      if (value === null || value === undefined) continue;
      if (typeof value === 'string') value = substitute(value, file, line, env);
      else if (Array.isArray(value)) value = value.map((x) => (typeof x === 'string' ? substitute(x, file, line, env) : x));
      out.settings[key] = checkValue(key, value, kind, file, line);
    }
  };
  walk(root, '');
}

/** Settings one entry of pipelines.yml may set (Logstash's per-pipeline settings that mean something here). */
export const PIPELINE_SETTINGS: ReadonlySet<string> = new Set([
  'pipeline.id',
  'pipeline.workers',
  'pipeline.batch.size',
  'pipeline.batch.delay',
  'pipeline.ordered',
  'queue.type',
  'queue.max_events',
  'queue.max_bytes',
  'queue.checkpoint.writes',
  'path.queue',
  'path.config',
  'config.string',
  'config.support_escapes',
  'config.reload.automatic',
  'config.reload.interval',
]);

export interface PipelineEntry {
  id: string;
  settings: Settings;
  /** `file:line` of the entry, for messages. */
  where: string;
  /** Logstash-only keys it set, accepted and ignored. */
  ignored: string[];
}

/**
 * pipelines.yml, as Logstash reads it: a list of maps, each one pipeline's settings (what it does
 * not set comes from logstash.yml and the command line). Every entry needs a `pipeline.id`, unique,
 * and `path.config` or `config.string`; a key that is not a pipeline's setting is an error naming
 * the file and line. Throws SettingsError.
 */
export function readPipelinesFile(file: string, text: string, env: NodeJS.ProcessEnv = process.env): PipelineEntry[] {
  const { doc, lc } = parseYaml(file, text);
  const root = doc.contents;
  if (root === null || root === undefined) return [];
  if (!yaml!.isSeq(root)) throw new SettingsError(file, 1, 'expected a list of pipelines (- pipeline.id: ...)');
  const out: PipelineEntry[] = [];
  const seen = new Map<string, string>();
  for (const item of root.items) {
    const line = yaml!.isNode(item) && item.range ? lc.linePos(item.range[0]).line : undefined;
    const where = `${file}${line ? `:${line}` : ''}`;
    if (!yaml!.isMap(item)) throw new SettingsError(file, line, 'each pipeline is a map of settings (- pipeline.id: NAME, then path.config or config.string)');
    const one: SettingsFile = { settings: {}, ignored: [] };
    checkMap(item, file, lc, env, one, PIPELINE_SETTINGS);
    const id = one.settings['pipeline.id'] as string | undefined;
    if (id === undefined || id === '') throw new SettingsError(file, line, 'this pipeline has no pipeline.id');
    if (seen.has(id)) throw new SettingsError(file, line, `pipeline.id ${id} is listed twice (first at ${seen.get(id)})`, 'every pipeline needs its own id');
    seen.set(id, where);
    if (one.settings['path.config'] === undefined && one.settings['config.string'] === undefined)
      throw new SettingsError(file, line, `pipeline ${id} has neither path.config nor config.string`, 'name its config file (path.config: /etc/pipeline/conf.d/x.conf) or give it inline (config.string: ...)');
    out.push({ id, settings: one.settings, where, ignored: one.ignored });
  }
  return out;
}
