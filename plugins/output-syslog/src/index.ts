import { closeMatches, compileTemplate, ConfigError, definePlugin, Event, opt, Timestamp, type CodecFactory, type Encoder, type PendingWrite } from '@pipeline/core';
import { CONNECT_TIMEOUT_MS, MAX_BACKOFF_MS, StreamLink, UdpSender, clientTlsOptions, resendWindowOf, resendWindowOption, tlsForEachAttempt, type ClientTlsFiles } from '@pipeline/net';
import { compileSyslog, facilityCode, facilityNames, frame, severityCode, severityNames } from './format.js';

export { compileSyslog, frame, messageText, rstrip, facilityCode, severityCode, type SyslogFormat } from './format.js';

const SSL_OPTIONS = ['ssl_certificate', 'ssl_key', 'ssl_key_passphrase', 'ssl_certificate_authorities'] as const;

/**
 * Logstash replaces a plain codec that has no `format` by one whose format is the `message` option.
 * The codec factory does not show its options, so the codec is asked to encode an event whose text
 * no format could produce by chance: a plain codec without `format` writes the event's default text
 * form (`@timestamp host message`), one with a format writes that format.
 */
export function isPlainWithoutFormat(codec: CodecFactory, encoder: Encoder): boolean {
  if (codec.name !== 'plain') return false;
  const probe = new Event({ message: '\u0000probe-message', host: '\u0000probe-host' }, new Timestamp(1));
  return encoder.encode(probe) === probe.toString();
}

