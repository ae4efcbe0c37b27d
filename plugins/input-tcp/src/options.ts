import { opt } from '@pipeline/core';

/**
 * The options of a listening stream input, named as Logstash's tcp input names them (the newer
 * `ssl_enabled`/`ssl_certificate`/`ssl_client_authentication` spellings are aliases). Shared with
 * the syslog input, which listens the same way.
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
