import { hostname } from 'node:os';
import { compileTemplate, fieldRef, type Event, type Template } from '@pipeline/core';

/**
 * Builds the body of Alerta's `POST /heartbeat` from an event: what the options set wins, the rest
 * comes from the `[heartbeat]` object the SEC engine's native `heartbeat` action emits. The shape is
 * the one `alerta heartbeat -E ENV --severity SEV --timeout N --tag T` sends (and the fixtures
 * recorded): `{origin, tags, attributes: {environment, severity, service, group}, timeout}`.
 */
export interface HeartbeatBody {
  origin: string;
  tags: string[];
  attributes: Record<string, unknown>;
  timeout?: number;
  customer?: string;
  createTime?: string;
}

export interface HeartbeatBuilderOptions {
  origin?: string;
  timeout?: string;
  tags?: string[];
  attributes?: Record<string, unknown>;
  environment?: string;
  severity?: string;
  service?: string[];
  group?: string;
  customer?: string;
  createTime: boolean;
  /** The field holding the heartbeat, `[heartbeat]` by default. */
  sourceField: string;
  /** Severities a heartbeat may carry (Alerta's alarm model minus the normal ones). */
  severities: readonly string[];
}

export type BuildResult = { ok: true; body: HeartbeatBody } | { ok: false; body: HeartbeatBody; reason: string };

/** The origin `alerta heartbeat` uses when none is given is `<prog>/<host>`: ours is `pipeline/<host>`. */
export const DEFAULT_ORIGIN = `pipeline/${hostname()}`;

/** Severities the `alerta heartbeat` CLI refuses: a heartbeat alert must be a non-normal one. */
export const NORMAL_SEVERITIES = ['normal', 'ok', 'cleared'];

const WHOLE = /^\s*\d+\s*$/;

export function isTemplateStatic(s: string): boolean {
  return !s.includes('%{');
}

/** Compiles every option template once; the returned function allocates one body per event. */
export function compileHeartbeatBuilder(o: HeartbeatBuilderOptions): (ev: Event) => BuildResult {
  const t = (s: string | undefined): Template | undefined => (s === undefined ? undefined : compileTemplate(s));
  const origin = t(o.origin);
  const timeout = t(o.timeout);
  const customer = t(o.customer);
  const tags = o.tags?.map((x) => compileTemplate(x));
  const attrs = Object.entries(o.attributes ?? {}).map(([k, v]) => [k, typeof v === 'string' ? compileTemplate(v) : v] as const);
  const cliAttrs: [string, Template | Template[]][] = [];
  if (o.environment !== undefined) cliAttrs.push(['environment', compileTemplate(o.environment)]);
  if (o.severity !== undefined) cliAttrs.push(['severity', compileTemplate(o.severity)]);
  if (o.service !== undefined) cliAttrs.push(['service', o.service.map((x) => compileTemplate(x))]);
  if (o.group !== undefined) cliAttrs.push(['group', compileTemplate(o.group)]);
  const source = fieldRef(o.sourceField);
  const severities = new Set(o.severities);

  return (ev) => {
    const raw = ev.get(source);
    const h = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const fields = ev.fields;
    const render = (tp: Template) => tp.render(fields);

    const body: HeartbeatBody = {
      origin: origin ? render(origin) : typeof h.origin === 'string' && h.origin !== '' ? h.origin : DEFAULT_ORIGIN,
      tags: tags ? tags.map(render) : Array.isArray(h.tags) ? h.tags.map(String) : typeof h.tags === 'string' && h.tags !== '' ? [h.tags] : [],
      attributes: {},
    };
    if (h.attributes !== null && typeof h.attributes === 'object' && !Array.isArray(h.attributes)) Object.assign(body.attributes, h.attributes);
    for (const [k, v] of attrs) body.attributes[k] = typeof v === 'object' && v !== null && 'render' in v ? render(v as Template) : v;
    for (const [k, v] of cliAttrs) body.attributes[k] = Array.isArray(v) ? v.map(render) : render(v);

    let reason: string | undefined;
    const tv: unknown = timeout ? render(timeout) : h.timeout;
    if (typeof tv === 'number' && Number.isInteger(tv) && tv >= 0) body.timeout = tv;
    else if (typeof tv === 'string' && WHOLE.test(tv)) body.timeout = Number(tv);
    else if (tv !== undefined && tv !== null) reason = `timeout '${String(tv)}' is not a whole number of seconds`;

    const cust = customer ? render(customer) : typeof h.customer === 'string' ? h.customer : undefined;
    if (cust) body.customer = cust;
    if (o.createTime) body.createTime = ev.timestamp.toISOString();

    const sev = body.attributes.severity;
    if (reason === undefined && sev !== undefined) {
      if (typeof sev !== 'string' || NORMAL_SEVERITIES.includes(sev)) reason = `severity '${String(sev)}' must be a non-normal severity (not ${NORMAL_SEVERITIES.join(', ')})`;
      else if (!severities.has(sev)) reason = `severity '${sev}' is not one of Alerta's: ${o.severities.join(', ')}`;
    }
    if (reason === undefined) for (const k of Object.keys(body.attributes)) if (k.includes('.') || k.includes('$')) reason = `attribute key '${k}' must not contain "." or "$"`;
    return reason === undefined ? { ok: true, body } : { ok: false, body, reason };
  };
}
