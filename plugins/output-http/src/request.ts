import { compileTemplate, setField, valueToString, type Event, type Fields, type Template } from '@pipeline/core';

/**
 * Builds what one event (or, with json_batch, one batch) becomes: the request body, and the URL
 * and header values when they are templates. Everything is compiled once, at load.
 *
 * The spooled payload is the body behind a `=` when neither the URL nor a header depends on the
 * event (the usual case: nothing to parse when it is sent), otherwise a JSON object
 * `{"u": url?, "h": {header: value}?, "b": body}` holding only what was rendered per event.
 * Static headers, the Content-Type and the credentials are added when the request is sent, so no
 * secret from the config is ever written to the spool.
 */
export type Format = 'json' | 'json_batch' | 'form' | 'message';

export interface RequestBuilderOptions {
  format: Format;
  url: string;
  message?: string;
  mapping?: Record<string, unknown>;
  headers: Record<string, unknown>;
}

/** A spooled request, as the sender reads it back. */
export interface StoredRequest {
  url?: string;
  headers?: Record<string, string>;
  body: string;
}

type Node = { t: 'tmpl'; tmpl: Template } | { t: 'const'; v: unknown } | { t: 'obj'; entries: [string, Node][] } | { t: 'arr'; items: Node[] };

function compileNode(v: unknown, keys: Set<string>): Node {
  if (typeof v === 'string') {
    const tmpl = compileTemplate(v);
    for (const k of tmpl.keys) keys.add(k);
    return tmpl.dynamic ? { t: 'tmpl', tmpl } : { t: 'const', v };
  }
  if (Array.isArray(v)) return { t: 'arr', items: v.map((x) => compileNode(x, keys)) };
  if (v !== null && typeof v === 'object') return { t: 'obj', entries: Object.keys(v).map((k) => [k, compileNode((v as Record<string, unknown>)[k], keys)]) };
  // numbers stay numbers (Logstash makes them strings): Gotify's priority must be an integer
  return { t: 'const', v };
}

function render(n: Node, f: Fields): unknown {
  switch (n.t) {
    case 'tmpl':
      return n.tmpl.render(f);
    case 'const':
      return n.v;
    case 'arr':
      return n.items.map((x) => render(x, f));
    case 'obj': {
      const out: Record<string, unknown> = {};
      for (const [k, x] of n.entries) setField(out, k, render(x, f));
      return out;
    }
  }
}

/** CGI.escape, as Logstash's form format uses: unreserved a-z A-Z 0-9 _ . - ~ kept, space as +. */
export function formEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** `key=value&...` of a flat object; values as in a template (objects as JSON, arrays joined by ","). */
export function encodeForm(obj: Fields): string {
  let out = '';
  for (const k of Object.keys(obj)) {
    if (k === '@metadata') continue;
    const v = obj[k];
    if (out !== '') out += '&';
    out += `${formEscape(k)}=${formEscape(v === null || v === undefined ? '' : valueToString(v))}`;
  }
  return out;
}

/**
 * A header value as it can go on the wire: control characters (a line break from a log line
 * would end the header) become spaces, and text beyond Latin-1 is sent as its UTF-8 bytes, as
 * curl sends it (ntfy and most servers read header values as UTF-8).
 */
export function headerValue(v: string): string {
  // eslint-disable-next-line no-control-regex
  let s = /[\x00-\x08\x0a-\x1f\x7f]/.test(v) ? v.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' ') : v;
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(s)) s = Buffer.from(s, 'utf8').toString('latin1');
  return s;
}

export class RequestBuilder {
  private readonly urlTmpl: Template;
  private readonly dynamicHeaders: [string, Template][] = [];
  /** Header values that are the same for every request (as the config gives them). */
  readonly staticHeaders: Record<string, string> = {};
  private readonly mapping: Node | undefined;
  private readonly keys: string[];
  private readonly message: Template | undefined;
  /** True when the spooled payload is the bare body. */
  readonly bare: boolean;

  constructor(private readonly o: RequestBuilderOptions) {
    const keys = new Set<string>();
    const batch = o.format === 'json_batch';
    // as Logstash: with json_batch the URL and headers are not rendered per event
    this.urlTmpl = compileTemplate(o.url);
    for (const name of Object.keys(o.headers)) {
      const raw = o.headers[name];
      const value = Array.isArray(raw) ? raw.map((x) => valueToString(x)).join(',') : valueToString(raw);
      const tmpl = compileTemplate(value);
      if (tmpl.dynamic && !batch) {
        this.dynamicHeaders.push([name, tmpl]);
        for (const k of tmpl.keys) keys.add(k);
      } else setField(this.staticHeaders, name, headerValue(value));
    }
    for (const k of this.urlTmpl.keys) keys.add(k);
    if (o.format === 'message') {
      this.message = compileTemplate(o.message ?? '');
      for (const k of this.message.keys) keys.add(k);
    } else if (o.mapping !== undefined) this.mapping = compileNode(o.mapping, keys);
    this.keys = [...keys];
    this.bare = batch || (!this.urlTmpl.dynamic && this.dynamicHeaders.length === 0);
  }

  /** The body of one event (json, form, message). */
  private bodyOf(ev: Event, f: Fields): string {
    switch (this.o.format) {
      case 'message':
        return this.message!.render(f);
      case 'form':
        return encodeForm(this.mapping ? (render(this.mapping, f) as Fields) : ev.toJSON());
      default:
        return this.mapping ? JSON.stringify(render(this.mapping, f)) : ev.json();
    }
  }

  /** The spool payloads for a batch: one per event, or one for all of it with json_batch. */
  payloads(events: readonly Event[]): string[] {
    if (this.o.format === 'json_batch') {
      let body = '[';
      for (let i = 0; i < events.length; i++) {
        const ev = events[i]!;
        if (i > 0) body += ',';
        body += this.mapping ? JSON.stringify(render(this.mapping, ev.fieldsForKeys(this.keys))) : ev.json();
      }
      return events.length === 0 ? [] : [`=${body}]`];
    }
    const out: string[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      const f = this.keys.length > 0 ? ev.fieldsForKeys(this.keys) : (undefined as unknown as Fields);
      const body = this.bodyOf(ev, f);
      if (this.bare) {
        out[i] = `=${body}`;
        continue;
      }
      const stored: { u?: string; h?: Record<string, string>; b: string } = { b: body };
      if (this.urlTmpl.dynamic) stored.u = this.urlTmpl.render(f);
      if (this.dynamicHeaders.length > 0) {
        const h: Record<string, string> = {};
        for (const [name, tmpl] of this.dynamicHeaders) setField(h, name, headerValue(tmpl.render(f)));
        stored.h = h;
      }
      out[i] = JSON.stringify(stored);
    }
    return out;
  }
}

/** Reads a spooled payload back. */
export function readStored(payload: string): StoredRequest {
  if (payload.startsWith('=')) return { body: payload.slice(1) };
  const j = JSON.parse(payload) as { u?: string; h?: Record<string, string>; b: string };
  return { url: j.u, headers: j.h, body: j.b };
}
