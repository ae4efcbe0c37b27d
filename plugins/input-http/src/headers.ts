import type { IncomingMessage } from 'node:http';
import { Event, fieldRef, getField, setField, type FieldRef, type Fields } from '@pipeline/core';

/**
 * The `[headers]` hash Logstash's http input gives each event: every request header, its name
 * lowercased with `-` turned into `_` (the last of a repeated header wins), `accept`, `host` and
 * `user_agent` renamed http_accept, http_host and http_user_agent, and request_method,
 * request_path (the request target, query included) and http_version added. Authorization is
 * never copied.
 */
const RENAMED: ReadonlyMap<string, string> = new Map([
  ['accept', 'http_accept'],
  ['host', 'http_host'],
  ['user_agent', 'http_user_agent'],
]);

/** Header names seen before, and their field names (a bounded cache: names come from clients). */
const names = new Map<string, string>();
const NAMES_MAX = 4096;

function fieldName(raw: string): string {
  let n = names.get(raw);
  if (n === undefined) {
    n = raw.toLowerCase().replaceAll('-', '_');
    n = RENAMED.get(n) ?? n;
    if (names.size < NAMES_MAX) names.set(raw, n);
  }
  return n;
}

export function requestHeaders(req: IncomingMessage): Fields {
  const h: Fields = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = fieldName(raw[i]!);
    if (name === 'authorization') continue;
    setField(h, name, raw[i + 1]!);
  }
  h.request_method = req.method ?? '';
  h.request_path = req.url ?? '';
  h.http_version = `HTTP/${req.httpVersion}`;
  return h;
}

/** `[url][domain]` and `[url][port]` from a Host header: `name:port`, `[v6]:port`, or a bare name. */
export function domainPort(host: string): [string, number | undefined] {
  const m = /^(?:([^:[\]]+)|\[(.*)\]):(\d+)$/.exec(host);
  if (m) return [m[1] ?? m[2]!, Number(m[3])];
  return [host, undefined];
}

/** Writes headers and the client address to events, in the layout `ecs_compatibility` selects. */
export class EventDecorator {
  private readonly headersRef: FieldRef;
  private readonly hostRef: FieldRef;
  private readonly ecs: boolean;
  private static readonly ECS = {
    version: fieldRef('[http][version]'),
    agent: fieldRef('[user_agent][original]'),
    domain: fieldRef('[url][domain]'),
    port: fieldRef('[url][port]'),
    method: fieldRef('[http][method]'),
    path: fieldRef('[url][path]'),
    bytes: fieldRef('[http][request][body][bytes]'),
    mime: fieldRef('[http][request][mime_type]'),
  };

  constructor(o: { ecs: boolean; headersTarget?: string; hostTarget?: string }) {
    this.ecs = o.ecs;
    this.headersRef = fieldRef(o.headersTarget ?? (o.ecs ? '[@metadata][input][http][request][headers]' : 'headers'));
    this.hostRef = fieldRef(o.hostTarget ?? (o.ecs ? '[host][ip]' : 'host'));
  }

  /** `first` says whether this is the request's first event (which gets the headers object itself). */
  apply(e: Event, headers: Fields, remote: string, first: boolean): void {
    if (this.ecs) this.ecsFields(e, headers);
    e.set(this.headersRef, first ? headers : copy(headers));
    e.set(this.hostRef, remote);
  }

  private ecsFields(e: Event, h: Fields): void {
    const f = EventDecorator.ECS;
    const str = (k: string) => {
      const v = getField(h, k);
      return typeof v === 'string' ? v : undefined;
    };
    const version = str('http_version');
    if (version !== undefined) e.set(f.version, version);
    const agent = str('http_user_agent');
    if (agent !== undefined) e.set(f.agent, agent);
    const host = str('http_host');
    if (host !== undefined) {
      const [domain, port] = domainPort(host);
      e.set(f.domain, domain);
      if (port !== undefined) e.set(f.port, port);
    }
    const method = str('request_method');
    if (method !== undefined) e.set(f.method, method);
    const path = str('request_path');
    if (path !== undefined) e.set(f.path, path);
    const bytes = str('content_length');
    if (bytes !== undefined) e.set(f.bytes, bytes);
    const mime = str('content_type');
    if (mime !== undefined) e.set(f.mime, mime);
  }
}

function copy(h: Fields): Fields {
  const out: Fields = {};
  for (const k of Object.keys(h)) setField(out, k, getField(h, k));
  return out;
}