export default definePlugin({
  kind: 'output',
  name: 'syslog',
  description: 'Sends events as syslog messages (RFC 3164 or RFC 5424) over UDP, TCP or TLS.',
  defaultCodec: 'plain',
  options: {
    host: opt.string({ required: true, description: 'Syslog server to send to.' }),
    port: opt.port({ required: true, description: 'Its port.' }),
    protocol: opt.string({ default: 'udp', values: ['udp', 'tcp', 'ssl-tcp'], description: 'Transport: UDP, TCP, or TLS over TCP.' }),
    rfc: opt.string({ default: 'rfc3164', values: ['rfc3164', 'rfc5424'], description: 'Message format.' }),
    framing: opt.string({
      default: 'traditional',
      values: ['traditional', 'octet-counted'],
      description:
        'TCP and TLS: `traditional` ends each message with LF (line breaks inside it are sent as `\\n`); `octet-counted` (RFC 6587) sends `LENGTH SP MESSAGE` and keeps line breaks. Not a Logstash option: rsyslog omfwd\'s TCP_Framing values.',
    }),
    facility: opt.string({ default: 'user-level', description: 'Facility label (sprintf); unknown labels fall back to user-level.' }),
    severity: opt.string({ default: 'notice', description: 'Severity label (sprintf); unknown labels fall back to notice.' }),
    use_labels: opt.bool({ default: true, description: 'Compute the priority from facility and severity; false: take it from `priority`.' }),
    priority: opt.string({ default: '%{syslog_pri}', description: 'With use_labels => false: the priority (sprintf), 0 to 191; anything else gives 13.' }),
    sourcehost: opt.string({ default: '%{host}', description: 'HOSTNAME of the message (sprintf).' }),
    appname: opt.string({ default: 'LOGSTASH', description: 'APP-NAME, the RFC 3164 tag (sprintf).' }),
    procid: opt.string({ default: '-', description: 'PROCID (sprintf).' }),
    msgid: opt.string({ default: '-', description: 'RFC 5424 MSGID (sprintf).' }),
    structured_data: opt.string({ default: '', description: 'RFC 5424 STRUCTURED-DATA, brackets included (sprintf); empty: `-`.' }),
    message: opt.string({ default: '%{message}', description: 'The message text (sprintf), when the codec is plain without a format; other codecs encode the message text themselves.' }),
    reconnect_interval: opt.number({
      default: 1,
      description: 'TCP/TLS: seconds before reconnecting after a failure; doubles with each further failure, up to 30 s (or this value, when larger).',
      validate: (n: number) => (n > 0 ? undefined : 'must be > 0'),
    }),
    resend_window_bytes: resendWindowOption,
    ssl_certificate_authorities: opt.strings({ default: [], aliases: ['ssl_cacert'], description: 'ssl-tcp: CA files (PEM) the server certificate may chain to, beside the system CAs.' }),
    ssl_certificate: opt.path({ aliases: ['ssl_cert'], description: 'ssl-tcp: client certificate (PEM), for servers that ask for one.' }),
    ssl_key: opt.path({ description: 'ssl-tcp: private key of ssl_certificate (PEM).' }),
    ssl_key_passphrase: opt.password({ description: 'Passphrase of an encrypted ssl_key.' }),
    ssl_verify: opt.bool({ default: false, description: 'ssl-tcp: check the server certificate (chain and host name); false, as in Logstash, checks nothing.' }),
  },
  check(o, env) {
    if (o.rfc === 'rfc3164' && o.structured_data !== '') throw new ConfigError('syslog: structured_data needs rfc => "rfc5424"; RFC 3164 has no structured data');
    if (o.protocol === 'udp' && o.framing !== 'traditional') throw new ConfigError('syslog: framing is for TCP and TLS; over UDP each message is one datagram');
    if (o.use_labels) {
      if (!compileTemplate(o.facility).dynamic && facilityCode(o.facility) === undefined) {
        const close = closeMatches(o.facility.toLowerCase(), facilityNames());
        throw new ConfigError(`syslog: facility '${o.facility}' is not a facility label${close.length ? ` (did you mean '${close[0]}'?)` : ''}`);
      }
      if (!compileTemplate(o.severity).dynamic && severityCode(o.severity) === undefined) {
        const close = closeMatches(o.severity.toLowerCase(), severityNames());
        throw new ConfigError(`syslog: severity '${o.severity}' is not a severity label${close.length ? ` (did you mean '${close[0]}'?)` : ''}`);
      }
    }
    if (o.protocol === 'ssl-tcp') clientTlsOptions(tlsFiles(o, env.resolvePath), o.host);
  },
  create(o, ctx) {
    const encoder = ctx.codec.create();
    const messageTemplate = isPlainWithoutFormat(ctx.codec, encoder) ? compileTemplate(o.message) : undefined;
    const messageOf = messageTemplate ? (e: Event) => messageTemplate.render(e.fields) : (e: Event) => encoder.encode(e);
    const octetCounted = o.framing === 'octet-counted';
    const format = compileSyslog({
      rfc: o.rfc as 'rfc3164' | 'rfc5424',
      facility: o.facility,
      severity: o.severity,
      use_labels: o.use_labels,
      priority: o.priority,
      sourcehost: o.sourcehost,
      appname: o.appname,
      procid: o.procid,
      msgid: o.msgid,
      structured_data: o.structured_data,
      keepNewlines: octetCounted,
    });
    if (o.protocol !== 'ssl-tcp') {
      const set = SSL_OPTIONS.filter((k) => o[k] !== undefined && !(Array.isArray(o[k]) && o[k].length === 0));
      if (set.length || o.ssl_verify) ctx.logger.warn({ options: o.ssl_verify ? [...set, 'ssl_verify'] : set, protocol: o.protocol }, "ssl_* options are not used unless protocol => 'ssl-tcp'");
    } else if (!o.ssl_verify) ctx.logger.warn({ host: o.host }, 'syslog output: ssl_verify is false, the server certificate is not checked (set ssl_verify => true)');

    if (o.protocol === 'udp') {
      const sender = new UdpSender({ host: o.host, retryCount: 0, retryBackoffMs: 0, clock: ctx.clock, logger: ctx.logger, metrics: ctx.metrics });
      return {
        receive(events) {
          const datagrams: string[] = [];
          // one message per datagram, LF-terminated as Logstash sends it
          for (const e of events) datagrams.push(format(e, messageOf(e)) + '\n');
          return sender.sendBatch(datagrams, o.port);
        },
        close: () => sender.close(),
      };
    }
    const link = new StreamLink({
      host: o.host,
      port: o.port,
      tls: o.protocol === 'ssl-tcp' ? tlsForEachAttempt(tlsFiles(o, ctx.resolvePath), o.host, ctx.logger) : undefined,
      reconnectMs: o.reconnect_interval * 1000,
      maxBackoffMs: MAX_BACKOFF_MS,
      resendWindowBytes: resendWindowOf(o.resend_window_bytes),
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      clock: ctx.clock,
      logger: ctx.logger,
      metrics: ctx.metrics,
    });
    return {
      receive(events): Promise<PendingWrite> | undefined {
        let text = '';
        for (const e of events) text += frame(format(e, messageOf(e)), octetCounted);
        return text.length === 0 ? undefined : link.send(text);
      },
      close: () => link.close(),
    };
  },
});

function tlsFiles(o: { ssl_certificate_authorities: string[]; ssl_certificate?: string; ssl_key?: string; ssl_key_passphrase?: string; ssl_verify: boolean }, resolve: (p: string) => string): ClientTlsFiles {
  return {
    cas: o.ssl_certificate_authorities.map(resolve),
    cert: o.ssl_certificate === undefined ? undefined : resolve(o.ssl_certificate),
    key: o.ssl_key === undefined ? undefined : resolve(o.ssl_key),
    passphrase: o.ssl_key_passphrase,
    verify: o.ssl_verify ? 'full' : 'none',
  };
}
