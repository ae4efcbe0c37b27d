import { availableParallelism } from 'node:os';
import { ConfigError, definePlugin, opt, type PluginContext } from '@pipeline/core';
import { additionalCodecs, contentTypesError } from './codecs.js';
import { EventDecorator } from './headers.js';
import { HttpInput, type HttpSettings } from './server.js';
import { createSecureContext } from 'node:tls';
import { CLIENT_AUTH, DEFAULT_SUITES, PROTOCOLS, protocolError, secureContextOf, suiteError, type ClientAuth, type TlsSettings } from './tls.js';

export { HttpInput, BLOCKED_MS } from './server.js';

const RESPONSE_CODES = [200, 201, 202, 204];

const options = {
  host: opt.string({ default: '0.0.0.0', description: 'Address to listen on.' }),
  port: opt.port({ min: 0, default: 8080, description: 'TCP port to listen on (0 = any free port).' }),
  user: opt.string({ description: 'User name for HTTP basic authentication (with password).' }),
  password: opt.password({ description: 'Password for HTTP basic authentication (with user).' }),
  additional_codecs: opt.codecs({
    default: { 'application/json': { name: 'json', options: {} } },
    description: "Codec by request Content-Type (its media type, parameters ignored): a codec name or block; other types use the input's codec.",
    validate: (h) => contentTypesError(h),
  }),
  response_code: opt.integer({
    default: 200,
    description: 'Status of a successful request: 200, 201, 202 or 204 (204 sends no body).',
    validate: (n) => (RESPONSE_CODES.includes(n) ? undefined : `must be one of ${RESPONSE_CODES.join(', ')}`),
  }),
  response_headers: opt.hash({
    default: { 'Content-Type': 'text/plain' },
    description: 'Headers of a successful response.',
    validate: (h) => headersError(h),
  }),
  remote_host_target_field: opt.field({ description: 'Field for the client address; default host, or [host][ip] with ECS.' }),
  request_headers_target_field: opt.field({ description: 'Field for the request headers; default headers, or [@metadata][input][http][request][headers] with ECS.' }),
  ecs_compatibility: opt.string({ default: 'disabled', values: ['disabled', 'v1', 'v8'], description: 'disabled: headers and host at the root; v1/v8: ECS fields (http, url, user_agent, host.ip).' }),
  threads: opt.integer({ min: 1, description: 'Requests that may wait for room when the queue is full, beside max_pending_requests; default: the number of CPUs.' }),
  max_pending_requests: opt.integer({ default: 200, min: 1, description: 'More requests that may wait for room in a full queue; beyond threads + this, 429 at once.' }),
  max_content_length: opt.integer({ default: 104857600, min: 1, description: 'Largest request body in bytes (after gzip/deflate decoding); a larger one gets 413.' }),
  ssl_enabled: opt.bool({ default: false, description: 'Serve HTTPS (needs ssl_certificate and ssl_key).' }),
  ssl_certificate: opt.path({ description: 'Server certificate (PEM); may hold the chain after it.' }),
  ssl_key: opt.path({ description: 'Private key of ssl_certificate (PEM: PKCS#8, PKCS#1 or SEC1, optionally encrypted).' }),
  ssl_key_passphrase: opt.password({ description: 'Passphrase of an encrypted ssl_key.' }),
  ssl_certificate_authorities: opt.strings({ default: [], description: 'CA certificates (PEM files, or directories of them) client certificates must chain to.' }),
  ssl_client_authentication: opt.string({
    default: 'none',
    values: [...CLIENT_AUTH],
    description: 'Client certificates: none; optional (asked for, checked when given); required. optional and required need ssl_certificate_authorities.',
  }),
  ssl_handshake_timeout: opt.integer({ default: 10000, min: 1, description: 'Milliseconds a TLS handshake may take.' }),
  ssl_supported_protocols: opt.strings({ default: ['TLSv1.2', 'TLSv1.3'], description: `TLS versions accepted: ${PROTOCOLS.join(', ')}.`, validate: (v) => protocolError(v) }),
  ssl_cipher_suites: opt.strings({ default: [...DEFAULT_SUITES], description: 'Cipher suites by IANA name (as Logstash), in order of preference.', validate: (v) => suiteError(v) }),
};

function headersError(h: Record<string, unknown>): string | undefined {
  for (const [k, v] of Object.entries(h)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) return `'${k}' is not a header name`;
    if (typeof v !== 'string' && typeof v !== 'number') return `the value of '${k}' must be a string`;
    if (/[\r\n\0]/.test(String(v))) return `the value of '${k}' holds a line break`;
  }
  return undefined;
}

