import { compileTemplate, fieldRef, valueToString, type Event, type Fields, type Template } from '@pipeline/core';

/**
 * Builds Alerta's POST /alert body from an event. Each field is a sprintf template from the
 * config when set there; otherwise it comes from the event's `[alert]` object, which the SEC
 * engine's native `alert` action fills. Everything is compiled once at load; per event we render
 * and validate what Alerta would refuse (so a 400 or the 500 for a bad severity is never sent).
 */
export interface AlertFieldOptions {
  resource?: string;
  event?: string;
  environment?: string;
  severity?: string;
  status?: string;
  group?: string;
  value?: string;
  text?: string;
  origin?: string;
  type?: string;
  raw_data?: string;
  timeout?: string;
  correlate?: string[];
  service?: string[];
  tags?: string[];
  attributes?: Record<string, unknown>;
}

export interface AlertBuilderOptions extends AlertFieldOptions {
  /** Where the SEC action puts its fields, `[alert]` by default. */
  sourceField: string;
  severities: readonly string[];
  allowedEnvironments?: readonly string[];
  /** Send the event's @timestamp as createTime. */
  createTime: boolean;
}

export type BuiltAlert = { ok: true; body: Fields } | { ok: false; reason: string; body: Fields };

/** Alert body keys for the options that are plain strings (option name → JSON key). */
const SCALARS: readonly (readonly [keyof AlertFieldOptions, string])[] = [
  ['resource', 'resource'],
  ['event', 'event'],
  ['environment', 'environment'],
  ['severity', 'severity'],
  ['status', 'status'],
  ['group', 'group'],
  ['value', 'value'],
  ['text', 'text'],
  ['origin', 'origin'],
  ['type', 'type'],
  ['raw_data', 'rawData'],
];
const LISTS = ['correlate', 'service', 'tags'] as const;

type Getter = (ev: Event, source: Fields | undefined) => unknown;

function scalarFromSource(key: string, alt?: string): Getter {
  return (_ev, src) => {
    if (!src) return undefined;
    const v = src[key] ?? (alt ? src[alt] : undefined);
    return v === undefined || v === null ? undefined : valueToString(v);
  };
}

function listFromSource(key: string): Getter {
  return (_ev, src) => {
    const v = src?.[key];
    if (v === undefined || v === null) return undefined;
    return (Array.isArray(v) ? v : [v]).map(valueToString);
  };
}

function renderAll(templates: readonly Template[]): Getter {
  return (ev) => templates.map((t) => t.render(ev.fields));
}

export function isTemplateStatic(source: string): boolean {
  return !compileTemplate(source).dynamic;
}

export function compileAlertBuilder(o: AlertBuilderOptions): (ev: Event) => BuiltAlert {
  const source = fieldRef(o.sourceField);
  const getters: [string, Getter][] = [];
  for (const [opt, key] of SCALARS) {
    const configured = o[opt] as string | undefined;
    if (configured !== undefined) {
      const t = compileTemplate(configured);
      getters.push([key, (ev) => t.render(ev.fields)]);
    } else getters.push([key, scalarFromSource(opt === 'raw_data' ? 'raw_data' : opt, opt === 'raw_data' ? 'rawData' : undefined)]);
  }
  for (const key of LISTS) {
    const configured = o[key];
    getters.push([key, configured !== undefined ? renderAll(configured.map(compileTemplate)) : listFromSource(key)]);
  }
  const attrTemplates = Object.entries(o.attributes ?? {}).map(([k, v]) => [k, compileTemplate(valueToString(v))] as const);
  const timeoutTemplate = o.timeout !== undefined ? compileTemplate(o.timeout) : undefined;
  const severities = new Set(o.severities);
  const environments = o.allowedEnvironments && o.allowedEnvironments.length > 0 ? new Set(o.allowedEnvironments) : undefined;

  return (ev) => {
    const src = source.get(ev.fields);
    const from = typeof src === 'object' && src !== null && !Array.isArray(src) ? (src as Fields) : undefined;
    const body: Fields = {};
    for (const [key, get] of getters) {
      const v = get(ev, from);
      if (v !== undefined) body[key] = v;
    }
    // attributes: the event's, then the configured ones over them
    let attributes: Fields | undefined;
    const srcAttrs = from?.attributes;
    if (typeof srcAttrs === 'object' && srcAttrs !== null && !Array.isArray(srcAttrs)) attributes = { ...(srcAttrs as Fields) };
    if (attrTemplates.length > 0) {
      attributes ??= {};
      for (const [k, t] of attrTemplates) attributes[k] = t.render(ev.fields);
    }
    if (attributes) body.attributes = attributes;
    // timeout: an integer number of seconds
    const rawTimeout = timeoutTemplate ? timeoutTemplate.render(ev.fields) : from?.timeout;
    if (rawTimeout !== undefined && rawTimeout !== null && rawTimeout !== '') {
      const n = typeof rawTimeout === 'number' ? rawTimeout : Number(String(rawTimeout).trim());
      if (!Number.isInteger(n) || n < 0) return { ok: false, reason: `timeout must be an integer number of seconds, got '${valueToString(rawTimeout)}'`, body };
      body.timeout = n;
    }
    if (o.createTime) body.createTime = ev.timestamp.toISOString();

    if (typeof body.resource !== 'string' || body.resource === '') return { ok: false, reason: 'Missing mandatory value for "resource"', body };
    if (typeof body.event !== 'string' || body.event === '') return { ok: false, reason: 'Missing mandatory value for "event"', body };
    if (body.severity !== undefined && !severities.has(body.severity as string))
      return { ok: false, reason: `Severity (${String(body.severity)}) is not one of ${[...severities].join(', ')}`, body };
    if (environments && body.environment !== undefined && !environments.has(body.environment as string))
      return { ok: false, reason: `environment '${String(body.environment)}' is not one of allowed_environments (${[...environments].join(', ')})`, body };
    if (attributes) for (const k of Object.keys(attributes)) if (k.includes('.') || k.includes('$')) return { ok: false, reason: `attribute key '${k}' must not contain "." or "$"`, body };
    return { ok: true, body };
  };
}
