import { readFileSync } from 'node:fs';
import { ConfigError, compileTemplate, definePlugin, deliverySettings, opt } from '@pipeline/core';
import { HttpOutput } from './output.js';
import type { Format } from './request.js';

export { HttpOutput, makeRedactor } from './output.js';
export { encodeForm, formEscape, headerValue, readStored, RequestBuilder } from './request.js';
export { HttpClient } from './client.js';

const METHODS = ['put', 'post', 'patch', 'delete', 'get', 'head'];
const FORMATS = ['json', 'json_batch', 'form', 'message'];
const TLS_VERSIONS = ['TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
/** RFC 9110 token: what a header name may hold. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const statusCodes = (v: unknown[]) => {
  for (let i = 0; i < v.length; i++) {
    const n = Number(v[i]);
    if (!Number.isInteger(n) || n < 100 || n > 599) return { message: `'${String(v[i])}' is not an HTTP status code (100-599)`, item: i };
  }
  return undefined;
};

const DEFAULT_CONTENT_TYPE: Record<Format, string> = {
  json: 'application/json',
  json_batch: 'application/json',
  form: 'application/x-www-form-urlencoded',
  message: 'text/plain',
};

const options = {
  url: opt.string({ required: true, description: 'Where to send (sprintf, rendered per event; not with `json_batch`), `http://` or `https://`.' }),
  http_method: opt.string({ required: true, values: METHODS, description: 'The HTTP verb.' }),
  format: opt.string({ default: 'json', values: FORMATS, description: '`json`: the event (or `mapping`) as JSON; `json_batch`: the batch as one JSON array in one request; `form`: `key=value&...`; `message`: the `message` template.' }),
  message: opt.string({ description: 'The body with `format => message` (sprintf).' }),
  mapping: opt.hash({ description: 'The body instead of the whole event: a nested hash whose string values are sprintf templates (numbers stay numbers).' }),
  headers: opt.hash({ default: {}, description: 'Extra headers; values are sprintf templates (not with `json_batch`).' }),
  content_type: opt.string({ description: 'Content-Type; default by format: application/json, application/x-www-form-urlencoded, text/plain (message).' }),
  http_compression: opt.bool({ default: false, description: 'gzip the body (Content-Encoding: gzip).' }),
  user: opt.string({ description: 'Basic authentication user (sent with the first request); empty: none.' }),
  password: opt.password({ description: 'Basic authentication password; never logged.' }),
  ssl_certificate_authorities: opt.strings({ description: 'PEM CA files trusted for https (instead of the system store).' }),
  ssl_certificate: opt.path({ description: 'PEM client certificate for https (with `ssl_key`).' }),
  ssl_key: opt.path({ description: 'PEM private key of `ssl_certificate`.' }),
  ssl_verification_mode: opt.string({ default: 'full', values: ['full', 'none'], description: '`full` checks the server certificate and host name; `none` accepts any.' }),
  ssl_supported_protocols: opt.strings({ default: [], description: 'TLS versions allowed (TLSv1.1, TLSv1.2, TLSv1.3); empty: Node.js defaults.' }),
  retry_failed: opt.bool({ default: true, description: 'Retry `retryable_codes` answers and network errors; false dead-letters them at once.' }),
  retryable_codes: opt.array({ default: [429, 500, 502, 503, 504], validate: statusCodes, description: 'Answers that are retried.' }),
  ignorable_codes: opt.array({ validate: statusCodes, description: 'Non-2xx answers counted as delivered.' }),
  automatic_retries: opt.integer({ default: 1, min: 0, description: 'Immediate resends of a request whose connection broke before any answer (a stale keep-alive socket).' }),
  retry_non_idempotent: opt.bool({ default: false, description: 'Let `automatic_retries` resend POST and PATCH too.' }),
  connect_timeout: opt.number({ default: 10, min: 0.001, description: 'Seconds to set up the connection (TCP, and TLS for https).' }),
  socket_timeout: opt.number({ default: 10, min: 0.001, description: 'Seconds the socket may stay silent while waiting for the answer.' }),
  request_timeout: opt.number({ default: 60, min: 0.001, description: 'Seconds for the whole request and answer.' }),
  keepalive: opt.bool({ default: true, description: 'Keep connections open between requests.' }),
  pool_max: opt.integer({ default: 1, min: 1, max: 1, description: 'Connections open at once. Requests go one at a time, in order, so only 1 is accepted.' }),
  spool_path: opt.path({ description: 'Spool database; default `<path.data>/spool/http-<id>.sqlite`.' }),
  spool_max_bytes: opt.number({ default: 64 * 1024 * 1024, description: 'Spool size cap; the oldest requests beyond it are dropped (counted as `dropped`).' }),
  spool_max_age: opt.number({ default: 86_400, description: 'Seconds a request may wait; older ones are dropped (counted as `dropped`).' }),
  retry_initial_interval: opt.number({ default: 1, description: 'First retry backoff, seconds (doubles, with jitter).' }),
  retry_max_interval: opt.number({ default: 60, description: 'Backoff cap, seconds (also caps a Retry-After).' }),
  retry_max_attempts: opt.number({ default: 8, description: 'Attempts for retryable answers other than 429/502/503/504 (e.g. 500) before dead-lettering; 429, 502-504 and network errors are retried until the spool caps.' }),
};

type Opts = {
  url: string;
  format: string;
  message?: string;
  mapping?: Record<string, unknown>;
  headers: Record<string, unknown>;
  content_type?: string;
  user?: string;
  password?: string;
  ssl_certificate?: string;
  ssl_key?: string;
  ssl_supported_protocols: string[];
};

/** The rules across options, for `-t` and start alike. */
function checkOptions(o: Opts): void {
  const url = compileTemplate(o.url);
  if (!url.dynamic || o.format === 'json_batch') {
    let u: URL;
    try {
      u = new URL(o.url);
    } catch {
      throw ConfigError.forOption('url', `'${o.url}' is not a URL`, o.format === 'json_batch' && url.dynamic ? 'with json_batch the url is not a template' : undefined);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw ConfigError.forOption('url', `'${o.url}' must be an http:// or https:// URL`);
  } else if (url.staticPrefix !== '' && !/^https?:\/\//i.test(url.staticPrefix) && !'https://'.startsWith(url.staticPrefix.toLowerCase()) && !'http://'.startsWith(url.staticPrefix.toLowerCase()))
    throw ConfigError.forOption('url', `'${o.url}' must start with http:// or https://`);
  if (o.format === 'message') {
    if (o.message === undefined) throw ConfigError.forOption('format', "format => message needs the 'message' option (the body template)");
    if (o.mapping !== undefined) throw ConfigError.forOption('mapping', 'mapping is not used with format => message (the body is the message template); remove one of them');
  } else if (o.message !== undefined) throw ConfigError.forOption('message', `message is the body of format => message only; this output's format is ${o.format}`);
  for (const name of Object.keys(o.headers)) {
    if (!TOKEN.test(name)) throw ConfigError.forOption('headers', `'${name}' is not a valid header name`);
    if (name.toLowerCase() === 'content-length' || name.toLowerCase() === 'content-encoding') throw ConfigError.forOption('headers', `'${name}' is set by the output itself`);
    const v = o.headers[name];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) throw ConfigError.forOption('headers', `header '${name}' must be a string, not a hash`);
  }
  // an empty user or password (`"${NTFY_USER:}"` with the variable unset) is no credential
  const user = o.user || undefined;
  const password = o.password || undefined;
  if (user !== undefined && password === undefined) throw ConfigError.forOption('user', `user '${user}' given without a password`);
  if (password !== undefined && user === undefined) throw ConfigError.forOption('password', 'password given without a user');
  if ((o.ssl_certificate === undefined) !== (o.ssl_key === undefined)) throw ConfigError.forOption(o.ssl_certificate === undefined ? 'ssl_key' : 'ssl_certificate', 'give both ssl_certificate and ssl_key, or neither');
  for (const p of o.ssl_supported_protocols)
    if (!(TLS_VERSIONS as readonly string[]).includes(p)) throw ConfigError.forOption('ssl_supported_protocols', `'${p}' is not one of ${TLS_VERSIONS.join(', ')}`, undefined, p);
}

export default definePlugin({
  kind: 'output',
  name: 'http',
  description: 'Sends each event (or each batch, with json_batch) as an HTTP request to a web service or webhook (ntfy, Gotify, Slack, Discord, Matrix), spooled on disk and delivered in order.',
  options,
  check(o) {
    checkOptions(o);
  },
  create(o, ctx) {
    checkOptions(o);
    const format = o.format as Format;
    const read = (f: string) => readFileSync(ctx.resolvePath(f));
    const versions = o.ssl_supported_protocols.map((p) => TLS_VERSIONS.indexOf(p as (typeof TLS_VERSIONS)[number])).sort();
    return HttpOutput.open(
      {
        format,
        url: o.url,
        message: o.message,
        mapping: o.mapping,
        headers: o.headers,
        method: o.http_method,
        contentType: o.content_type ?? DEFAULT_CONTENT_TYPE[format],
        user: o.user || undefined,
        password: o.password || undefined,
        retryFailed: o.retry_failed,
        retryableCodes: o.retryable_codes.map(Number),
        ignorableCodes: (o.ignorable_codes ?? []).map(Number),
        client: {
          keepalive: o.keepalive,
          maxSockets: o.pool_max,
          connectTimeoutMs: o.connect_timeout * 1000,
          socketTimeoutMs: o.socket_timeout * 1000,
          requestTimeoutMs: o.request_timeout * 1000,
          automaticRetries: o.automatic_retries,
          retryNonIdempotent: o.retry_non_idempotent,
          compression: o.http_compression,
          tls: {
            ca: o.ssl_certificate_authorities?.map(read),
            cert: o.ssl_certificate !== undefined ? read(o.ssl_certificate) : undefined,
            key: o.ssl_key !== undefined ? read(o.ssl_key) : undefined,
            rejectUnauthorized: o.ssl_verification_mode === 'full',
            minVersion: versions.length ? TLS_VERSIONS[versions[0]!] : undefined,
            maxVersion: versions.length ? TLS_VERSIONS[versions[versions.length - 1]!] : undefined,
          },
        },
        ...deliverySettings(o),
      },
      ctx,
    );
  },
});
