import { opt, type InputSink, type PluginContext } from '@pipeline/core';
import type { Peer } from './listener.js';
import type { PeerNames } from './peer-names.js';
import { StreamServer, type ConnectionHandler } from './stream-server.js';
import type { TlsFiles } from './tls-files.js';
import { tlsTuningOf } from './tls-params.js';

/**
 * The options of a listening stream input, named as Logstash's tcp input names them (the newer
 * `ssl_enabled`/`ssl_certificate`/`ssl_client_authentication` spellings are aliases). Used by
 * every input that listens the same way (tcp, syslog, relp).
 */
export const clientAuthValues = ['none', 'optional', 'required'] as const;
export type ClientAuth = (typeof clientAuthValues)[number];

export const listenOptions = {
  host: opt.string({ default: '0.0.0.0', description: 'Address to listen on.' }),
  mode: opt.string({ default: 'server', values: ['server'], description: "Only 'server' (Logstash's client mode is not supported)." }),
  ssl_enable: opt.bool({ default: false, aliases: ['ssl_enabled'], description: 'Accept TLS instead of plain TCP.' }),
  ssl_cert: opt.path({ aliases: ['ssl_certificate'], description: 'Server certificate (PEM); may hold the chain.' }),
  ssl_key: opt.path({ description: 'Private key of the certificate (PEM, PKCS#1 or PKCS#8, optionally encrypted).' }),
  ssl_key_passphrase: opt.password({ description: 'Passphrase of an encrypted ssl_key.' }),
  ssl_extra_chain_certs: opt.strings({ default: [], description: 'Intermediate certificates sent after ssl_cert.' }),
  ssl_certificate_authorities: opt.strings({ default: [], description: 'CA certificates (PEM files) that client certificates must chain to.' }),
  ssl_verify: opt.any({
    default: true,
    aliases: ['ssl_client_authentication'],
    description:
      'Client certificates: true (= required when ssl_certificate_authorities is set, as in Logstash), false (= none), or none/optional/required.',
    validate: (v) => (clientAuthOf(v, true) === undefined ? `expects true, false, none, optional or required, got ${JSON.stringify(v)}` : undefined),
  }),
  max_line_bytes: opt.number({
    default: 65536,
    description: 'Longest frame kept; the rest of a longer line is discarded and counted (oversize_lines).',
    validate: (n) => (Number.isInteger(n) && n >= 16 ? undefined : 'must be an integer >= 16'),
  }),
  max_connections: opt.number({
    default: 4096,
    description: 'Connections served at once; more are closed at accept and counted (connections_refused).',
    validate: (n) => (Number.isInteger(n) && n >= 1 ? undefined : 'must be an integer >= 1'),
  }),
  idle_timeout: opt.number({
    default: 3600,
    description: 'Seconds without data after which a connection is closed (0 = never).',
    validate: (n) => (n >= 0 ? undefined : 'must be >= 0'),
  }),
  tcp_keep_alive: opt.bool({ default: false, description: 'Enable TCP keep-alive probes on accepted sockets.' }),
};

/** Maps the ssl_verify / ssl_client_authentication value to the client-auth mode. */
export function clientAuthOf(v: unknown, haveCAs: boolean): ClientAuth | undefined {
  if (v === true || v === 'true') return haveCAs ? 'required' : 'none';
  if (v === false || v === 'false') return 'none';
  return typeof v === 'string' && (clientAuthValues as readonly string[]).includes(v) ? (v as ClientAuth) : undefined;
}

export interface ListenSettings {
  host: string;
  port: number;
  mode: string;
  ssl_enable: boolean;
  ssl_cert?: string;
  ssl_key?: string;
  ssl_key_passphrase?: string;
  ssl_extra_chain_certs: string[];
  ssl_certificate_authorities: string[];
  ssl_verify: unknown;
  max_line_bytes: number;
  max_connections: number;
  idle_timeout: number;
  tcp_keep_alive: boolean;
  /** tlsTuningOptions, for the inputs that take them. */
  ssl_cipher_suites?: string[];
  ssl_supported_protocols?: string[];
}

/** TLS files from the options, or undefined for plain TCP; throws on an incomplete TLS setup. */
export function tlsFilesOf(o: ListenSettings, ctx: PluginContext): TlsFiles | undefined {
  if (!o.ssl_enable) return undefined;
  if (!o.ssl_cert || !o.ssl_key) throw new Error('ssl_enable => true needs ssl_cert and ssl_key');
  const cas = o.ssl_certificate_authorities.map((p) => ctx.resolvePath(p));
  const clientAuth = clientAuthOf(o.ssl_verify, cas.length > 0)!;
  if (clientAuth !== 'none' && cas.length === 0) throw new Error(`client certificates (${clientAuth}) need ssl_certificate_authorities`);
  return {
    cert: ctx.resolvePath(o.ssl_cert),
    key: ctx.resolvePath(o.ssl_key),
    passphrase: o.ssl_key_passphrase,
    extraChain: o.ssl_extra_chain_certs.map((p) => ctx.resolvePath(p)),
    cas,
    clientAuth,
    tuning: tlsTuningOf(o),
  };
}

/** A stream server from the listen options; `open` decides what a connection's bytes mean. */
export function streamServerOf(o: ListenSettings, ctx: PluginContext, open: (peer: Peer, sink: InputSink) => ConnectionHandler, names?: PeerNames): StreamServer {
  return new StreamServer({
    host: o.host,
    port: o.port,
    tls: tlsFilesOf(o, ctx),
    maxConnections: o.max_connections,
    idleTimeoutMs: o.idle_timeout * 1000,
    keepAlive: o.tcp_keep_alive,
    logger: ctx.logger,
    metrics: ctx.metrics,
    clock: ctx.clock,
    open,
    names,
  });
}
