import { ConfigError, definePlugin, opt, deliverySettings } from '@pipeline/core';
import { EmailOutput } from './output.js';

export { EmailOutput } from './output.js';
export { headerValue, addressList } from './header.js';

const template = (what: string, def?: string) => opt.string({ ...(def !== undefined ? { default: def } : {}), description: `${what} (sprintf).` });

export default definePlugin({
  kind: 'output',
  name: 'email',
  description: 'Sends a mail per event (or a digest of several) through an SMTP relay, spooled on disk while the relay is down; throttled.',
  options: {
    address: opt.string({ default: 'localhost', description: 'SMTP relay host.' }),
    port: opt.port({ default: 25, description: 'SMTP relay port.' }),
    use_tls: opt.bool({ default: false, description: 'Implicit TLS from the first byte (SMTPS, usually port 465). Without it, STARTTLS is used as `starttls` says.' }),
    starttls: opt.string({ default: 'auto', values: ['auto', 'required', 'never'], description: 'auto: upgrade with STARTTLS when the relay offers it; required: never send in clear; never: do not upgrade.' }),
    username: opt.string({ default: '', description: 'SMTP AUTH user; empty: no authentication.' }),
    password: opt.password({ default: '', description: 'SMTP AUTH password; never logged.' }),
    authentication: opt.string({ values: ['plain', 'login', 'cram-md5', 'PLAIN', 'LOGIN', 'CRAM-MD5'], description: 'SASL mechanism; unset: the first the relay offers.' }),
    domain: opt.string({ description: 'Name sent in EHLO/HELO; default: this host name.' }),
    from: template('Sender address', 'pipeline@localhost'),
    to: template('Recipients, separated by commas'),
    cc: template('Cc recipients, separated by commas'),
    bcc: template('Bcc recipients, separated by commas'),
    replyto: template('Reply-To addresses'),
    subject: template('Subject', ''),
    body: template('Plain text body', ''),
    htmlbody: template('HTML body, sent as an alternative to `body`'),
    contenttype: opt.string({ default: 'text/html; charset=UTF-8', description: 'Content type of the `htmlbody` part.' }),
    ssl_certificate_authorities: opt.strings({ aliases: ['cacert'], description: 'PEM CA files trusted for the relay (self-signed relays).' }),
    ssl_verification_mode: opt.string({ default: 'full', values: ['full', 'none'], description: 'none accepts any relay certificate.' }),
    timeout: opt.number({ default: 30, description: 'Seconds to wait for the relay (connect, greeting, each answer).' }),
    throttle_count: opt.number({ default: 0, description: 'At most this many mails per `throttle_period` per throttle key; 0: no limit. Mails over it are held back, counted (`throttled`) and listed in the next mail of their key; with a digest, the digest waits instead.' }),
    throttle_period: opt.number({ default: 3600, description: 'Throttle period, seconds (a sliding window).' }),
    throttle_key: opt.string({ description: 'What mails count together (sprintf); default: the rendered subject. Always also per sender and recipients.' }),
    throttle_exempt: opt.strings({ default: ['critical'], description: 'Severities (the `severity_field` value, any case) never throttled and not counted against the allowance; [] throttles every mail.' }),
    severity_field: opt.field({ default: '[alert][severity]', description: "Field holding an event's severity, for `throttle_exempt`." }),
    digest_window: opt.number({ default: 0, description: 'Seconds: events arriving within this window after the first are sent as one mail listing them; 0: a mail per event.' }),
    digest_key: opt.string({ description: 'What events share a digest (sprintf); default: the rendered subject. Always also per sender and recipients.' }),
    digest_max_events: opt.number({ default: 100, description: 'A digest holding this many events is sent at once.' }),
    volatile_fields: opt.strings({ default: ['@metadata'], description: 'Top-level fields left out of the idempotency key (they change when the same event is delivered again).' }),
    dedup_window: opt.number({ default: 86_400, description: 'Seconds a sent mail is remembered, so the same event delivered again is not mailed twice.' }),
    spool_path: opt.path({ description: 'Spool database; default `<path.data>/spool/email-<id>.sqlite`.' }),
    spool_max_bytes: opt.number({ default: 16 * 1024 * 1024, description: 'Spool size cap; the oldest mails beyond it are dropped (counted as `dropped`).' }),
    spool_max_age: opt.number({ default: 86_400, description: 'Seconds a mail may wait for the relay; older ones are dropped (counted as `dropped`).' }),
    retry_initial_interval: opt.number({ default: 1, description: 'First retry backoff, seconds (doubles, with jitter).' }),
    retry_max_interval: opt.number({ default: 300, description: 'Backoff cap, seconds.' }),
    retry_max_attempts: opt.number({ default: 10, description: 'Attempts for SMTP 4xx answers before dead-lettering (an unreachable relay is retried until the spool caps; 5xx are dead-lettered at once).' }),
  },
  check(o) {
    if (o.to === undefined && o.cc === undefined && o.bcc === undefined) throw new ConfigError('email: set at least one of to, cc, bcc');
    if (o.port < 1 || o.port > 65535 || !Number.isInteger(o.port)) throw new ConfigError(`email: port ${o.port} is not a TCP port`);
    if (o.use_tls && o.starttls === 'required') throw new ConfigError('email: use_tls (implicit TLS) and starttls => required exclude each other');
    if (o.throttle_count < 0 || !Number.isInteger(o.throttle_count)) throw new ConfigError('email: throttle_count must be a whole number >= 0');
    if (o.throttle_count > 0 && !(o.throttle_period > 0)) throw new ConfigError('email: throttle_period must be > 0');
    if (o.digest_window < 0) throw new ConfigError('email: digest_window must be >= 0');
    if (o.digest_max_events < 1) throw new ConfigError('email: digest_max_events must be >= 1');
    if (o.password && !o.username) throw new ConfigError('email: password set without username');
  },
  create(o, ctx) {
    return EmailOutput.open(
      {
        host: o.address,
        port: o.port,
        implicitTls: o.use_tls,
        starttls: o.starttls as 'auto' | 'required' | 'never',
        username: o.username || undefined,
        password: o.password || undefined,
        authMethod: o.authentication,
        domain: o.domain,
        caFiles: o.ssl_certificate_authorities,
        verifyTls: o.ssl_verification_mode === 'full',
        timeoutMs: o.timeout * 1000,
        from: o.from ?? 'pipeline@localhost',
        to: o.to ?? '',
        cc: o.cc,
        bcc: o.bcc,
        replyto: o.replyto,
        subject: o.subject ?? '',
        body: o.body ?? '',
        htmlbody: o.htmlbody,
        contentType: o.contenttype,
        throttleCount: o.throttle_count,
        throttlePeriodMs: o.throttle_period * 1000,
        throttleKey: o.throttle_key,
        severityField: o.severity_field,
        throttleExempt: o.throttle_exempt,
        digestWindowMs: o.digest_window * 1000,
        digestKey: o.digest_key,
        digestMaxEvents: o.digest_max_events,
        volatileFields: o.volatile_fields,
        dedupWindowMs: o.dedup_window * 1000,
        ...deliverySettings(o),
      },
      ctx,
    );
  },
});