type Options = { [K in keyof typeof options]: unknown } & Record<string, unknown>;

function tlsOf(o: Options, resolvePath: (p: string) => string): TlsSettings {
  return {
    certificate: resolvePath(o.ssl_certificate as string),
    key: resolvePath(o.ssl_key as string),
    passphrase: o.ssl_key_passphrase as string | undefined,
    authorities: (o.ssl_certificate_authorities as string[]).map((p) => resolvePath(p)),
    clientAuth: o.ssl_client_authentication as ClientAuth,
    handshakeTimeoutMs: o.ssl_handshake_timeout as number,
    suites: o.ssl_cipher_suites as string[],
    protocols: o.ssl_supported_protocols as string[],
  };
}

/** Reads the TLS files and builds a context from them, as the server will: a bad file fails at -t. */
function checkTls(t: TlsSettings): void {
  try {
    createSecureContext(secureContextOf(t));
  } catch (e) {
    throw ConfigError.forOption('ssl_certificate', `http: TLS setup failed: ${(e as Error).message}`);
  }
}

function check(o: Options): void {
  if ((o.user === undefined) !== (o.password === undefined)) throw ConfigError.forOption(o.user === undefined ? 'password' : 'user', 'http: basic authentication needs both user and password');
  if (!o.ssl_enabled) return;
  if (o.ssl_certificate !== undefined && o.ssl_key === undefined) throw ConfigError.forOption('ssl_certificate', 'http: using an ssl_certificate requires an ssl_key');
  if (o.ssl_key !== undefined && o.ssl_certificate === undefined) throw ConfigError.forOption('ssl_key', 'http: an ssl_certificate is required when using an ssl_key');
  if (o.ssl_certificate === undefined) throw ConfigError.forOption('ssl_enabled', 'http: ssl_enabled => true needs ssl_certificate and ssl_key');
  const cas = (o.ssl_certificate_authorities as string[]).length > 0;
  if (o.ssl_client_authentication !== 'none' && !cas)
    throw ConfigError.forOption('ssl_client_authentication', `http: ssl_client_authentication => ${String(o.ssl_client_authentication)} requires ssl_certificate_authorities`);
  if (o.ssl_client_authentication === 'none' && cas)
    throw ConfigError.forOption('ssl_certificate_authorities', "http: ssl_certificate_authorities requires ssl_client_authentication => 'optional' or 'required'");
}

export default definePlugin({
  kind: 'input',
  name: 'http',
  description: 'Receives events in HTTP(S) request bodies; a full queue answers 429.',
  defaultCodec: 'plain',
  codecInput: 'message',
  options,
  check(o, env) {
    check(o as Options);
    if (o.ssl_enabled) checkTls(tlsOf(o as Options, env.resolvePath));
  },
  create(o, ctx: PluginContext) {
    check(o as Options);
    const ssl = ['ssl_certificate', 'ssl_key', 'ssl_key_passphrase'].filter((k) => (o as Record<string, unknown>)[k] !== undefined);
    if (!o.ssl_enabled && (ssl.length > 0 || o.ssl_certificate_authorities.length > 0))
      ctx.logger.warn({ options: [...ssl, ...(o.ssl_certificate_authorities.length ? ['ssl_certificate_authorities'] : [])] }, 'SSL settings are not used while ssl_enabled is false');
    const tls = o.ssl_enabled ? tlsOf(o as Options, (p) => ctx.resolvePath(p)) : undefined;
    const ecs = o.ecs_compatibility !== 'disabled';
    const settings: HttpSettings = {
      host: o.host,
      port: o.port,
      authToken: o.user !== undefined ? `Basic ${Buffer.from(`${o.user}:${o.password}`).toString('base64')}` : undefined,
      responseCode: o.response_code,
      responseHeaders: Object.entries(o.response_headers).map(([k, v]) => [k, String(v)]),
      maxContentLength: o.max_content_length,
      maxHeld: (o.threads ?? availableParallelism()) + o.max_pending_requests,
      tls,
      codec: ctx.codec.create(),
      codecs: additionalCodecs(ctx),
      decorator: new EventDecorator({ ecs, headersTarget: o.request_headers_target_field, hostTarget: o.remote_host_target_field }),
    };
    return new HttpInput(settings, ctx);
  },
});
