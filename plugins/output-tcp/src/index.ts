import { ConfigError, definePlugin, opt, type Event, type PluginContext } from '@pipeline/core';
import {
  CONNECT_TIMEOUT_MS,
  MAX_BACKOFF_MS,
  StreamLink,
  clientTlsOptions,
  resendWindowOf,
  resendWindowOption,
  tlsForEachAttempt,
  type ClientTlsFiles,
} from '@pipeline/net';
import { BroadcastServer } from './server.js';
import { serverTlsOptions, type ClientAuthentication } from './server-tls.js';

function verificationOf(v: unknown): 'full' | 'none' | undefined {
  if (v === true || v === 'true' || v === 'full') return 'full';
  if (v === false || v === 'false' || v === 'none') return 'none';
  return undefined;
}

const SSL_OPTIONS = ['ssl_certificate', 'ssl_key', 'ssl_key_passphrase', 'ssl_certificate_authorities', 'ssl_verification_mode', 'ssl_client_authentication'] as const;

export default definePlugin({
  kind: 'output',
  name: 'tcp',
  description: 'Writes events to a TCP or TLS server (or, in server mode, to every connected client), encoded by a codec.',
  defaultCodec: 'json',
  options: {
    host: opt.string({ required: true, description: 'client: the address to connect to; server: the address to listen on.' }),
    port: opt.port({ required: true, min: 0, description: 'client: the port to connect to; server: the port to listen on (0 = any free port).' }),
    mode: opt.string({ default: 'client', values: ['client', 'server'], description: '`client` connects to a server; `server` listens and writes to every connected client.' }),
    reconnect_interval: opt.number({
      default: 10,
      description: 'Seconds before reconnecting after a failure; doubles with each further failure, up to 30 s (or this value, when larger).',
      validate: (n: number) => (n > 0 ? undefined : 'must be > 0'),
    }),
    resend_window_bytes: resendWindowOption,
    ssl_enabled: opt.bool({ default: false, aliases: ['ssl_enable'], description: 'TLS instead of plain TCP.' }),
    ssl_certificate: opt.path({ aliases: ['ssl_cert'], description: 'client: certificate presented to servers that ask for one; server: the server certificate (required). PEM.' }),
    ssl_key: opt.path({ description: 'Private key of ssl_certificate (PEM).' }),
    ssl_key_passphrase: opt.password({ description: 'Passphrase of an encrypted ssl_key.' }),
    ssl_certificate_authorities: opt.strings({
      default: [],
      aliases: ['ssl_cacert'],
      description: 'CA files (PEM). client: the server certificate must chain to one of them or to a system CA; server: client certificates must chain to them.',
    }),
    ssl_verification_mode: opt.any({
      aliases: ['ssl_verify'],
      description: 'client: `full` (default: chain and host name) or `none` (no check); `ssl_verify => true/false` means full/none.',
      validate: (v: unknown) => (verificationOf(v) === undefined ? `expects full or none (or true/false), got ${JSON.stringify(v)}` : undefined),
    }),
    ssl_client_authentication: opt.string({ values: ['none', 'optional', 'required'], description: 'server: ask clients for a certificate (`optional`, `required`) or not (`none`, the default).' }),
  },
  check(o, env) {
    if (o.mode === 'client' && o.port === 0) throw new ConfigError('tcp: port 0 is only for mode => "server"; a client needs the server\'s port');
    if (!o.ssl_enabled) return;
    if ((o.ssl_certificate === undefined) !== (o.ssl_key === undefined)) throw new ConfigError('tcp: ssl_certificate and ssl_key go together');
    if (o.mode === 'client') {
      if (o.ssl_client_authentication !== undefined) throw new ConfigError('tcp: ssl_client_authentication is for mode => "server"; a client checks the server with ssl_verification_mode');
      clientTlsOptions(clientFiles(o, env.resolvePath), o.host);
    } else {
      if (o.ssl_verification_mode !== undefined) throw new ConfigError('tcp: ssl_verification_mode is for mode => "client"; a server asks for client certificates with ssl_client_authentication');
      if (o.ssl_certificate === undefined) throw new ConfigError('tcp: mode => "server" with ssl_enabled needs ssl_certificate and ssl_key');
      if ((o.ssl_client_authentication ?? 'none') !== 'none' && o.ssl_certificate_authorities.length === 0)
        throw new ConfigError(`tcp: ssl_client_authentication => "${o.ssl_client_authentication}" needs ssl_certificate_authorities`);
      serverTlsOptions(serverFiles(o, env.resolvePath));
    }
  },
  async create(o, ctx) {
    warnUnusedSsl(o, ctx);
    const encoder = ctx.codec.create();
    const encode = (events: readonly Event[]) => {
      let text = '';
      for (const e of events) text += encoder.encode(e);
      return text;
    };
    if (o.mode === 'server') {
      const server = new BroadcastServer({
        host: o.host,
        port: o.port,
        tls: o.ssl_enabled ? serverTlsOptions(serverFiles(o, ctx.resolvePath)) : undefined,
        logger: ctx.logger,
        metrics: ctx.metrics,
      });
      await server.listen();
      return {
        receive(events) {
          const text = encode(events);
          return text.length === 0 ? undefined : server.send(text);
        },
        close: () => server.close(),
      };
    }
    const link = new StreamLink({
      host: o.host,
      port: o.port,
      tls: o.ssl_enabled ? tlsForEachAttempt(clientFiles(o, ctx.resolvePath), o.host, ctx.logger) : undefined,
      reconnectMs: o.reconnect_interval * 1000,
      maxBackoffMs: MAX_BACKOFF_MS,
      resendWindowBytes: resendWindowOf(o.resend_window_bytes),
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      clock: ctx.clock,
      logger: ctx.logger,
      metrics: ctx.metrics,
    });
    return {
      receive(events) {
        const text = encode(events);
        return text.length === 0 ? undefined : link.send(text);
      },
      close: () => link.close(),
    };
  },
});

interface SslSettings {
  ssl_enabled: boolean;
  ssl_certificate?: string;
  ssl_key?: string;
  ssl_key_passphrase?: string;
  ssl_certificate_authorities: string[];
  ssl_verification_mode?: unknown;
  ssl_client_authentication?: string;
}

function clientFiles(o: SslSettings, resolve: (p: string) => string): ClientTlsFiles {
  return {
    cas: o.ssl_certificate_authorities.map(resolve),
    cert: o.ssl_certificate === undefined ? undefined : resolve(o.ssl_certificate),
    key: o.ssl_key === undefined ? undefined : resolve(o.ssl_key),
    passphrase: o.ssl_key_passphrase,
    verify: verificationOf(o.ssl_verification_mode ?? 'full')!,
  };
}

function serverFiles(o: SslSettings, resolve: (p: string) => string) {
  return {
    cert: resolve(o.ssl_certificate!),
    key: resolve(o.ssl_key!),
    passphrase: o.ssl_key_passphrase,
    cas: o.ssl_certificate_authorities.map(resolve),
    clientAuth: (o.ssl_client_authentication ?? 'none') as ClientAuthentication,
  };
}

/** As Logstash: ssl_* settings without ssl_enabled are logged as unused. */
function warnUnusedSsl(o: SslSettings, ctx: PluginContext): void {
  if (o.ssl_enabled) return;
  const set = SSL_OPTIONS.filter((k) => {
    const v = o[k];
    return v !== undefined && !(Array.isArray(v) && v.length === 0);
  });
  if (set.length) ctx.logger.warn({ options: set }, 'ssl_* options are not used without ssl_enabled => true');
}
